import { format as formatDate } from 'date-fns/format';
import { parse as parseDate } from 'date-fns/parse';
import { FIELDS, type Mapping } from '../targetdb/mapping.js';
import type { ColumnPlan, FieldValue } from './plan.js';

// Pure inference of what a partner's file holds: which family field each column is, and how the file
// writes it (date pattern, phone style, sex codes, weight unit), so canaries look like its own rows.

export type InferredBy = 'map' | 'mapping' | 'field' | 'header' | 'values';

export interface InferredColumn extends ColumnPlan {
  /** How the field was found; null: no field, the column keeps a real row's value. */
  by: InferredBy | null;
}

/** Share of non-empty values a format must fit. */
const QUORUM = 0.9;

/** Header words, English and Chinese, tried in order on a normalised name (lower case, no spaces, _ or -). */
const HEADER_RULES: [RegExp, string][] = [
  [/(父亲|丈夫|爸爸|father|husband|dad).*(电话|手机|联系|phone|mobile|tel|cell)/, 'father.phone'],
  [/(电话|手机|联系方式|phone|mobile|^tel|cell)/, 'mother.phone'],
  [/(父亲|丈夫|爸爸|father|husband|dad).*(邮箱|email|mail)/, 'father.email'],
  [/(邮箱|email|e?mail)/, 'mother.email'],
  [/(性别|sex|gender)/, 'baby.sex'],
  [/(体重|weight)/, 'baby.weight'],
  [/(母亲|产妇|妈妈|孕妇|mother|mom|maternal).*(出生|生日|birth|dob)/, 'mother.birthDate'],
  [/(父亲|丈夫|爸爸|father|husband|dad).*(出生|生日|birth|dob)/, 'father.birthDate'],
  [/(母亲|产妇|妈妈|孕妇|mother|mom|maternal).*(年龄|age)/, 'mother.age'],
  [/(父亲|丈夫|爸爸|father|husband|dad).*(年龄|age)/, 'father.age'],
  [/(医院|hospital)/, 'hospital'],
  [/(出院|discharge)/, 'dischargedAt'],
  [/(入院|admission|admit)/, 'admittedAt'],
  [/(出生|生日|分娩|birth|born|dob|delivery)/, 'baby.birthTime'],
  [/(科室|病区|病房|ward|department|dept)/, 'ward'],
  [/(区县|^区$|district|county)/, 'district'],
  [/(地址|住址|address|addr)/, 'address'],
  [/(街道|street)/, 'street'],
  [/(父亲|丈夫|爸爸|father|husband|dad)/, 'father.name'],
  [/(新生儿|宝宝|婴儿|baby|infant|newborn|child)/, 'baby.name'],
  [/(母亲|产妇|妈妈|孕妇|mother|mom|patient|患者|姓名|^name$)/, 'mother.name'],
  [/(年龄|^age$)/, 'mother.age'],
];

function normalise(name: string): string {
  return name.replace(/^\uFEFF/, '').trim().toLowerCase().replace(/[\s_\-()（）]+/g, '');
}

/** The family field a header names, if any ('baby.weight' = grams or kg, by the values). */
export function fieldOfHeader(name: string): string | null {
  const n = normalise(name);
  if (!n) return null;
  for (const [re, field] of HEADER_RULES) if (re.test(n)) return field;
  return null;
}

const nonEmpty = (values: readonly string[]) => values.map((v) => v.trim()).filter((v) => v !== '');

function share(values: readonly string[], test: (v: string) => boolean): number {
  return values.length ? values.filter(test).length / values.length : 0;
}

function majority<T>(items: readonly T[]): { value: T; share: number } | null {
  const counts = new Map<T, number>();
  for (const i of items) counts.set(i, (counts.get(i) ?? 0) + 1);
  let best: { value: T; n: number } | null = null;
  for (const [value, n] of counts) if (!best || n > best.n) best = { value, n };
  return best ? { value: best.value, share: best.n / items.length } : null;
}

// ---------- phones ----------

/** How one phone value is written: 'e164', 'digits', 'national', or a '#' pattern; null if not a phone. */
export function phoneShape(value: string): string | null {
  const v = value.trim();
  if (/^\+86 ?1[3-9]\d{9}$/.test(v)) return v.includes(' ') ? '+86 ###########' : 'e164';
  if (/^\+[1-9]\d{7,14}$/.test(v)) return 'e164';
  if (/^861[3-9]\d{9}$/.test(v)) return 'digits';
  if (/^1[3-9]\d{9}$/.test(v)) return 'national';
  if (!/^[+\d][\d\s\-().+]*\d$/.test(v)) return null;
  const prefix = /^\+86[\s-]?/.exec(v)?.[0] ?? /^\+\d{1,3}[\s-]/.exec(v)?.[0] ?? '';
  const rest = v.slice(prefix.length);
  const digits = rest.replace(/\D/g, '').length;
  if (digits < 10 || digits > 12 || !/[\s\-()]/.test(rest) || /^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}/.test(rest)) return null;
  return prefix + rest.replace(/\d/g, '#');
}

