import type { AuditReportData } from '../../src/report/audit-load.js';

// An audit report's data as `cradle audit` gathers it, for the pure renderer and browser tests: a
// quarter with one missed week, a pool running low, a noisy number, an open incident and tripwires.

export function sampleAudit(): AuditReportData {
  const week = (w: string, start: string, status: 'done' | 'missed' | 'partial' | 'due', planted: number, completedAt: string | null) => ({ week: w, start, monday: new Date(Date.parse(start) + 86_400_000).toISOString().slice(0, 10), status, planned: 7, planted, completedAt });
  return {
    format: 'cradle-audit-report',
    version: 1,
    generatedAt: '2026-12-31T09:00:00.000Z',
    generatedBy: 'auditor',
    command: 'cradle audit --from 2026-10-01 --to 2026-12-31 --out q4.html',
    tool: 'cradle 0.1.0',
    hospital: { name: 'main', displayName: '南京市妇幼保健院', timeZone: 'Asia/Shanghai' },
    period: { from: '2026-10-01', to: '2026-12-31', start: '2026-09-30T16:00:00.000Z', end: '2026-12-31T16:00:00.000Z' },
    rotations: {
      plan: { 产科一病区: 3, 产科二病区: 3, NICU: 1 },
      perWeek: null,
      weeks: [
        week('2026-W40', '2026-09-27T16:00:00.000Z', 'done', 7, '2026-09-28T01:00:00.000Z'),
        week('2026-W41', '2026-10-04T16:00:00.000Z', 'missed', 0, null),
        week('2026-W42', '2026-10-11T16:00:00.000Z', 'partial', 4, null),
        week('2026-W43', '2026-10-18T16:00:00.000Z', 'done', 7, '2026-10-19T01:00:00.000Z'),
        week('2026-W53', '2026-12-27T16:00:00.000Z', 'due', 0, null),
      ],
      done: 2,
      partial: 1,
      missed: 1,
      due: 1,
      before: 0,
      firstWeek: '2026-W40',
      firstRotation: '2026-W40',
    },
    canaries: {
      live: 7,
      byWard: [
        { ward: '产科一病区', live: 3, plantedInPeriod: 9, retiredInPeriod: 6 },
        { ward: '产科二病区', live: 3, plantedInPeriod: 7, retiredInPeriod: 4 },
        { ward: 'NICU', live: 1, plantedInPeriod: 3, retiredInPeriod: 2 },
      ],
      byRecipient: [
        { recipient: 'photo-studio', exportsInPeriod: 2, exportsTotal: 5, live: 10, lastExportAt: '2026-11-04T02:00:00.000Z' },
        { recipient: 'insurer', exportsInPeriod: 1, exportsTotal: 1, live: 5, lastExportAt: '2026-10-20T03:00:00.000Z' },
      ],
    },
    pool: {
      counts: { available: 20, burn_in: 6, assigned: 41, retired: 30, blocked: 2 },
      total: 99,
      numbersPerCanary: 1.86,
      perWeek: 14,
      nextWeeks: 4,
      needed: 56,
      supply: 26,
      weeksLeft: 1,
      low: true,
      sharing: 'exclusive',
      numbersNeeded: null,
      horizon: null,
      noisy: 2,
      noiseContacts: 9,
      noiseDays: 4210.5,
      noisiest: [
        { e164: '+8613800138000', state: 'blocked', contacts: 8, days: 30, perDay: 0.267 },
        { e164: '+8613912345678', state: 'available', contacts: 1, days: 120.5, perDay: 0.008 },
      ],
      segments: null,
    },
    hits: {
      inPeriod: 5,
      incidents: [
        { id: 'INC-7Q2KX9', source: 'hits', title: '3 canaries texted by +86133****0000', status: 'open', createdAt: '2026-11-11T02:00:00.000Z', hits: 4, canaries: 3, firstContact: '2026-11-11T02:00:00.000Z', lastContact: '2026-11-13T02:00:00.000Z', senders: 1 },
        { id: 'INC-3M8PZ1', source: 'scan', title: 'seized file dump.csv', status: 'closed', createdAt: '2026-12-02T08:00:00.000Z', hits: 0, canaries: 2, firstContact: null, lastContact: null, senders: 0 },
      ],
      open: 1,
      closed: 1,
      dismissed: 0,
      merged: 0,
    },
    tripwires: {
      total: 3,
      accounts: [{ account: 'nurse42', lines: 3, canaries: 3, first: '2026-11-05T02:00:00.000Z', last: '2026-11-05T02:03:00.000Z' }],
      lines: [
        { at: '2026-11-05T02:03:00.000Z', account: 'nurse42', canaryId: 'CN-8F3K2Q', scope: 'single', action: 'print', system: 'his', file: '/var/log/his/audit-2026-11-05.csv', line: 4 },
        { at: '2026-11-05T02:02:00.000Z', account: 'nurse42', canaryId: 'CN-2J9W4T', scope: 'single', action: 'view', system: null, file: '/var/log/his/audit-2026-11-05.csv', line: 3 },
        { at: '2026-11-05T02:00:00.000Z', account: 'nurse42', canaryId: 'CN-6R1M8D', scope: 'single', action: 'view', system: null, file: '/var/log/his/audit-2026-11-05.csv', line: 2 },
      ],
    },
    listExposures: {
      total: 12,
      lines: 4,
      canaries: 7,
      accounts: [{ account: 'clerk07', lines: 4, canaries: 7, first: '2026-11-02T01:00:00.000Z', last: '2026-11-09T01:00:00.000Z' }],
    },
    ledger: {
      ok: true,
      intact: true,
      entries: 128,
      head: { seq: 128, hash: '3f9a0c1e5b7d2468ace013579bdf2468ace013579bdf2468ace013579bdf24c2', at: '2026-12-30T10:00:00.000Z' },
      break: null,
      evidenceChecked: 97,
      problems: 0,
      unsealedContacts: 0,
      predateLedger: 0,
      reportsInPeriod: 2,
    },
  };
}
