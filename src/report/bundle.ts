import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import type { LedgerEntry } from '../vault/ledger.js';
import type { IncidentReportData } from './data.js';

// `cradle evidence export`: the evidence bundle handed to the police or a regulator, as plain data
// and a tar.gz stream. Everything here is pure but the packing, which writes to a stream it returns;
// reading the vault is evidence.ts's, writing the file the CLI's.
//
// <root>/README.txt          what this is and how to check it without Cradle
// <root>/incident.json       the incident, its canaries, the trace's suspects, the exposures
// <root>/report.html|md      the incident report (each also recorded in the ledger)
// <root>/hits.json           the hits with their reasons
// <root>/events/<id>.raw     each contact's bytes as they arrived; <id>.json its metadata
// <root>/exports/<id>.json   the manifest of each export involved (never the exported file)
// <root>/scan/files.json, scan/matches.json   for a scan incident
// <root>/ledger.jsonl        the ledger entries about the incident and its evidence, in seq order
// <root>/ledger-head.txt     the ledger's head when the bundle was made
// <root>/SHA256SUMS          sha256 of every other file, as sha256sum writes it

export interface BundleFile {
  /** Path inside the bundle's directory, with forward slashes. */
  path: string;
  data: Buffer;
}

export interface PackedFile {
  path: string;
  sha256: string;
  bytes: number;
}

/** A ledger entry as it goes into ledger.jsonl: every field, `at` as ISO 8601 with milliseconds. */
export type BundleLedgerEntry = Omit<LedgerEntry, 'at'> & { at: string };

export interface BundleContact {
  id: number;
  source: string;
  provider_id: string | null;
  kind: string;
  /** The caller or sender, masked unless the bundle is unmasked. */
  from: string | null;
  to: string;
  occurred_at: string;
  received_at: string;
  remote_addr: string | null;
  /** As stored in the vault when the contact arrived. */
  sha256: string;
  hits: number[];
  canaries: string[];
}

export interface BundleExport {
  id: string;
  recipient: string | null;
  channel: string;
  hospital: string;
  operator: string | null;
  file_name: string;
  format: string;
  sha256: string;
  bytes: number;
  rows: number;
  canary_count: number;
  created_at: string;
  query: string;
  params: unknown[];
  /** Every canary that went out in the file (its own, and seeded ones its query returned). */
  canaries: { id: string; own: boolean }[];
  /** Which of them are this incident's. */
  incident_canaries: string[];
  /** Its rank among the trace's suspects, or null when it exposed the canaries but is not ranked. */
  suspect_rank: number | null;
  posterior: number | null;
}

/** Everything a bundle holds but the raw bytes, read from the vault (evidence.ts). */
export interface EvidenceData {
  generatedAt: string;
  generatedBy: string | null;
  command: string | null;
  tool: string | null;
  unmasked: boolean;
  report: IncidentReportData;
  contacts: BundleContact[];
  exports: BundleExport[];
  ledger: BundleLedgerEntry[];
  head: { seq: number; hash: string; at: string } | null;
}

export const BUNDLE_FORMAT = 'cradle-evidence-bundle';

/** The directory the bundle's files are in, inside the tar. */
export function bundleRoot(incidentId: string): string {
  return `evidence-${incidentId.replace(/[^\w.-]/g, '_')}`;
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value, null, 2) + '\n');

export function incidentDocument(d: EvidenceData): unknown {
  const r = d.report;
  return {
    format: `${BUNDLE_FORMAT}/incident`,
    version: 1,
    generatedAt: d.generatedAt,
    unmasked: d.unmasked,
    hospitals: r.hospitals,
    incident: r.incident,
    canaries: r.canaries,
    trace: { weeks: r.weeks, leakedBy: r.leakedBy, candidates: r.candidates, vaultSize: r.vaultSize, model: r.model, suspects: r.suspects },
    exposures: r.exposures,
  };
}

export function contactDocument(c: BundleContact, unmasked: boolean): unknown {
  return { ...c, raw: `events/${c.id}.raw`, masked: !unmasked && c.from !== null };
}

