import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { parseConfig } from '../../src/config/index.js';
import { quickConfig } from '../../src/config/quick.js';
import { configSchemas } from '../../src/config/schema.js';
import { PACKAGE_ROOT } from '../../src/lib/paths.js';

// quickConfig (the config read without zod) against the zod schema it stands in for: for every config
// below, either quickConfig declines (null: zod reads it) or it gives exactly what zod gives, and it
// never reads a config zod refuses.

const { ConfigSpec } = configSchemas(z);

const base = {
  vault: '.cradle',
  defaultHospital: 'demo',
  hospitals: {
    demo: {
      displayName: '南京市示例妇幼保健院',
      target: 'hospital-db',
      mapping: 'mapping.json',
      locale: 'zh-CN',
      timeZone: 'Asia/Shanghai',
      wards: ['产科一病区', '产科二病区', '新生儿科NICU'],
      nicuWards: ['新生儿科NICU'],
      districts: ['鼓楼区', '玄武区'],
      seedChannel: 'system:his',
      pool: { cooldownDays: 730 },
      rotation: { perWard: { 产科一病区: 4, 产科二病区: 4, 新生儿科NICU: 2 } },
    },
  },
};

type Doc = Record<string, unknown>;
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
/** The base config with one hospital field set (undefined: removed). */
function withHospital(field: string, value: unknown): Doc {
  const doc = clone(base) as Doc & { hospitals: { demo: Doc } };
  if (value === undefined) delete doc.hospitals.demo[field];
  else doc.hospitals.demo[field] = value;
  return doc;
}
function withTop(field: string, value: unknown): Doc {
  const doc = clone(base) as Doc;
  if (value === undefined) delete doc[field];
  else doc[field] = value;
  return doc;
}

const hospitalVariants: [string, unknown[]][] = [
  ['displayName', [undefined, 'x', '', 3]],
  ['target', [undefined, 'postgres://u@h/db', '', null]],
  ['mapping', [undefined, '', 'm.json', ['m']]],
  ['locale', [undefined, 'en-US', 'fr-FR', 1]],
  ['timeZone', [undefined, 'Europe/Paris', 'Mars/Base', '', 7]],
  ['accessActions', [undefined, {}, { 调阅: 'view' }, { '': 'view' }, { 调阅: '' }, { 调阅: 3 }, ['view'], null]],
  ['wards', [undefined, [], ['A'], ['A', ''], 'A', [1]]],
  ['nicuWards', [undefined, [], ['产科一病区'], ['X'], [''], 'NICU']],
  ['districts', [undefined, [], ['鼓楼区'], [''], {}]],
  ['seedChannel', [undefined, 'ward:产科一病区', 'account:c0083', 'nowhere', '', 5]],
  [
    'pool',
    [
      undefined, {}, { cooldownDays: 0 }, { cooldownDays: -1 }, { cooldownDays: 1.5 }, { cooldownDays: '730' }, { burnInDays: 0 }, { burnInDays: 14, cooldownDays: 30 },
      { fatherNumbers: 'mother' }, { fatherNumbers: 'father' }, { sharing: 'shared' }, { sharing: 'both' }, { extra: 1 }, null, [], { cooldownDays: 2 ** 60 },
    ],
  ],
  ['profile', [undefined, {}, { k: 2 }, { k: 1 }, { k: 5.5 }, { k: 5, extra: true }, 'k']],
  ['realism', [undefined, { warnAbove: 0.6 }, { warnAbove: 0.5 }, { warnAbove: 1 }, { warnAbove: 0.4 }, { warnAbove: 1.1 }, {}, { warnAbove: '0.6' }]],
  [
    'rotation',
    [
      undefined, {}, { perWeek: 7 }, { perWeek: 0 }, { perWeek: 7, allocation: 'equal', minPerWard: 0 }, { perWeek: 7, allocation: 'random' }, { perWard: {} },
      { perWard: { 产科一病区: 0 } }, { perWard: { 产科一病区: -1 } }, { perWard: { X: 2 } }, { perWard: { 产科一病区: 2 }, perWeek: 3 }, { minPerWard: -1 }, { extra: 1 }, { perWard: [1] },
    ],
  ],
  ['unknown', [undefined, 1]],
];

const topVariants: [string, unknown[]][] = [
  ['vault', [undefined, 'postgres://u@h/db', '', 3]],
  ['defaultHospital', [undefined, 'demo', 'other', '', 4]],
  ['hospitals', [undefined, {}, { 'bad name': base.hospitals.demo }, { a: base.hospitals.demo, b: { ...base.hospitals.demo, locale: 'en-US' } }, { __proto__: 1 }, [], null]],
  ['watch', [undefined, {}, { port: 8080 }]],
  ['alerts', [undefined, {}]],
  ['extra', [undefined, true]],
];

function cases(): [string, unknown][] {
  const list: [string, unknown][] = [['base', base]];
  for (const [field, values] of hospitalVariants) for (const v of values) list.push([`hospitals.demo.${field} = ${JSON.stringify(v)}`, withHospital(field, v)]);
  for (const [field, values] of topVariants) for (const v of values) list.push([`${field} = ${JSON.stringify(v)}`, withTop(field, v)]);
  list.push(['null', null], ['array', []], ['string', 'cradle'], ['empty', {}]);
  const nullProto = Object.assign(Object.create(null) as Doc, clone(base));
  list.push(['an object without a prototype', nullProto]);
  list.push(['a field holding undefined', { ...clone(base), defaultHospital: undefined }]);
  // The configs the project ships and writes.
  for (const file of ['fixtures/regional/cradle.config.json']) list.push([file, JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, file), 'utf8'))]);
  return list;
}

describe('quickConfig (cradle.config.json without zod)', () => {
  it('gives what zod gives, or declines; never reads a config zod refuses', () => {
    let read = 0;
    let declined = 0;
    for (const [label, doc] of cases()) {
      const quick = quickConfig(doc);
      const zod = ConfigSpec.safeParse(doc);
      if (quick === null) {
        declined++;
        continue;
      }
      read++;
      expect({ label, success: zod.success }).toEqual({ label, success: true });
      expect({ label, data: quick }).toEqual({ label, data: zod.data });
    }
    // Both ways are exercised: most valid variants are read, the invalid ones and the watch/alerts sections declined.
    expect(read).toBeGreaterThan(40);
    expect(declined).toBeGreaterThan(40);
  });

  it('reads the demo config and the regional fixture without zod', () => {
    expect(quickConfig(base)).not.toBeNull();
    expect(quickConfig(JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'fixtures/regional/cradle.config.json'), 'utf8')))).not.toBeNull();
  });

  it('leaves the wording of problems to zod (parseConfig)', () => {
    expect(() => parseConfig(withHospital('wards', []), 'c.json')).toThrow(/c.json: hospitals.demo.wards: /);
    expect(() => parseConfig(withHospital('pool', { cooldownDays: -1 }), 'c.json')).toThrow(/c.json: hospitals.demo.pool.cooldownDays: /);
    expect(() => parseConfig(withTop('extra', true), 'c.json')).toThrow(/c.json: \(top level\): /);
  });

  it('gives parseConfig the same hospital either way', () => {
    const viaQuick = parseConfig(base, '/srv/c.json');
    const viaZod = parseConfig({ ...clone(base), watch: {} }, '/srv/c.json');
    expect(viaQuick.hospitals).toEqual(viaZod.hospitals);
    expect(viaQuick.vault).toBe(viaZod.vault);
  });
});
