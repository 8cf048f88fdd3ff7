import type { Queryable } from '../db/index.js';
import type { Locale } from '../domain/index.js';

/** Register a hospital from the config in the vault (idempotent). */
export async function ensureHospital(db: Queryable, name: string, locale: Locale): Promise<void> {
  await db.query('INSERT INTO hospitals (name, locale) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, locale]);
}