export function exportDocument(x: BundleExport): unknown {
  return { ...x, note: 'The manifest only: the exported file holds real patients and is not in this bundle. Compare the sha256 of a copy you hold with this one.' };
}

/** ledger.jsonl: one entry a line, every field, in seq order. */
export function ledgerLines(entries: readonly BundleLedgerEntry[]): Buffer {
  const lines = [...entries]
    .sort((a, b) => a.seq - b.seq)
    .map((e) => JSON.stringify({ seq: e.seq, at: e.at, kind: e.kind, ref: e.ref, incident_id: e.incident_id, actor: e.actor, content: e.content, content_hash: e.content_hash, prev_hash: e.prev_hash, hash: e.hash }));
  return Buffer.from(lines.map((l) => l + '\n').join(''));
}

export function ledgerHeadText(head: EvidenceData['head']): Buffer {
  return Buffer.from(head ? `${head.seq} ${head.hash} ${head.at}\n` : 'empty\n');
}

/** sha256sum's format: `<hex>  <path>`, one file a line. */
export function sha256sums(files: readonly PackedFile[]): Buffer {
  return Buffer.from(files.map((f) => `${f.sha256}  ${f.path}\n`).join(''));
}

/** Ranges of consecutive seqs, for the README: "12-15, 31, 40-41". */
export function seqRanges(seqs: readonly number[]): string {
  const sorted = [...new Set(seqs)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    out.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return out.join(', ');
}

const PYTHON_CHECK = `import hashlib, json
canon = lambda v: json.dumps(v, sort_keys=True, separators=(',', ':'), ensure_ascii=False)
sha = lambda s: hashlib.sha256(s.encode('utf-8')).hexdigest()
prev = None
for line in open('ledger.jsonl', encoding='utf-8'):
    e = json.loads(line)
    assert sha(canon(e['content'])) == e['content_hash'], f"#{e['seq']}: content altered"
    fields = [e['prev_hash'], str(e['seq']), e['at'], e['kind'], e['ref'], e['incident_id'] or '', e['actor'] or '', e['content_hash']]
    assert sha('|'.join(fields)) == e['hash'], f"#{e['seq']}: entry altered"
    if prev and prev['seq'] + 1 == e['seq']:
        assert e['prev_hash'] == prev['hash'], f"#{e['seq']}: does not chain to #{prev['seq']}"
    prev = e
print('ledger slice intact, last entry', prev['seq'], prev['hash'])`;

export function readme(d: EvidenceData, files: { path: string; what: string }[]): Buffer {
  const r = d.report;
  const inc = r.incident;
  const hits = r.hits.length;
  const canaries = r.canaries.length;
  const seqs = d.ledger.map((e) => e.seq);
  const top = r.suspects[0];
  const text = `CRADLE EVIDENCE BUNDLE — incident ${inc.id}
${'='.repeat(40 + inc.id.length)}

Incident:        ${inc.id} (${inc.source === 'hits' ? 'contacts with canary trap numbers or mailboxes' : 'a scan of seized files'}), ${inc.status}, opened ${inc.createdAt}
Title:           ${inc.title}
Hospital(s):     ${r.hospitals.join(', ') || '-'}
Canaries:        ${canaries} (planted in ${r.weeks.join(', ') || '-'})
Evidence:        ${inc.source === 'hits' ? `${hits} hit(s) from ${d.contacts.length} contact event(s)` : `${r.scan?.files.length ?? 0} file(s) scanned, ${r.scan?.matches.length ?? 0} match(es)`}
Most likely:     ${top ? `${top.label} (posterior ${top.posterior.toFixed(3)})` : '-'}
Made:            ${d.generatedAt}${d.generatedBy ? ` by ${d.generatedBy}` : ''}${d.tool ? ` with ${d.tool}` : ''}
${d.command ? `Command:         ${d.command}\n` : ''}Ledger head:     ${d.head ? `#${d.head.seq} ${d.head.hash} (${d.head.at})` : 'the ledger was empty'}
Callers:         ${d.unmasked ? 'shown in full (made with --unmasked)' : 'masked to the last four digits in the JSON and the reports'}

This bundle is what Cradle recorded about the incident, so that it can be checked without Cradle.
Cradle plants fictitious "canary" newborn families in a hospital's records and gives them phone
numbers and mailboxes it owns; anyone who contacts one of them got the record from a leak. The
canaries' names and numbers below are fictitious and shown in full. The exported files named in
exports/ are NOT included: they hold real patients; only their manifests (name, sha256, size,
who exported them, to whom) are.

FILES

${files.map((f) => `  ${f.path.padEnd(24)} ${f.what}`).join('\n')}

THE RAW EVENTS AND THE LEDGER ARE EVIDENCE AND ARE NOT MASKED
events/<id>.raw are the bytes exactly as the provider delivered them to Cradle (an HTTP request
body, an e-mail message, a CDR line). They contain the callers' and senders' full numbers and
addresses${d.unmasked ? '' : ', even though the JSON files and the reports in this bundle mask them'}.
So do the "contact" entries of ledger.jsonl: their hashes would not recompute otherwise.
Handle them as personal data.

HOW TO CHECK IT

1. Every file is intact (GNU coreutils; on macOS \`shasum -a 256 -c SHA256SUMS\`):

     cd ${bundleRoot(inc.id)} && sha256sum -c SHA256SUMS

2. Each raw event is what the vault recorded when it arrived: the sha256 of events/<id>.raw equals
   "sha256" in events/<id>.json, in hits.json and in the ledger's "contact" entry for that id:

     sha256sum events/*.raw

3. The ledger slice is unaltered. Cradle's evidence ledger is hash-chained:

     content_hash = sha256( canonical JSON of content )
     hash         = sha256( prev_hash | seq | at | kind | ref | incident_id | actor | content_hash )
     prev_hash    = hash of entry seq - 1 (for entry 1: 64 zeros)

   Canonical JSON: object keys sorted at every level, no whitespace, non-ASCII characters as they
   are (UTF-8). "|" joins the fields' text; seq in decimal; at as in the file (ISO 8601 UTC with
   milliseconds); a null incident_id or actor as the empty string. Hashes are lowercase hex.
   This slice holds the entries about the incident and its evidence only (#${seqRanges(seqs) || '-'}),
   so each entry's hashes recompute, and entries with consecutive seq numbers chain. With Python 3,
   in the bundle's directory, paste:

python3 - <<'EOF'
${PYTHON_CHECK}
EOF

   Or with Node.js (no dependencies), for one entry's content_hash:

     node -e 'const c=v=>v===null||typeof v!=="object"?JSON.stringify(v):Array.isArray(v)?"["+v.map(c).join(",")+"]":"{"+Object.keys(v).sort().map(k=>JSON.stringify(k)+":"+c(v[k])).join(",")+"}";for(const l of require("fs").readFileSync("ledger.jsonl","utf8").trim().split("\\n")){const e=JSON.parse(l);console.log(e.seq,require("crypto").createHash("sha256").update(c(e.content)).digest("hex")===e.content_hash)}'

4. The ledger has not been rewritten since: compare ledger-head.txt (seq, hash, time) with a head
   hash the hospital sent you or published earlier (an anchor), and ask them to run
   \`cradle verify --anchor <hash>\` on the vault: the whole chain, up to this head and beyond, is
   then checked against every row of evidence.

5. An exported file you were given is the one in the manifest when its sha256 equals "sha256" in
   exports/<id>.json (and in the ledger's "export" entry for that id).

The reports (report.html, report.md) were written for this bundle; each is recorded in the ledger as
a "report" entry holding its sha256 (and the temporary path it was written to before being packed).
Making this bundle is itself recorded in the ledger, after the head above, as an "evidence" entry
holding the bundle's sha256 and every file's hash.
`;
  return Buffer.from(text);
}

/** What each file is, for the README's list. */
export function fileDescriptions(d: EvidenceData): { path: string; what: string }[] {
  const out = [
    { path: 'README.txt', what: 'this file' },
    { path: 'incident.json', what: 'the incident, its canaries, the trace (ranked suspects with reasons), the exposures' },
    { path: 'report.html', what: 'the incident report, for reading (open in a browser)' },
    { path: 'report.md', what: 'the same report as Markdown' },
    { path: 'hits.json', what: 'the hits: each contact matched to a canary, with confidence and reasons' },
  ];
  if (d.contacts.length) out.push({ path: 'events/<id>.raw', what: 'each contact event as it arrived, byte for byte' }, { path: 'events/<id>.json', what: "its metadata: source, provider id, kind, from/to, times, sha256" });
  if (d.exports.length) out.push({ path: 'exports/<id>.json', what: 'the manifest of each export that held the canaries (not the file)' });
  if (d.report.scan) out.push({ path: 'scan/files.json', what: 'the seized files scanned: name, sha256, size' }, { path: 'scan/matches.json', what: 'every canary found in them, with its place' });
  out.push(
    { path: 'ledger.jsonl', what: 'the ledger entries about the incident and its evidence, one JSON a line' },
    { path: 'ledger-head.txt', what: "the ledger's head at export time: seq, hash, time" },
    { path: 'SHA256SUMS', what: 'sha256 of every other file' },
  );
  return out;
}

/**
 * Every file of the bundle but SHA256SUMS, in the order they are packed. The raw bytes are read one
 * contact at a time through `raw`, so a bundle of large recordings is never held whole.
 */
export async function* bundleFiles(d: EvidenceData, reports: { html: Buffer; md: Buffer }, raw: (contactId: number) => Promise<Buffer>): AsyncGenerator<BundleFile> {
  yield { path: 'README.txt', data: readme(d, fileDescriptions(d)) };
  yield { path: 'incident.json', data: json(incidentDocument(d)) };
  yield { path: 'report.html', data: reports.html };
  yield { path: 'report.md', data: reports.md };
  yield { path: 'hits.json', data: json(d.report.hits) };
  for (const c of d.contacts) {
    yield { path: `events/${c.id}.raw`, data: await raw(c.id) };
    yield { path: `events/${c.id}.json`, data: json(contactDocument(c, d.unmasked)) };
  }
  for (const x of d.exports) yield { path: `exports/${x.id}.json`, data: json(exportDocument(x)) };
  if (d.report.scan) {
    yield { path: 'scan/files.json', data: json(d.report.scan.files) };
    yield { path: 'scan/matches.json', data: json(d.report.scan.matches) };
  }
  yield { path: 'ledger.jsonl', data: ledgerLines(d.ledger) };
  yield { path: 'ledger-head.txt', data: ledgerHeadText(d.head) };
}

export interface PackResult {
  /** Every file packed, SHA256SUMS last, with its hash. */
  files: PackedFile[];
}

/**
 * Pack the files under `root/` into a gzip-compressed tar, SHA256SUMS last (of every file before
 * it), returning the compressed stream at once and the packed files' hashes when it is done.
 */
export function packBundle(files: AsyncIterable<BundleFile>, options: { root: string; mtime: Date }): { stream: Readable; done: Promise<PackResult> } {
  const pack = tar.pack();
  const gzip = createGzip({ level: 9 });
  const out = new PassThrough();
  pack.on('error', (err: Error) => out.destroy(err));
  gzip.on('error', (err: Error) => out.destroy(err));
  pack.pipe(gzip).pipe(out);
  const entry = (path: string, data: Buffer) =>
    new Promise<void>((resolve, reject) =>
      pack.entry({ name: `${options.root}/${path}`, size: data.length, mode: 0o644, mtime: options.mtime, uname: 'cradle', gname: 'cradle' }, data, (err) => (err ? reject(err) : resolve())),
    );
  const done = (async () => {
    const packed: PackedFile[] = [];
    try {
      for await (const f of files) {
        await entry(f.path, f.data);
        packed.push({ path: f.path, sha256: createHash('sha256').update(f.data).digest('hex'), bytes: f.data.length });
      }
      const sums = sha256sums(packed);
      await entry('SHA256SUMS', sums);
      packed.push({ path: 'SHA256SUMS', sha256: createHash('sha256').update(sums).digest('hex'), bytes: sums.length });
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
      throw err;
    }
    return { files: packed };
  })();
  // The caller sees a failure through the stream as well; avoid an unhandled rejection meanwhile.
  done.catch((err: Error) => out.destroy(err));
  return { stream: out, done };
}
