import { formatEn, shortHash } from './format.js';
import type { IncidentStrings } from './types.js';

export const incidentEn: IncidentStrings = {
  ...formatEn,
  title: (id) => `Incident report ${id}`,
  subtitle: 'Canary families made by Cradle (planted in the hospital’s newborn records, or written only into its export files) were found outside the hospital. This report says what leaked, from where most likely, and on what evidence.',
  sections: {
    summary: 'Summary',
    timeline: 'Timeline',
    evidence: 'Evidence',
    canaries: 'Canary families involved',
    suspects: 'Suspected sources',
    assumptions: 'How the source was traced: assumptions',
    history: 'History',
    custody: 'Chain of custody',
    actions: 'Recommended actions',
  },
  meta: { incident: 'Incident', source: 'Found by', status: 'Status', hospital: 'Hospital', generated: 'Report made', by: 'by', command: 'Command', tool: 'Tool', times: 'All times are UTC.' },
  sourceName: (s) => (s === 'hits' ? 'contacts on trap numbers or mailboxes' : 'a scan of seized files'),
  status: (s) => ({ open: 'open', closed: 'closed', dismissed: 'dismissed (not a leak)', merged: 'merged into another incident' })[s] ?? s,
  masked: 'Callers’ numbers are partly masked (all but the last four digits); canary numbers are Cradle’s own trap numbers and are shown in full.',
  unmasked: 'This report shows callers’ numbers in full (made with --unmasked): handle it as personal data.',
  cols: {
    when: 'When', kind: 'Kind', from: 'From', to: 'To (trap)', canary: 'Canary', confidence: 'Confidence', why: 'Why', contact: 'Contact', sha256: 'SHA-256',
    id: 'Canary', mother: 'Mother', phone: 'Trap number', father: 'Father', week: 'Week or export', planted: 'Planted or exported', firstEvidence: 'First evidence', evidence: 'Evidence', ward: 'Ward',
    rank: '#', suspect: 'Suspect', probability: 'Probability', explains: 'Explains', window: 'Leak window',
    file: 'File', place: 'Place', column: 'Column', matched: 'Matched', bytes: 'Bytes', format: 'Format', records: 'Records', role: 'Role', ref: 'Reference',
    seq: 'Seq', ledgerKind: 'Entry', actor: 'Actor', hash: 'Entry hash', verified: 'Hash checks', action: 'Action', line: 'Line', account: 'Account',
  },
  yes: 'yes',
  no: 'NO',
  noHits: 'No contacts are recorded for this incident.',
  noSuspects: 'No channel Cradle knows of saw these canaries.',
  noLedger: 'The ledger holds no entries about this incident yet.',
  noFiles: 'No files.',
  scanFiles: 'Files scanned',
  scanMatches: 'Canary records found in them',
  contacts: 'Contacts with the canaries’ trap numbers and mailboxes',
  logLines: 'Access-log lines',
  message: 'Message',
  custodyFiles: 'Files and records the evidence rests on',
  ledgerEntries: 'Ledger entries',
  ledgerHead: (seq, at) => `Ledger head when this report was made: entry ${seq}, ${at}. Hash:`,
  ledgerHeadNote: 'Each ledger entry holds the hash of the one before it. Keep this hash somewhere outside Cradle (an e-mail to the committee, a printed copy): any later change to the ledger up to this entry breaks the chain and is found by `cradle verify`.',
  ledgerEmpty: 'The ledger is empty.',
  verifyNote: 'A contact’s hash is that of its raw bytes as they arrived: `cradle contact <id> --raw | sha256sum` prints the same. An export’s or a seized file’s hash is that of the file: `sha256sum <file>`.',
  fileRole: (r) => ({ export: 'export file', scan: 'seized file', contact: 'contact (raw)', 'access-log': 'access log' })[r],
  timelineCaption: (o, scan, band) =>
    `When the canaries were ${({ seeded: 'planted', export: 'written into export files', both: 'planted or written into export files' })[o]}, when the suspected channels saw them, and when ${scan ? 'the seized files were scanned' : 'they were contacted'}${
      band ? `; the shaded band is the leak window of ${band.top ? 'the most likely source' : 'the most likely source Cradle has a record of'}, ${band.label}` : ''
    }.`,
  timelineText: 'Events in time order',
  unknownSource: 'unknown source',
  exportOnlyCell: (files) => `export only: ${files.map((f) => `${f.file} (${f.id})`).join(', ')}`,
  lanes: { planted: (o) => ({ seeded: 'Canaries planted', export: 'Canaries exported', both: 'Canaries planted or exported' })[o], contacts: 'Contacts / hits', seizure: 'Seizure / scan', window: (l) => `Leak window: ${l}`, week: (w) => `week ${w}` },
  marks: {
    planted: (n, w, o) => `${n} ${o === 'export' ? 'export-only ' : ''}canar${n === 1 ? 'y' : 'ies'} ${({ seeded: 'planted', export: 'written into an export file', both: 'planted or exported' })[o]} ${w}`,
    exposure: (n, c, w) => `${n} canar${n === 1 ? 'y' : 'ies'} seen by ${c} ${w}`,
    contact: (n, w) => `${n} contact${n === 1 ? '' : 's'} ${w}`,
    seizure: (w) => `seized files scanned ${w}`,
    window: (l, f, t) => `leak window of ${l}: after ${f}, before ${t}`,
  },
  suspectKind: (k) => ({ export: 'export', account: 'account', system: 'system', ward: 'ward', merged: 'two leaks', unknown: 'unknown' })[k],
  describe: (s) => {
    const name = s.label.slice(s.label.indexOf(':') + 1);
    switch (s.kind) {
      case 'export':
        return s.export
          ? `export ${s.export.id} to ${s.export.recipient ?? name} (operator ${s.export.operator ?? 'unknown'}, file ${s.export.file ?? '?'}, sha256 ${s.export.sha256 ?? '?'})`
          : `the export to ${name}`;
      case 'account':
        return `the account ${name}`;
      case 'system':
        return `the system ${name}`;
      case 'ward':
        return `the ward ${name}`;
      case 'merged':
        return `two separate leaks together, ${(s.parts ?? [s.label]).join(' and ')}`;
      default:
        return 'a source Cradle has no record of';
    }
  },
  reason: (r) => {
    switch (r.code) {
      case 'explains':
        return r.explained === r.total ? `It had seen all ${r.total} canaries found, before the evidence of their leak.` : `It had seen ${r.explained} of the ${r.total} canaries found, before the evidence of their leak.`;
      case 'channel-size':
        return `It saw ${r.seen} canar${r.seen === 1 ? 'y' : 'ies'} in all: the fewer besides those found, the sharper the match.`;
      case 'unexplained':
        return `It cannot explain ${r.canaries.length} canar${r.canaries.length === 1 ? 'y' : 'ies'} (${r.canaries.slice(0, 6).join(', ')}${r.canaries.length > 6 ? ', …' : ''}): never seen by it, or seen only after they leaked.`;
      case 'exported':
        return `Exported${r.at ? ` on ${incidentEn.dateTime(r.at)}` : ''}${r.operator ? ` by operator ${r.operator}` : ''}${r.recipient ? ` to ${r.recipient}` : ''}${r.file ? ` as ${r.file}` : ''}.`;
      case 'log-lines':
        return `The hospital’s access log shows it opening them in ${r.lines} line${r.lines === 1 ? '' : 's'} (${r.actions.join(', ')}).`;
      case 'window':
        return `The leak would have happened between ${incidentEn.dateTime(r.from)} and ${incidentEn.dateTime(r.to)}.`;
      case 'merged':
        return `Two leaks at once: ${r.parts.join(' and ')}, each explaining part of the canaries.`;
      case 'unknown-source':
        return `Stands for any channel Cradle has no record of (prior probability ${incidentEn.pct(r.prior)}).`;
    }
  },
  certainty: (p) => (p >= 0.95 ? 'very likely' : p >= 0.8 ? 'likely' : p >= 0.5 ? 'more likely than not' : 'uncertain'),
  summary: (f) => {
    const n = f.canaries;
    // All seeded: their weeks say when they were planted; export-only ones were never planted (below).
    const fam = `${n} canary famil${n === 1 ? 'y' : 'ies'}${f.exportOnly === 0 && f.weeks.length ? ` planted in week${f.weeks.length > 1 ? 's' : ''} ${incidentEn.list(f.weeks)}` : ''}`;
    const hosp = f.hospitals.length ? f.hospitals.join(', ') : 'the hospital';
    let text: string;
    if (f.source === 'hits') {
      const when = f.from && f.to ? (incidentEn.date(f.from) === incidentEn.date(f.to) ? `On ${incidentEn.date(f.from)}` : `Between ${incidentEn.dateRange(f.from, f.to)}`) : 'Recently';
      text = `${when}, ${fam} ${n === 1 ? 'was' : 'were'} contacted ${f.hits} time${f.hits === 1 ? '' : 's'}${f.senders ? ` by ${f.senders} sender${f.senders === 1 ? '' : 's'}` : ''}.`;
    } else {
      text = `On ${f.from ? incidentEn.date(f.from) : '?'}, a scan of ${f.files} seized file${f.files === 1 ? '' : 's'} found ${fam}.`;
    }
    // Where the canaries exist says where their data came from: the newborn records, or only export files.
    const all = (k: number) => k === n;
    const seeded = f.seeded && f.exportOnly
      ? `${all(f.seeded) ? (n === 1 ? 'it was' : 'they were') : `${f.seeded} of them ${f.seeded === 1 ? 'was' : 'were'}`} planted in week${f.weeks.length > 1 ? 's' : ''} ${incidentEn.list(f.weeks)} into the newborn records of ${hosp}`
      : '';
    const shown = f.exportFiles.slice(0, 3).map((x) => `${x.file} (export ${x.id} to ${x.recipient})`);
    const files = f.exportFiles.length > 3 ? `${shown.join(', ')} and ${f.exportFiles.length - 3} more` : incidentEn.list(shown);
    const exported = f.exportOnly
      ? `${all(f.exportOnly) ? (n === 1 ? 'it is an export-only canary' : 'they are export-only canaries') : `${f.exportOnly} ${f.exportOnly === 1 ? 'is an export-only canary' : 'are export-only canaries'}`}, never in the newborn records, written only into the export file${f.exportFiles.length === 1 ? '' : 's'} ${files}`
      : '';
    if (f.exportOnly === 0) text += ` ${n === 1 ? 'This family does' : 'These families do'} not exist: Cradle planted ${n === 1 ? 'it' : 'them'} in the newborn records of ${hosp}, so ${n === 1 ? 'its' : 'their'} data left the hospital.`;
    else text += ` ${n === 1 ? 'This family does' : 'These families do'} not exist: ${[seeded, exported].filter(Boolean).join('; ')}${f.seeded === 0 ? `, so the data came from ${f.exportFiles.length === 1 ? 'that file' : 'those files'}.` : '.'}`;
    const t = f.top;
    if (!t) return `${text} No channel Cradle knows of saw them; the source cannot be traced from Cradle’s records.`;
    if (t.kind === 'unknown') text += ` Cradle cannot name the source: the most likely explanation, with probability ${incidentEn.pct(t.posterior)}, is a channel it has no record of.`;
    else {
      text += ` The most likely source is ${incidentEn.describe(t)}, with probability ${incidentEn.pct(t.posterior)} (${incidentEn.certainty(t.posterior)}).`;
      if (t.window) text += ` The leak most likely happened between ${incidentEn.dateRange(t.window.from, t.window.to)}.`;
    }
    if (f.next) text += ` The next suspect, ${f.next.kind === 'unknown' ? 'an unknown source' : f.next.label}, has ${incidentEn.pct(f.next.posterior)}.`;
    return text;
  },
  assumptions: (m, N, U) => [
    `Canary families are fictitious and exist only where Cradle put them: in the hospital’s newborn records, or (export-only canaries) in the export files Cradle wrote; a contact on a canary’s trap number, or a canary in a seized file, means its record left the hospital.`,
    `A channel (an export file, an account, a system, a ward) can only have leaked canaries Cradle recorded it seeing, and only after it saw them. ${U} channel${U === 1 ? '' : 's'} saw these canaries; the vault holds ${N} canar${N === 1 ? 'y' : 'ies'}.`,
    `The leak happened at one unknown moment, within the window from when the first of the canaries found was planted or exported to the first evidence of the last of them; the first evidence follows the leak by ${incidentEn.num(m.evidenceDelayDays)} days on average.`,
    `A leak holds some of what the channel had seen by then; a small share is as likely as a large one (a leak of 1% as likely as one of 10%). So a channel that saw few canaries besides those found explains them more sharply than one that saw thousands.`,
    `Canaries found that the channel cannot explain are counted as noise (a false match or a stray contact): ${incidentEn.num(m.noise)} such canaries per incident on average.`,
    `Before the evidence, every channel is equally likely; a source Cradle has no record of has prior probability ${incidentEn.pct(m.unknownPrior)}, two separate leaks merged into one incident ${incidentEn.pct(m.mergePrior)}.`,
    `The probabilities are only as good as the records: a channel that handled the data without Cradle knowing (an unrecorded export, a log not imported) is covered only by the unknown source.`,
  ],
  action: (a, s) => {
    const name = s ? s.label.slice(s.label.indexOf(':') + 1) : '';
    switch (a) {
      case 'contact-recipient':
        return `Contact ${s?.export?.recipient ?? name} about export ${s?.export?.id ?? ''}: ask who held the file and where it went.`;
      case 'revoke-agreement':
        return `Suspend or revoke the data-sharing agreement with ${s?.export?.recipient ?? name} until it is explained.`;
      case 'preserve-export':
        return `Preserve the export file ${s?.export?.file ?? ''} and its manifest (sha256 ${shortHash(s?.export?.sha256)}) as evidence.`;
      case 'suspend-account':
        return `Suspend the account ${name} pending review, and review its other activity.`;
      case 'preserve-access-logs':
        return `Preserve the access logs that show the account’s actions, in their original files.`;
      case 'review-account':
        return `Ask the account holder and their manager about the access, with the log lines in this report.`;
      case 'audit-integrations':
        return `Audit the integrations and interfaces of ${name}: who and what reads its newborn data, and where it sends it.`;
      case 'audit-ward':
        return `Review who had access to the ward ${name}’s records and paper charts in the leak window.`;
      case 'widen-coverage':
        return `Widen canary coverage (more channels recorded, access logs imported, exports through Cradle) so the next leak can be traced.`;
      case 'inconclusive':
        return `Treat the source as not established: the evidence does not single out one channel.`;
      case 'preserve-contacts':
        return `Keep the recorded contacts (raw bytes, hashes above) and hand the unmasked caller numbers to the police on request.`;
      case 'preserve-seized':
        return `Keep the seized files unchanged; their hashes are listed above.`;
      case 'anchor-ledger':
        return `Record the ledger head hash of this report outside Cradle.`;
      case 'keep-watching':
        return `Keep the canaries’ trap numbers watched: further contacts add to this incident.`;
    }
  },
  history: {
    who: 'By',
    what: 'What',
    why: 'Reason or note',
    none: 'Nobody has closed, dismissed, merged or annotated this incident, nor dismissed any of its hits.',
    entry: (e) => {
      switch (e.action) {
        case 'close':
          return 'closed';
        case 'reopen':
          return `reopened (was ${e.from})`;
        case 'dismiss':
          return 'dismissed: not a leak';
        case 'merge':
          return `incident ${e.incident} merged into ${e.into}`;
        case 'note':
          return 'note';
        case 'dismiss-hit':
          return `hit ${e.hit} dismissed: left out of the trace`;
        case 'restore-hit':
          return `hit ${e.hit} restored`;
        default:
          return e.action;
      }
    },
  },
  dismissedHits: (ids) => `${ids.length === 1 ? 'Hit' : 'Hits'} ${ids.join(', ')} ${ids.length === 1 ? 'was' : 'were'} dismissed by an investigator and ${ids.length === 1 ? 'is' : 'are'} left out of this report and of the trace (see History).`,
  footer: (masked) => `Made by Cradle. ${masked ? 'Callers’ numbers are masked.' : 'Callers’ numbers are shown in full.'} All times UTC.`,
};
