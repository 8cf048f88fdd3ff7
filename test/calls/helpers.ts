import fs from 'node:fs';
import path from 'node:path';
import type { Database } from '../../src/db/index.js';
import type { Family } from '../../src/domain/index.js';
import { createRandom, generateFamily } from '../../src/lib/generate/index.js';
import * as vault from '../../src/vault/index.js';

// What the call-recording tests share: a canary holding a trap, and shell scripts standing for the
// user's speech-to-text command.

export const CALLER = '+8613700001111';

/** A canary with a baby (triage reads its birth date), holding `trap` since a day ago. */
export async function plantCallCanary(db: Database, trap: string, id = 'c-call'): Promise<Family> {
  const now = new Date();
  const family = generateFamily(createRandom(`calls-${id}`), {
    locale: 'zh-CN', hospital: 'h1', ward: 'NICU', districts: ['海淀区'], timeZone: 'Asia/Shanghai',
    birthFrom: new Date(now.getTime() - 20 * 86_400_000), birthTo: new Date(now.getTime() - 2 * 86_400_000), phone: () => trap, emailDomain: () => null, now,
  });
  await vault.ensureHospital(db, 'h1', 'zh-CN');
  await db.query(`INSERT INTO seed_batches (id, hospital, channels, state, requested) VALUES ($1, 'h1', '[]', 'planted', 1) ON CONFLICT DO NOTHING`, [`b-${id}`]);
  await db.query(
    `INSERT INTO canaries (id, hospital, batch_id, status, iso_week, ward, family, mother_name, father_name, mother_phone, father_phone, email)
     VALUES ($1, 'h1', $2, 'planted', '2026-W48', 'NICU', $3, $4, NULL, $5, NULL, NULL)`,
    [id, `b-${id}`, JSON.stringify(family), family.mother.name.full, trap],
  );
  await db.query(
    `INSERT INTO trap_assignments (trap_number_id, canary_id, role, assigned_at) SELECT id, $2, 'mother', $3 FROM trap_numbers WHERE e164 = $1`,
    [trap, id, new Date(now.getTime() - 86_400_000).toISOString()],
  );
  return family;
}

/** A shell script: the transcriber the user configures. */
export function script(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

