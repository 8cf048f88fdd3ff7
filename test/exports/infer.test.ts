import { describe, expect, it } from '@jest/globals';
import { fieldOfHeader, inferColumns, inferDateFormat, inferPhoneStyle, inferSexMap, inferWeightUnit, looksLikeData, phoneShape } from '../../src/exports/infer.js';

const fields = (cols: ReturnType<typeof inferColumns>) => Object.fromEntries(cols.map((c) => [c.name, c.value?.field ?? null]));

describe('header names', () => {
  it('reads Chinese and English names', () => {
    expect(fieldOfHeader('产妇姓名')).toBe('mother.name');
    expect(fieldOfHeader('妈妈')).toBe('mother.name');
    expect(fieldOfHeader('丈夫')).toBe('father.name');
    expect(fieldOfHeader('丈夫电话')).toBe('father.phone');
    expect(fieldOfHeader('手机号')).toBe('mother.phone');
    expect(fieldOfHeader('Mobile')).toBe('mother.phone');
    expect(fieldOfHeader('新生儿姓名')).toBe('baby.name');
    expect(fieldOfHeader('宝宝生日')).toBe('baby.birthTime');
    expect(fieldOfHeader('出生体重')).toBe('baby.weight');
    expect(fieldOfHeader('性别')).toBe('baby.sex');
    expect(fieldOfHeader('病区')).toBe('ward');
    expect(fieldOfHeader('家庭住址')).toBe('address');
    expect(fieldOfHeader('区县')).toBe('district');
    expect(fieldOfHeader('邮箱')).toBe('mother.email');
    expect(fieldOfHeader('出院日期')).toBe('dischargedAt');
    expect(fieldOfHeader('Admission Date')).toBe('admittedAt');
    expect(fieldOfHeader('Mother DOB')).toBe('mother.birthDate');
    expect(fieldOfHeader('备注')).toBeNull();
  });

  it('infers a Chinese file: fields and formats', () => {
    const header = ['序号', '产妇姓名', '联系电话', '丈夫', '新生儿性别', '出生时间', '出生体重', '科室'];
    const rows = [
      ['1', '王芳', '138-1234-5678', '李强', '男', '2026/11/03 08:15', '3250', '产科一病区'],
      ['2', '陈静', '139-8765-4321', '张伟', '女', '2026/11/04 21:40', '2980', 'NICU'],
      ['3', '刘洋', '137-0000-1111', '', '女', '2026/11/05 02:05', '3410', '产科二病区'],
    ];
    const cols = inferColumns(header, rows);
    expect(fields(cols)).toEqual({ 序号: null, 产妇姓名: 'mother.name', 联系电话: 'mother.phone', 丈夫: 'father.name', 新生儿性别: 'baby.sex', 出生时间: 'baby.birthTime', 出生体重: 'baby.weightGrams', 科室: 'ward' });
    expect(cols[2].value?.phone).toBe('###-####-####');
    expect(cols[4].value?.map).toEqual({ female: '女', male: '男' });
    expect(cols[5].value?.format).toBe('yyyy/MM/dd HH:mm');
    expect(cols.every((c) => (c.value ? c.by === 'header' : c.by === null))).toBe(true);
  });

  it('infers an English file, --map first, kg weights and ISO instants', () => {
    const header = ['Mother', 'Tel', 'Gender', 'Born', 'Weight', 'note'];
    const rows = [
      ['Jane Roe', '+86 138 1234 5678', 'F', '2026-11-03T08:15:00Z', '3.25', '13912345678'],
      ['Ann Poe', '+86 139 8765 4321', 'F', '2026-11-04T21:40:00Z', '2.98', '13712345678'],
    ];
    const cols = inferColumns(header, rows, { overrides: { note: 'father.phone' } });
    expect(fields(cols)).toEqual({ Mother: 'mother.name', Tel: 'mother.phone', Gender: 'baby.sex', Born: 'baby.birthTime', Weight: 'baby.weightKg', note: 'father.phone' });
    expect(cols[1].value?.phone).toBe('+86 ### #### ####');
    expect(cols[2].value?.map).toEqual({ female: 'F', male: 'M' });
    expect(cols[3].value?.format).toBeUndefined();
    expect(cols[5]).toMatchObject({ by: 'map', value: { phone: 'national' } });
  });

  it("takes the mapping's column names, styled by the file's values", () => {
    const mapping = { source: 'm', inserts: [{ alias: 'f', schema: 'public', table: 'families', returning: [], columns: [{ column: 'mother_phone', value: { type: 'field' as const, field: 'mother.phone', kind: 'phone' as const, phone: 'national' } }] }] };
    const cols = inferColumns(['mother_phone', 'birth_id'], [['+8613812345678', '17'], ['+8613912345678', '18']], { mapping });
    expect(cols[0]).toMatchObject({ by: 'mapping', value: { field: 'mother.phone', phone: 'e164' } });
    // A name that says "birth" over values that are no dates is not taken at its word.
    expect(cols[1].value).toBeNull();
  });
});

