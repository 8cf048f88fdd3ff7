import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from 'commander';
import { accessMap, cdrMap, checkCdrMap, columnFields, familyMap, parseMapPairs } from '../../src/cli/args.js';

// --map is field=column on export, watermark, logs import and ingest cdr; column=field, the old
// order of export and watermark, is read when only its right side is a field name, with a warning.

let warnings: string[] = [];
const write = process.stderr.write;
beforeEach(() => {
  warnings = [];
  process.stderr.write = ((chunk: string) => {
    warnings.push(chunk);
    return true;
  }) as typeof process.stderr.write;
});
afterEach(() => {
  process.stderr.write = write;
});

describe('parseMapPairs', () => {
  const fields = ['ts', 'user', 'action'];
  it('reads field=column, comma-separated, trimmed', () => {
    expect(parseMapPairs(' ts=event_time , user=Operator ID', fields, 'ts=x')).toEqual([
      { field: 'ts', column: 'event_time', reversed: false },
      { field: 'user', column: 'Operator ID', reversed: false },
    ]);
  });
  it('reads column=field when only the right side is a field, and a column named as its field', () => {
    expect(parseMapPairs('event_time=ts,user=user', fields, 'ts=x')).toEqual([
      { field: 'ts', column: 'event_time', reversed: true },
      { field: 'user', column: 'user', reversed: false },
    ]);
  });
  it.each([
    ['user=ts', /user and ts are both field names, so which one is the column is unclear/],
    ['when=event_time', /"when" is not a field \(write field=column; fields: ts, user, action\)/],
    ['ts', /write field=column, e\.g\. ts=x/],
    ['=x', /write field=column/],
    ['ts=', /write field=column/],
    ['ts=a,,user=b', /has an empty pair/],
    [' , ', /--map is empty/],
  ])('refuses %s', (text, message) => {
    expect(() => parseMapPairs(text, fields, 'ts=x')).toThrow(InvalidArgumentError);
    expect(() => parseMapPairs(text, fields, 'ts=x')).toThrow(message);
  });
});

describe('the commands’ --map parsers', () => {
  it('export and watermark: field → column, repeatable, turned round for the export code; the old order warns', () => {
    const map = familyMap('联系电话=mother.phone', familyMap('mother.name=母亲姓名'));
    expect(map).toEqual({ 'mother.name': '母亲姓名', 'mother.phone': '联系电话' });
    expect(columnFields(map)).toEqual({ 母亲姓名: 'mother.name', 联系电话: 'mother.phone' });
    expect(warnings).toEqual(['cradle: warning: --map 联系电话=mother.phone is the old column=field order; write --map mother.phone=联系电话\n']);
    expect(() => familyMap('mother.phone=电话', map)).toThrow('mother.phone is mapped twice');
    expect(() => familyMap('father.phone=联系电话', map)).toThrow('column "联系电话" is given two fields');
    expect(() => familyMap('mother.name=mother.phone')).toThrow(/both field names/);
    expect(() => familyMap('mother.fone=电话')).toThrow(/"mother\.fone" is not a field/);
  });
  it('logs import: the access fields, checked as before', () => {
    expect(accessMap('record=patient_id', accessMap('ts=event_time,operator=user'))).toEqual({ ts: 'event_time', user: 'operator', record: 'patient_id' });
    expect(warnings).toEqual(['cradle: warning: --map operator=user is the old column=field order; write --map user=operator\n']);
    expect(() => accessMap('ts=b', { ts: 'a' })).toThrow('ts is mapped twice');
  });
  it('ingest cdr: src, dst and start required once every --map is read', () => {
    const map = cdrMap('Called=dst,start=Time', cdrMap('src=Caller'));
    expect(checkCdrMap(map)).toEqual({ src: 'Caller', dst: 'Called', start: 'Time' });
    expect(warnings).toHaveLength(1);
    expect(() => checkCdrMap(cdrMap('src=Caller'))).toThrow('the map needs dst=<column>, start=<column>');
    expect(() => cdrMap('dst=src')).toThrow(/both field names/);
  });
});
