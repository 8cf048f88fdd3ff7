// Pure helpers for building SQL text safely: identifiers are always quoted, values always bound.

/** Quote one identifier the way PostgreSQL does ("a""b"). */
export function quoteIdent(name: string): string {
  if (name.length === 0) throw new Error('empty SQL identifier');
  if (name.includes('\u0000')) throw new Error('SQL identifier contains a NUL byte');
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quote `schema.table` or `table`; each part may itself contain dots when given as an array. */
export function quoteQualified(parts: string | readonly string[]): string {
  const list = typeof parts === 'string' ? parts.split('.') : parts;
  return list.map(quoteIdent).join('.');
}

/** One CSV field for COPY ... (FORMAT csv): null is an unquoted empty field, everything else is quoted. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text: string;
  if (value instanceof Date) text = value.toISOString();
  else if (typeof value === 'object') text = JSON.stringify(value);
  else text = String(value);
  return `"${text.replace(/"/g, '""')}"`;
}

export function csvLine(values: readonly unknown[]): string {
  return values.map(csvField).join(',') + '\n';
}