describe('value sniffing', () => {
  it('finds fields in columns whose names say nothing', () => {
    const header = ['a', 'b', 'c', 'd', 'e', 'f'];
    const rows = [
      ['x1', '13812345678', 'M', '20261103', 'w@example.org', '3120'],
      ['x2', '13912345678', 'F', '20261104', 'v@example.org', '2870'],
      ['x3', '13712345678', 'F', '20261105', 'u@example.org', '3555'],
    ];
    const cols = inferColumns(header, rows);
    expect(fields(cols)).toEqual({ a: null, b: 'mother.phone', c: 'baby.sex', d: 'baby.birthTime', e: 'mother.email', f: 'baby.weightGrams' });
    expect(cols[1].value?.phone).toBe('national');
    expect(cols[3].value?.format).toBe('yyyyMMdd');
    expect(cols.filter((c) => c.value).every((c) => c.by === 'values')).toBe(true);
  });

  it('tells a second phone column and an old date from the first', () => {
    const cols = inferColumns(['p1', 'p2', 'd'], [['13812345678', '8613912345678', '1992-03-04'], ['13712345678', '8613612345678', '1990-12-30']]);
    expect(fields(cols)).toEqual({ p1: 'mother.phone', p2: 'father.phone', d: 'mother.birthDate' });
    expect(cols[1].value?.phone).toBe('digits');
  });

  it('sees a header row that is data', () => {
    expect(looksLikeData(['王芳', '13812345678', '2026-11-03'])).toBe(true);
    expect(looksLikeData(['产妇姓名', '联系电话', '出生日期'])).toBe(false);
  });
});

describe('formats', () => {
  it('dates: padded, unpadded, compact, with times, ISO', () => {
    expect(inferDateFormat(['2026-11-03', '2026-11-04'])?.format).toBe('yyyy-MM-dd');
    expect(inferDateFormat(['2026/3/5', '2026/11/15'])?.format).toBe('yyyy/M/d');
    expect(inferDateFormat(['2026/03/05', '2026/11/15'])?.format).toBe('yyyy/MM/dd');
    expect(inferDateFormat(['2026-11-03 08:15:09', '2026-11-04 21:40:00'])?.format).toBe('yyyy-MM-dd HH:mm:ss');
    expect(inferDateFormat(['2026-11-03 08:15', '2026-11-04 21:40'])).toEqual({ format: 'yyyy-MM-dd HH:mm', hasTime: true });
    expect(inferDateFormat(['2026-11-03T08:15:00.000Z'])).toEqual({ format: undefined, hasTime: true });
    // One stray value in ten still leaves 90%.
    expect(inferDateFormat([...Array.from({ length: 9 }, (_, i) => `2026-11-0${i + 1}`), 'unknown'])?.format).toBe('yyyy-MM-dd');
    expect(inferDateFormat(['abc', '2026-11-03'])).toBeNull();
    expect(inferDateFormat(['12345678', '99999999'])).toBeNull();
  });

  it('phones: e164, digits, national and patterns', () => {
    expect(phoneShape('+8613812345678')).toBe('e164');
    expect(phoneShape('8613812345678')).toBe('digits');
    expect(phoneShape('13812345678')).toBe('national');
    expect(phoneShape('138-1234-5678')).toBe('###-####-####');
    expect(phoneShape('138 1234 5678')).toBe('### #### ####');
    expect(phoneShape('+86-138-1234-5678')).toBe('+86-###-####-####');
    expect(phoneShape('hello')).toBeNull();
    expect(phoneShape('12345')).toBeNull();
    expect(inferPhoneStyle(['138-1234-5678', '139-1234-5678', ''])).toBe('###-####-####');
    expect(inferPhoneStyle(['王芳', '13812345678'])).toBeNull();
  });

  it('sex codes and weight units', () => {
    expect(inferSexMap(['男', '女', '男'])).toEqual({ female: '女', male: '男' });
    expect(inferSexMap(['Male', 'Male'])).toEqual({ female: 'Female', male: 'Male' });
    expect(inferSexMap(['f', 'm'])).toEqual({ female: 'f', male: 'm' });
    expect(inferSexMap(['1', '2'])).toBeNull();
    expect(inferSexMap(['1', '2'], true)).toEqual({ female: '2', male: '1' });
    expect(inferWeightUnit(['3250', '2980'])).toBe('baby.weightGrams');
    expect(inferWeightUnit(['3.25', '2.98'])).toBe('baby.weightKg');
    expect(inferWeightUnit(['3.2kg', '2.9kg'])).toBe('baby.weightKg');
    expect(inferWeightUnit(['abc', 'def'])).toBeNull();
  });
});
