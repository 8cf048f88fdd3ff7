import type { IncidentReportData, ReportSuspect } from '../../src/report/data.js';

// A report as load.ts would make it: a hits incident on three canaries, traced to a photo studio's export.

const C = ['c-7k2m9q', 'c-3x8p4w', 'c-9d1r6t'];
const NAMES = ['Emily Carter', 'Sarah Lopez', 'Megan Brooks'];
const SHA = (n: number) => n.toString(16).padStart(2, '0').repeat(32);

export function sampleReport(overrides: Partial<IncidentReportData> = {}): IncidentReportData {
  const photo: ReportSuspect = {
    rank: 1,
    key: 'export-file:EXP-4F7K2Q',
    kind: 'export',
    label: 'export:photo-studio',
    posterior: 0.9712,
    explains: [...C],
    unexplained: [],
    window: { from: '2026-11-04T02:00:00.000Z', to: '2026-11-11T01:30:00.000Z' },
    export: { id: 'EXP-4F7K2Q', recipient: 'photo-studio', operator: 'n0412', file: 'photo-studio.csv', sha256: SHA(0xab), at: '2026-11-04T02:00:00.000Z' },
    logLines: [],
    parts: null,
    seen: 5,
    reasons: [
      { code: 'explains', explained: 3, total: 3 },
      { code: 'channel-size', seen: 5 },
      { code: 'exported', at: '2026-11-04T02:00:00.000Z', operator: 'n0412', recipient: 'photo-studio', file: 'photo-studio.csv' },
      { code: 'window', from: '2026-11-04T02:00:00.000Z', to: '2026-11-11T01:30:00.000Z' },
    ],
  };
  const his: ReportSuspect = {
    rank: 2,
    key: 'channel:1',
    kind: 'system',
    label: 'system:his',
    posterior: 0.0188,
    explains: [...C],
    unexplained: [],
    window: { from: '2026-11-02T02:00:00.000Z', to: '2026-11-11T01:30:00.000Z' },
    export: null,
    logLines: [],
    parts: null,
    seen: 240,
    reasons: [
      { code: 'explains', explained: 3, total: 3 },
      { code: 'channel-size', seen: 240 },
    ],
  };
  const unknown: ReportSuspect = {
    rank: 3,
    key: 'unknown',
    kind: 'unknown',
    label: 'unknown source',
    posterior: 0.01,
    explains: [...C],
    unexplained: [],
    window: null,
    export: null,
    logLines: [],
    parts: null,
    seen: null,
    reasons: [{ code: 'unknown-source', prior: 0.05 }],
  };
  const phones = ['+12025550111', '+12025550122', '+12025550133'];
  return {
    format: 'cradle-incident-report',
    version: 1,
    generatedAt: '2026-11-20T08:00:00.000Z',
    generatedBy: 'analyst',
    command: 'cradle report INC-7Q2KX9 --format html --out report.html',
    tool: 'cradle 0.1.0',
    unmasked: false,
    hospitals: ['south-maternity'],
    incident: { id: 'INC-7Q2KX9', source: 'hits', title: 'SMS from +1*******0000 to 3 canaries', status: 'open', createdAt: '2026-11-11T01:31:00.000Z' },
    canaries: C.map((id, i) => ({
      id,
      hospital: 'south-maternity',
      origin: 'seeded' as const,
      exports: [],
      ward: 'postnatal',
      isoWeek: '2026-W45',
      plantedAt: '2026-11-02T02:00:00.000Z',
      leakedBy: `2026-11-${11 + i}T01:30:00.000Z`,
      evidence: 1,
      motherName: NAMES[i],
      motherPhone: phones[i],
      fatherName: null,
      fatherPhone: null,
      email: null,
    })),
    weeks: ['2026-W45'],
    leakedBy: '2026-11-11T01:30:00.000Z',
    candidates: 2,
    vaultSize: 240,
    suspects: [photo, his, unknown],
    exposures: [
      ...C.map((canaryId) => ({ canaryId, channel: 'system:his', key: 'channel:1', exportId: null, at: '2026-11-02T02:00:00.000Z' })),
      ...C.map((canaryId) => ({ canaryId, channel: 'export:photo-studio', key: 'export-file:EXP-4F7K2Q', exportId: 'EXP-4F7K2Q', at: '2026-11-04T02:00:00.000Z' })),
    ],
    hits: C.map((canaryId, i) => ({
      hitId: 10 + i,
      eventId: 20 + i,
      canaryId,
      kind: 'sms',
      source: 'generic',
      providerId: `t${i}`,
      from: '+1*******0000',
      to: phones[i],
      occurredAt: `2026-11-${11 + i}T01:30:00.000Z`,
      confidence: 0.97,
      reasons: [{ reason: 'addressed by the canary mother’s name', weight: 2 }],
      body: `Hi ${NAMES[i]}, congratulations on your baby! Free newborn photo shoot this week, call back ****5678`,
      sha256: SHA(0x10 + i),
    })),
    dismissedHits: [13],
    scan: null,
    history: [
      { seq: 35, at: '2026-11-12T03:00:00.000Z', actor: 'analyst', action: 'note', incident: 'INC-7Q2KX9', hit: null, from: 'open', to: 'open', reason: null, note: 'Called the photo studio; they deny having the list.', into: null },
      { seq: 36, at: '2026-11-12T03:05:00.000Z', actor: 'analyst', action: 'dismiss-hit', incident: 'INC-7Q2KX9', hit: 13, from: 'active', to: 'dismissed', reason: 'robocall to every number of the block', note: null, into: null },
    ],
    model: { noise: 0.1, unknownPrior: 0.05, mergePrior: 0.1, evidenceDelayDays: 7 },
    custody: {
      files: [
        { role: 'export', name: 'photo-studio.csv', sha256: SHA(0xab), bytes: 5120, at: '2026-11-04T02:00:00.000Z', ref: 'EXP-4F7K2Q' },
        ...C.map((_, i) => ({ role: 'contact' as const, name: `generic t${i}`, sha256: SHA(0x10 + i), bytes: null, at: `2026-11-${11 + i}T01:30:00.000Z`, ref: String(20 + i) })),
      ],
      ledger: {
        head: { seq: 42, hash: SHA(0xee), at: '2026-11-20T07:59:00.000Z' },
        entries: [
          { seq: 7, at: '2026-11-04T02:00:00.000Z', kind: 'export', ref: 'EXP-4F7K2Q', incidentId: null, actor: 'n0412', contentHash: SHA(1), prevHash: SHA(2), hash: SHA(3), verified: true },
          { seq: 30, at: '2026-11-11T01:31:00.000Z', kind: 'contact', ref: '20', incidentId: null, actor: 'cradle-watch', contentHash: SHA(4), prevHash: SHA(5), hash: SHA(6), verified: true },
        ],
      },
    },
    ...overrides,
  };
}
