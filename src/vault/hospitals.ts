import type { Queryable } from '../db/index.js';
import type { Locale } from '../domain/index.js';

/** Register a hospital from the config in the vault (idempotent). */
export async function ensureHospital(db: Queryable, name: string, locale: Locale): Promise<void> {
  // Read first: every command registers the config's hospitals, and one already there needs no write.
  const { rows } = await db.query('SELECT 1 FROM hospitals WHERE name = $1', [name]);
  if (rows.length) return;
  await db.query('INSERT INTO hospitals (name, locale) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, locale]);
}