/** The phone style of a column: the shape most of its values have. */
export function inferPhoneStyle(values: readonly string[]): string | null {
  const vals = nonEmpty(values);
  const shapes = vals.map(phoneShape);
  if (!vals.length) return null;
  if (shapes.filter((s) => s !== null).length / vals.length < QUORUM) return null;
  return majority(shapes.filter((s): s is string => s !== null))?.value ?? null;
}

// ---------- dates and times ----------

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** date-fns patterns tried, padded before unpadded, so a tie goes to the stricter one. */
export const DATE_PATTERNS = [
  'yyyy-MM-dd HH:mm:ss',
  'yyyy-MM-dd HH:mm',
  "yyyy-MM-dd'T'HH:mm:ss",
  "yyyy-MM-dd'T'HH:mm",
  'yyyy/MM/dd HH:mm:ss',
  'yyyy/MM/dd HH:mm',
  'yyyy/M/d H:mm:ss',
  'yyyy/M/d H:mm',
  'yyyy/M/d HH:mm',
  'yyyyMMddHHmmss',
  'yyyyMMddHHmm',
  'yyyy年M月d日 HH:mm',
  'yyyy年MM月dd日 HH:mm',
  'yyyy-MM-dd',
  'yyyy/MM/dd',
  'yyyy/M/d',
  'yyyy.MM.dd',
  'yyyy.M.d',
  'yyyyMMdd',
  'yyyy年MM月dd日',
  'yyyy年M月d日',
  'MM/dd/yyyy',
  'M/d/yyyy',
  'dd/MM/yyyy',
  'd/M/yyyy',
  'dd.MM.yyyy',
];

const REFERENCE = new Date(2000, 0, 1);

const DIGITS: Record<string, string> = { yyyy: '\\d{4}', MM: '\\d{2}', dd: '\\d{2}', HH: '\\d{2}', mm: '\\d{2}', ss: '\\d{2}', M: '\\d{1,2}', d: '\\d{1,2}', H: '\\d{1,2}', m: '\\d{1,2}', s: '\\d{1,2}' };
const shapes = new Map<string, RegExp | null>();

/**
 * What any text `pattern` writes looks like (digits where its numeric fields are, its other characters
 * as they are), or null for a pattern with other fields. A value not of that shape cannot be written
 * back the same, so parseWith skips date-fns for it: inferring a file's columns tries 26 patterns on
 * 300 values of every column, and date-fns' parse is slow.
 */
