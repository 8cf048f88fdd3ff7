import path from 'node:path';
import { runExport, type ExportResult } from '../../src/exports/export.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import type { TestHospital } from './hospital.js';

// The scenario the trace, report and evidence tests share: 8 canaries seeded in week 2026-W45, then
// two exports two days later (insurer by n0101, photo-studio by n0412), each with 5 canaries of its own.

export const DAY = 86_400_000;
export const PLANTED = new Date('2026-11-02T02:00:00Z');

export async function seedAndExport(h: TestHospital, dir: string, seed: string): Promise<{ insurer: ExportResult; photo: ExportResult }> {
  await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 8, channels: [h.hospital.seedChannel], now: PLANTED, isoWeek: '2026-W45', ...birthWindow(PLANTED), seed });
  const exportAt = new Date(PLANTED.getTime() + 2 * DAY);
  const request = (name: string, operator: string) => ({
    hospital: h.hospital, mapping: h.mapping, channel: { kind: 'export' as const, name }, out: path.join(dir, `${name}.csv`), params: [], columnFields: {}, now: exportAt, canaries: 5, operator, seed: name,
  });
  const insurer = await runExport(h.vault, h.target, request('insurer', 'n0101'));
  const photo = await runExport(h.vault, h.target, request('photo-studio', 'n0412'));
  return { insurer, photo };
}
