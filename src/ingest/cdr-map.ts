// A CDR file's --map: which column holds which call field. Pure and light: the CLI's option parsers use it.

/** Fields a --map may name; src, dst and start are required. */
export const CDR_FIELDS = ['src', 'dst', 'start', 'id', 'duration', 'disposition', 'recording'] as const;
export type CdrField = (typeof CDR_FIELDS)[number];

/** "a=b,c=d" → { a: 'b', c: 'd' }, checking the field names and that src, dst and start are there. */
export function parseCdrMap(text: string): Partial<Record<CdrField, string>> {
  const map: Partial<Record<CdrField, string>> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const field = part.slice(0, eq).trim() as CdrField;
    const column = part.slice(eq + 1).trim();
    if (eq < 1 || !column) throw new Error(`"${part}": write field=Column, e.g. src=Caller`);
    if (!CDR_FIELDS.includes(field)) throw new Error(`"${field}" is not a CDR field (fields: ${CDR_FIELDS.join(', ')})`);
    map[field] = column;
  }
  const missing = (['src', 'dst', 'start'] as const).filter((f) => !map[f]);
  if (missing.length) throw new Error(`the map needs ${missing.map((f) => `${f}=<column>`).join(', ')}`);
  return map;
}