function shapeOf(pattern: string): RegExp | null {
  if (shapes.has(pattern)) return shapes.get(pattern)!;
  let source = '';
  let read = 0;
  let ok = true;
  for (const [token] of pattern.matchAll(/'[^']*'|([A-Za-z])\1*|[^A-Za-z']+/g)) {
    read += token.length;
    if (token.startsWith("'")) {
      if (token === "''") ok = false;
      else source += token.slice(1, -1).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else if (/^[A-Za-z]/.test(token)) {
      if (!Object.hasOwn(DIGITS, token)) ok = false;
      else source += DIGITS[token];
    } else {
      source += token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  const shape = ok && read === pattern.length ? new RegExp(`^${source}$`) : null;
  shapes.set(pattern, shape);
  return shape;
}

/** Parse a value with a pattern; only if writing it back gives the same text and the year is plausible. */
export function parseWith(value: string, pattern: string): Date | null {
  if (shapeOf(pattern)?.test(value) === false) return null;
  const d = parseDate(value, pattern, REFERENCE);
  if (Number.isNaN(d.getTime())) return null;
  const y = d.getFullYear();
  if (y < 1900 || y > 2100) return null;
  return formatDate(d, pattern) === value ? d : null;
}

/** A column's date format: undefined for ISO instants, a date-fns pattern, or null if it holds no dates. */
export function inferDateFormat(values: readonly string[]): { format: string | undefined; hasTime: boolean } | null {
  const vals = nonEmpty(values);
  if (!vals.length) return null;
  if (share(vals, (v) => ISO_INSTANT.test(v) && !Number.isNaN(Date.parse(v))) >= QUORUM) return { format: undefined, hasTime: true };
  let best: { pattern: string; score: number } | null = null;
  for (const pattern of DATE_PATTERNS) {
    const score = share(vals, (v) => parseWith(v, pattern) !== null);
    if (score >= QUORUM && (!best || score > best.score)) best = { pattern, score };
  }
  return best ? { format: best.pattern, hasTime: /[Hh]/.test(best.pattern) } : null;
}

// ---------- sex codes ----------

/** Known pairs of codes, [female, male], compared in lower case. */
const SEX_PAIRS: [string, string][] = [
  ['f', 'm'],
  ['女', '男'],
  ['female', 'male'],
  ['女婴', '男婴'],
  ['女孩', '男孩'],
  ['g', 'b'],
  ['2', '1'],
];

function caseLike(code: string, example: string): string {
  if (example === example.toUpperCase() && example !== example.toLowerCase()) return code.toUpperCase();
  if (example[0] === example[0].toUpperCase() && example[0] !== example[0].toLowerCase()) return code[0].toUpperCase() + code.slice(1);
  return code;
}

/** The map from Cradle's female/male to the column's own codes; numeric codes only when the header says sex. */
export function inferSexMap(values: readonly string[], numeric = false): Record<string, string> | null {
  const vals = nonEmpty(values);
  if (!vals.length) return null;
  for (const [female, male] of SEX_PAIRS) {
    if (!numeric && /^\d$/.test(female)) continue;
    if (share(vals, (v) => v.toLowerCase() === female || v.toLowerCase() === male) < QUORUM) continue;
    const f = vals.find((v) => v.toLowerCase() === female);
    const m = vals.find((v) => v.toLowerCase() === male);
    const example = f ?? m!;
    return { female: f ?? caseLike(female, example), male: m ?? caseLike(male, example) };
  }
  return null;
}

// ---------- weights ----------

/** Grams or kilograms, by the range of the values; null if they are not birth weights. */
export function inferWeightUnit(values: readonly string[]): 'baby.weightGrams' | 'baby.weightKg' | null {
  const nums = nonEmpty(values).map((v) => Number(v.replace(/\s*(kg|g|克|千克|公斤)$/i, '')));
  if (!nums.length || nums.filter((n) => Number.isFinite(n)).length / nums.length < QUORUM) return null;
  const sorted = nums.filter((n) => Number.isFinite(n)).sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1];
  if (median >= 300 && median <= 7000) return 'baby.weightGrams';
  if (median >= 0.3 && median <= 7) return 'baby.weightKg';
  return null;
}

// ---------- columns ----------

function fieldValue(field: string, extra: Partial<FieldValue> = {}): FieldValue {
  return { type: 'field', field, kind: FIELDS[field].kind, ...extra };
}

/**
 * The field value for `field` in a column with these values, styled as the values are; null if the
 * values contradict the field (a 'birth_id' column of numbers is no birth time).
 */
export function styleColumn(field: string, values: readonly string[], base?: FieldValue): FieldValue | null {
  if (field === 'baby.weight') {
    const unit = inferWeightUnit(values);
    return unit ? fieldValue(unit) : null;
  }
  const def = FIELDS[field];
  if (!def) return null;
  const v: FieldValue = base ? { ...base } : fieldValue(field);
  const vals = nonEmpty(values);
  if (!vals.length) return v.kind === 'sex' && !v.map ? null : v;
  if (def.kind === 'phone') {
    const style = inferPhoneStyle(vals);
    if (!style) return null;
    v.phone = style;
  } else if (def.kind === 'date' || def.kind === 'instant') {
    const d = inferDateFormat(vals);
    if (!d) return null;
    if (d.format === undefined) delete v.format;
    else v.format = d.format;
  } else if (def.kind === 'sex') {
    const map = inferSexMap(vals, true);
    if (!map) return v.map ? v : null;
    v.map = map;
  } else if (def.kind === 'number') {
    if (share(vals, (x) => Number.isFinite(Number(x))) < QUORUM) return null;
  }
  return v;
}

/** What the values alone say a column holds, for columns whose names say nothing. */
export function sniffColumn(values: readonly string[], taken: ReadonlySet<string>): FieldValue | null {
  const vals = nonEmpty(values);
  if (vals.length === 0) return null;
  const free = (f: string) => !taken.has(f);
  const phone = inferPhoneStyle(vals);
  if (phone) {
    const field = free('mother.phone') ? 'mother.phone' : free('father.phone') ? 'father.phone' : null;
    return field ? fieldValue(field, { phone }) : null;
  }
  if (share(vals, (v) => /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v)) >= QUORUM) return free('mother.email') ? fieldValue('mother.email') : null;
  const sex = inferSexMap(vals);
  if (sex) return free('baby.sex') ? fieldValue('baby.sex', { map: sex }) : null;
  const date = inferDateFormat(vals);
  if (date) {
    const years = date.format === undefined ? vals.map((v) => new Date(v).getFullYear()) : vals.map((v) => parseWith(v, date.format!)?.getFullYear() ?? 0);
    const old = years.filter((y) => y > 0 && y < new Date().getFullYear() - 12).length / years.length >= QUORUM;
    const field = old && !date.hasTime ? 'mother.birthDate' : 'baby.birthTime';
    return free(field) ? fieldValue(field, date.format ? { format: date.format } : {}) : null;
  }
  if (share(vals, (v) => /^\d{4}$/.test(v) && Number(v) >= 1000 && Number(v) <= 5500) >= QUORUM && free('baby.weightGrams')) return fieldValue('baby.weightGrams');
  if (share(vals, (v) => /^\d\.\d{1,3}$/.test(v) && Number(v) >= 1 && Number(v) <= 5.5) >= QUORUM && free('baby.weightKg')) return fieldValue('baby.weightKg');
  return null;
}

/**
 * Which family field each column of a file holds, styled as the file writes it: --map first, then
 * the mapping's own column names and field names, then header words, then the values themselves.
 * Each field goes to one column at most (the first); the rest keep real rows' values.
 */
export function inferColumns(header: readonly string[], rows: readonly (readonly string[])[], options: { mapping?: Mapping; overrides?: Record<string, string> } = {}): InferredColumn[] {
  const byColumn = new Map<string, FieldValue>();
  for (const step of options.mapping?.inserts ?? []) {
    for (const { column, value } of step.columns) if (value.type === 'field' && !byColumn.has(column.toLowerCase())) byColumn.set(column.toLowerCase(), value);
  }
  const values = (i: number) => rows.map((r) => r[i] ?? '');
  const out: InferredColumn[] = header.map((name) => ({ name, value: null, by: null }));
  const taken = new Set<string>();
  const take = (i: number, value: FieldValue | null, by: InferredBy): boolean => {
    if (!value || taken.has(value.field)) return false;
    out[i] = { name: header[i], value, by };
    taken.add(value.field);
    return true;
  };
  // --map is obeyed as given, styled by the values where they say how.
  header.forEach((name, i) => {
    const field = options.overrides?.[name];
    if (field && FIELDS[field]) take(i, styleColumn(field, values(i)) ?? fieldValue(field), 'map');
  });
  header.forEach((name, i) => {
    if (out[i].by) return;
    const key = normalise(name);
    const mapped = byColumn.get(name.trim().toLowerCase());
    if (mapped) {
      take(i, styleColumn(mapped.field, values(i), mapped), 'mapping');
      return;
    }
    const field = Object.keys(FIELDS).find((f) => f.toLowerCase() === name.trim().toLowerCase() || normalise(f.replace('.', '')) === key);
    if (field) take(i, styleColumn(field, values(i)), 'field');
  });
  header.forEach((name, i) => {
    if (out[i].by) return;
    const field = fieldOfHeader(name);
    if (field) take(i, styleColumn(field, values(i)), 'header');
  });
  header.forEach((_, i) => {
    if (out[i].by || fieldOfHeader(header[i])) return;
    take(i, sniffColumn(values(i), taken), 'values');
  });
  return out;
}

/** The inferred columns for people and JSON: column → field and how it is written. */
export function describeColumns(columns: readonly InferredColumn[]): Record<string, { field: string; by: InferredBy; format?: string; phone?: string; map?: Record<string, string | number> } | null> {
  return Object.fromEntries(
    columns.map((c) => [
      c.name,
      c.value && c.by
        ? {
            field: c.value.field,
            by: c.by,
            ...(c.value.format ? { format: c.value.format } : {}),
            ...(c.value.phone ? { phone: c.value.phone } : {}),
            ...(c.value.map ? { map: c.value.map } : {}),
          }
        : null,
    ]),
  );
}

/** True if a header row looks like data: a cell that is a phone, a date or a number. */
export function looksLikeData(header: readonly string[]): boolean {
  return header.some((h) => {
    const v = h.replace(/^\uFEFF/, '').trim();
    return v !== '' && (/^[+\d][\d\s\-/.:+()T]*$/.test(v) || phoneShape(v) !== null || ISO_INSTANT.test(v));
  });
}
