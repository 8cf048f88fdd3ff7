import type { ModelParameters, ReportLang, ReportSuspect, SuspectReason } from './data.js';

// Every fixed word of the incident report, in English and Simplified Chinese, and how each language
// writes dates, numbers and percentages. Dates are formatted by hand (UTC), not by Intl, so a report
// reads the same whatever ICU data the machine has.

export type ActionCode =
  | 'contact-recipient'
  | 'revoke-agreement'
  | 'preserve-export'
  | 'suspend-account'
  | 'preserve-access-logs'
  | 'review-account'
  | 'audit-integrations'
  | 'audit-ward'
  | 'widen-coverage'
  | 'inconclusive'
  | 'preserve-contacts'
  | 'preserve-seized'
  | 'anchor-ledger'
  | 'keep-watching';

/** What the summary paragraph says, worked out by render.ts; each language only words it. */
export interface SummaryFacts {
  source: 'hits' | 'scan';
  canaries: number;
  weeks: string[];
  hospitals: string[];
  /** First and last contact (hits), or the seizure twice (scan). */
  from: string | null;
  to: string | null;
  hits: number;
  senders: number;
  files: number;
  /** The most likely suspect; null when nothing was traced. */
  top: ReportSuspect | null;
  /** The runner-up, to say how far behind it is. */
  next: ReportSuspect | null;
}

export interface Strings {
  lang: ReportLang;
  /** Intl locale for numbers. */
  locale: string;
  title: (id: string) => string;
  subtitle: string;
  sections: { summary: string; timeline: string; evidence: string; canaries: string; suspects: string; assumptions: string; custody: string; actions: string };
  meta: { incident: string; source: string; status: string; hospital: string; generated: string; by: string; command: string; tool: string; times: string };
  sourceName: (s: 'hits' | 'scan') => string;
  status: (s: string) => string;
  masked: string;
  unmasked: string;
  cols: {
    when: string; kind: string; from: string; to: string; canary: string; confidence: string; why: string; contact: string; sha256: string;
    id: string; mother: string; phone: string; father: string; week: string; planted: string; firstEvidence: string; evidence: string; ward: string;
    rank: string; suspect: string; probability: string; explains: string; window: string;
    file: string; place: string; column: string; matched: string; bytes: string; format: string; records: string; role: string; ref: string;
    seq: string; ledgerKind: string; actor: string; hash: string; verified: string; action: string; line: string; account: string;
  };
  yes: string;
  no: string;
  noHits: string;
  noSuspects: string;
  noLedger: string;
  noFiles: string;
  scanFiles: string;
  scanMatches: string;
  contacts: string;
  logLines: string;
  message: string;
  custodyFiles: string;
  ledgerEntries: string;
  ledgerHead: (seq: number, at: string) => string;
  ledgerHeadNote: string;
  ledgerEmpty: string;
  verifyNote: string;
  fileRole: (r: 'export' | 'scan' | 'contact' | 'access-log') => string;
  timelineCaption: string;
  timelineText: string;
  lanes: { planted: string; contacts: string; seizure: string; window: (label: string) => string; week: (w: string) => string };
  marks: { planted: (n: number, when: string) => string; exposure: (n: number, channel: string, when: string) => string; contact: (n: number, when: string) => string; seizure: (when: string) => string; window: (label: string, from: string, to: string) => string };
  suspectKind: (k: ReportSuspect['kind']) => string;
  describe: (s: ReportSuspect) => string;
  reason: (r: SuspectReason) => string;
  summary: (f: SummaryFacts) => string;
  certainty: (p: number) => string;
  assumptions: (m: ModelParameters, vaultSize: number, candidates: number) => string[];
  action: (a: ActionCode, s: ReportSuspect | null) => string;
  footer: (masked: boolean) => string;
  date: (iso: string) => string;
  dateTime: (iso: string) => string;
  dateRange: (from: string, to: string) => string;
  /** Short date for the chart's axis. */
  tick: (iso: string) => string;
  pct: (p: number) => string;
  num: (n: number) => string;
  list: (items: string[]) => string;
}

const MONTHS_EN = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

interface Ymd {
  y: number;
  m: number;
  d: number;
  hh: string;
  mm: string;
}

function ymd(iso: string): Ymd {
  const t = new Date(iso);
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate(), hh: String(t.getUTCHours()).padStart(2, '0'), mm: String(t.getUTCMinutes()).padStart(2, '0') };
}

function pctWith(locale: string): (p: number) => string {
  const fmt = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 });
  return (p) => (p >= 0.9995 ? `>${fmt.format(0.999)}` : p > 0 && p < 0.0005 ? `<${fmt.format(0.001)}` : fmt.format(p));
}

const short = (hash: string | null | undefined) => (hash ? `${hash.slice(0, 12)}…` : '?');

const en: Strings = {
  lang: 'en',
  locale: 'en-GB',
  title: (id) => `Incident report ${id}`,
  subtitle: 'Canary families planted by Cradle in the hospital’s newborn records were found outside the hospital. This report says what leaked, from where most likely, and on what evidence.',
  sections: {
    summary: 'Summary',
    timeline: 'Timeline',
    evidence: 'Evidence',
    canaries: 'Canary families involved',
    suspects: 'Suspected sources',
    assumptions: 'How the source was traced: assumptions',
    custody: 'Chain of custody',
    actions: 'Recommended actions',
  },
  meta: { incident: 'Incident', source: 'Found by', status: 'Status', hospital: 'Hospital', generated: 'Report made', by: 'by', command: 'Command', tool: 'Tool', times: 'All times are UTC.' },
  sourceName: (s) => (s === 'hits' ? 'contacts on trap numbers or mailboxes' : 'a scan of seized files'),
  status: (s) => (s === 'open' ? 'open' : s === 'closed' ? 'closed' : s),
  masked: 'Callers’ numbers are partly masked (all but the last four digits); canary numbers are Cradle’s own trap numbers and are shown in full.',
  unmasked: 'This report shows callers’ numbers in full (made with --unmasked): handle it as personal data.',
  cols: {
    when: 'When', kind: 'Kind', from: 'From', to: 'To (trap)', canary: 'Canary', confidence: 'Confidence', why: 'Why', contact: 'Contact', sha256: 'SHA-256',
    id: 'Canary', mother: 'Mother', phone: 'Trap number', father: 'Father', week: 'Week', planted: 'Planted', firstEvidence: 'First evidence', evidence: 'Evidence', ward: 'Ward',
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
  timelineCaption: 'When the canaries were planted, when the suspected channels saw them, and when they were contacted; the shaded band is the leak window of the most likely source.',
  timelineText: 'Events in time order',
  lanes: { planted: 'Canaries planted', contacts: 'Contacts / hits', seizure: 'Seizure / scan', window: (l) => `Leak window: ${l}`, week: (w) => `week ${w}` },
  marks: {
    planted: (n, w) => `${n} canar${n === 1 ? 'y' : 'ies'} planted ${w}`,
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
        return `Exported${r.at ? ` on ${en.dateTime(r.at)}` : ''}${r.operator ? ` by operator ${r.operator}` : ''}${r.recipient ? ` to ${r.recipient}` : ''}${r.file ? ` as ${r.file}` : ''}.`;
      case 'log-lines':
        return `The hospital’s access log shows it opening them in ${r.lines} line${r.lines === 1 ? '' : 's'} (${r.actions.join(', ')}).`;
      case 'window':
        return `The leak would have happened between ${en.dateTime(r.from)} and ${en.dateTime(r.to)}.`;
      case 'merged':
        return `Two leaks at once: ${r.parts.join(' and ')}, each explaining part of the canaries.`;
      case 'unknown-source':
        return `Stands for any channel Cradle has no record of (prior probability ${en.pct(r.prior)}).`;
    }
  },
  certainty: (p) => (p >= 0.95 ? 'very likely' : p >= 0.8 ? 'likely' : p >= 0.5 ? 'more likely than not' : 'uncertain'),
  summary: (f) => {
    const n = f.canaries;
    const fam = `${n} canary famil${n === 1 ? 'y' : 'ies'}`;
    const weeks = f.weeks.length ? ` planted in week${f.weeks.length > 1 ? 's' : ''} ${en.list(f.weeks)}` : '';
    const hosp = f.hospitals.length ? f.hospitals.join(', ') : 'the hospital';
    let text: string;
    if (f.source === 'hits') {
      const when = f.from && f.to ? (en.date(f.from) === en.date(f.to) ? `On ${en.date(f.from)}` : `Between ${en.dateRange(f.from, f.to)}`) : 'Recently';
      text = `${when}, ${fam}${weeks} were contacted ${f.hits} time${f.hits === 1 ? '' : 's'}${f.senders ? ` by ${f.senders} sender${f.senders === 1 ? '' : 's'}` : ''}.`;
    } else {
      text = `On ${f.from ? en.date(f.from) : '?'}, a scan of ${f.files} seized file${f.files === 1 ? '' : 's'} found ${fam}${weeks}.`;
    }
    text += ` These families do not exist: they are recorded only in the newborn records of ${hosp}, so their data left the hospital.`;
    const t = f.top;
    if (!t) return `${text} No channel Cradle knows of saw them; the source cannot be traced from Cradle’s records.`;
    if (t.kind === 'unknown') text += ` Cradle cannot name the source: the most likely explanation, with probability ${en.pct(t.posterior)}, is a channel it has no record of.`;
    else {
      text += ` The most likely source is ${en.describe(t)}, with probability ${en.pct(t.posterior)} (${en.certainty(t.posterior)}).`;
      if (t.window) text += ` The leak most likely happened between ${en.dateRange(t.window.from, t.window.to)}.`;
    }
    if (f.next) text += ` The next suspect, ${f.next.kind === 'unknown' ? 'an unknown source' : f.next.label}, has ${en.pct(f.next.posterior)}.`;
    return text;
  },
  assumptions: (m, N, U) => [
    `Canary families are fictitious and exist only in the hospital’s records; a contact on a canary’s trap number, or a canary in a seized file, means its record left the hospital.`,
    `A channel (an export file, an account, a system, a ward) can only have leaked canaries Cradle recorded it seeing, and only after it saw them. ${U} channel${U === 1 ? '' : 's'} saw these canaries; the vault holds ${N}.`,
    `The leak happened at one unknown moment, within the window from the earliest planting of the canaries found to the first evidence of their leak; the first evidence follows the leak by ${en.num(m.evidenceDelayDays)} days on average.`,
    `A leak holds some of what the channel had seen by then; a small share is as likely as a large one (a leak of 1% as likely as one of 10%). So a channel that saw few canaries besides those found explains them more sharply than one that saw thousands.`,
    `Canaries found that the channel cannot explain are counted as noise (a false match or a stray contact): ${en.num(m.noise)} such canaries per incident on average.`,
    `Before the evidence, every channel is equally likely; a source Cradle has no record of has prior probability ${en.pct(m.unknownPrior)}, two separate leaks merged into one incident ${en.pct(m.mergePrior)}.`,
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
        return `Preserve the export file ${s?.export?.file ?? ''} and its manifest (sha256 ${short(s?.export?.sha256)}) as evidence.`;
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
  footer: (masked) => `Made by Cradle. ${masked ? 'Callers’ numbers are masked.' : 'Callers’ numbers are shown in full.'} All times UTC.`,
  date: (iso) => {
    const t = ymd(iso);
    return `${t.d} ${MONTHS_EN[t.m - 1]} ${t.y}`;
  },
  dateTime: (iso) => {
    const t = ymd(iso);
    return `${t.d} ${MONTHS_EN[t.m - 1].slice(0, 3)} ${t.y} ${t.hh}:${t.mm}`;
  },
  dateRange: (from, to) => {
    const [a, b] = [ymd(from), ymd(to)];
    if (a.y !== b.y) return `${en.date(from)} and ${en.date(to)}`;
    if (a.m !== b.m) return `${a.d} ${MONTHS_EN[a.m - 1]} and ${b.d} ${MONTHS_EN[b.m - 1]} ${b.y}`;
    if (a.d !== b.d) return `${a.d} and ${b.d} ${MONTHS_EN[b.m - 1]} ${b.y}`;
    return `${a.hh}:${a.mm} and ${b.hh}:${b.mm} on ${en.date(from)}`;
  },
  tick: (iso) => {
    const t = ymd(iso);
    return `${t.d} ${MONTHS_EN[t.m - 1].slice(0, 3)}`;
  },
  pct: pctWith('en-GB'),
  num: (n) => new Intl.NumberFormat('en-GB', { maximumFractionDigits: 2 }).format(n),
  list: (items) => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`),
};

const zh: Strings = {
  lang: 'zh-CN',
  locale: 'zh-CN',
  title: (id) => `事件报告 ${id}`,
  subtitle: 'Cradle 在医院新生儿记录中植入的虚构“金丝雀”家庭，在医院之外被发现。本报告说明泄露了什么、最可能的来源，以及所依据的证据。',
  sections: {
    summary: '摘要',
    timeline: '时间线',
    evidence: '证据',
    canaries: '涉及的金丝雀家庭',
    suspects: '可疑来源',
    assumptions: '来源追踪方法：假设',
    custody: '证据保管链',
    actions: '建议措施',
  },
  meta: { incident: '事件', source: '发现方式', status: '状态', hospital: '医院', generated: '报告生成', by: '操作人', command: '命令', tool: '工具', times: '所有时间均为 UTC。' },
  sourceName: (s) => (s === 'hits' ? '陷阱号码或邮箱收到的联系' : '对查获文件的扫描'),
  status: (s) => (s === 'open' ? '处理中' : s === 'closed' ? '已关闭' : s),
  masked: '来电/发信方号码已部分遮蔽（仅显示后四位）；金丝雀号码是 Cradle 自有的陷阱号码，完整显示。',
  unmasked: '本报告完整显示来电/发信方号码（使用 --unmasked 生成），请按个人信息管理。',
  cols: {
    when: '时间', kind: '类型', from: '来自', to: '至（陷阱）', canary: '金丝雀', confidence: '置信度', why: '依据', contact: '联系记录', sha256: 'SHA-256',
    id: '金丝雀', mother: '母亲', phone: '陷阱号码', father: '父亲', week: '周', planted: '植入时间', firstEvidence: '最早证据', evidence: '证据数', ward: '病区',
    rank: '#', suspect: '可疑来源', probability: '概率', explains: '可解释', window: '泄露时间窗',
    file: '文件', place: '位置', column: '列', matched: '匹配内容', bytes: '字节', format: '格式', records: '记录数', role: '类别', ref: '编号',
    seq: '序号', ledgerKind: '条目', actor: '执行者', hash: '条目哈希', verified: '哈希校验', action: '操作', line: '行', account: '账号',
  },
  yes: '通过',
  no: '失败',
  noHits: '此事件没有记录到联系。',
  noSuspects: 'Cradle 已知的渠道都没有接触过这些金丝雀。',
  noLedger: '账本中尚无关于此事件的条目。',
  noFiles: '无文件。',
  scanFiles: '扫描的文件',
  scanMatches: '文件中发现的金丝雀记录',
  contacts: '金丝雀陷阱号码和邮箱收到的联系',
  logLines: '访问日志记录',
  message: '内容',
  custodyFiles: '证据所依据的文件和记录',
  ledgerEntries: '账本条目',
  ledgerHead: (seq, at) => `生成本报告时的账本最新条目：第 ${seq} 条，${at}。哈希：`,
  ledgerHeadNote: '每个账本条目都包含前一条目的哈希。请将此哈希保存在 Cradle 之外（发给委员会的邮件、打印件）：此后对该条目及之前账本的任何改动都会破坏哈希链，并可由 `cradle verify` 发现。',
  ledgerEmpty: '账本为空。',
  verifyNote: '联系记录的哈希是其原始字节的哈希：`cradle contact <id> --raw | sha256sum` 输出相同的值。导出文件或查获文件的哈希即文件本身的哈希：`sha256sum <文件>`。',
  fileRole: (r) => ({ export: '导出文件', scan: '查获文件', contact: '联系（原始）', 'access-log': '访问日志' })[r],
  timelineCaption: '金丝雀的植入时间、可疑渠道接触它们的时间，以及它们被联系的时间；阴影区域为最可能来源的泄露时间窗。',
  timelineText: '按时间排列的事件',
  lanes: { planted: '金丝雀植入', contacts: '联系 / 命中', seizure: '查获 / 扫描', window: (l) => `泄露时间窗：${l}`, week: (w) => `${w} 周` },
  marks: {
    planted: (n, w) => `${w} 植入 ${n} 个金丝雀`,
    exposure: (n, c, w) => `${w} ${c} 接触 ${n} 个金丝雀`,
    contact: (n, w) => `${w} 收到 ${n} 次联系`,
    seizure: (w) => `${w} 扫描查获文件`,
    window: (l, f, t) => `${l} 的泄露时间窗：${f} 之后，${t} 之前`,
  },
  suspectKind: (k) => ({ export: '导出', account: '账号', system: '系统', ward: '病区', merged: '两次泄露', unknown: '未知' })[k],
  describe: (s) => {
    const name = s.label.slice(s.label.indexOf(':') + 1);
    switch (s.kind) {
      case 'export':
        return s.export
          ? `发给 ${s.export.recipient ?? name} 的导出 ${s.export.id}（操作员 ${s.export.operator ?? '未知'}，文件 ${s.export.file ?? '?'}，sha256 ${s.export.sha256 ?? '?'}）`
          : `发给 ${name} 的导出`;
      case 'account':
        return `账号 ${name}`;
      case 'system':
        return `系统 ${name}`;
      case 'ward':
        return `病区 ${name}`;
      case 'merged':
        return `两次独立泄露的合并：${(s.parts ?? [s.label]).join(' 与 ')}`;
      default:
        return 'Cradle 没有记录的来源';
    }
  },
  reason: (r) => {
    switch (r.code) {
      case 'explains':
        return r.explained === r.total ? `在泄露证据出现之前，它接触过全部 ${r.total} 个被发现的金丝雀。` : `在泄露证据出现之前，它接触过被发现的 ${r.total} 个金丝雀中的 ${r.explained} 个。`;
      case 'channel-size':
        return `它总共接触过 ${r.seen} 个金丝雀：除被发现者之外接触得越少，匹配越明确。`;
      case 'unexplained':
        return `它无法解释 ${r.canaries.length} 个金丝雀（${r.canaries.slice(0, 6).join('、')}${r.canaries.length > 6 ? '等' : ''}）：从未接触，或在其泄露之后才接触。`;
      case 'exported':
        return `${r.at ? `于 ${zh.dateTime(r.at)} ` : ''}${r.operator ? `由操作员 ${r.operator} ` : ''}导出${r.recipient ? `给 ${r.recipient}` : ''}${r.file ? `，文件 ${r.file}` : ''}。`;
      case 'log-lines':
        return `医院访问日志中有 ${r.lines} 条记录显示它打开了这些记录（${r.actions.join('、')}）。`;
      case 'window':
        return `泄露应发生在 ${zh.dateTime(r.from)} 至 ${zh.dateTime(r.to)} 之间。`;
      case 'merged':
        return `同时发生两次泄露：${r.parts.join(' 与 ')}，各自解释部分金丝雀。`;
      case 'unknown-source':
        return `代表 Cradle 没有记录的任何渠道（先验概率 ${zh.pct(r.prior)}）。`;
    }
  },
  certainty: (p) => (p >= 0.95 ? '可能性很高' : p >= 0.8 ? '可能性较高' : p >= 0.5 ? '可能性过半' : '尚不确定'),
  summary: (f) => {
    const weeks = f.weeks.length ? `于 ${f.weeks.join('、')} 周植入的` : '';
    const hosp = f.hospitals.length ? f.hospitals.join('、') : '医院';
    let text: string;
    if (f.source === 'hits') {
      const when = f.from && f.to ? (zh.date(f.from) === zh.date(f.to) ? `${zh.date(f.from)}` : `${zh.dateRange(f.from, f.to)}期间`) : '近期';
      text = `${when}，${weeks} ${f.canaries} 个金丝雀家庭${f.senders ? `被 ${f.senders} 个来源` : ''}联系了 ${f.hits} 次。`;
    } else {
      text = `${f.from ? zh.date(f.from) : '?'}，对 ${f.files} 个查获文件的扫描发现了${weeks} ${f.canaries} 个金丝雀家庭。`;
    }
    text += `这些家庭并不存在，只记录在${hosp}的新生儿记录中，因此其数据已流出医院。`;
    const t = f.top;
    if (!t) return `${text}Cradle 已知的渠道都没有接触过它们，无法根据 Cradle 的记录追踪来源。`;
    if (t.kind === 'unknown') text += `Cradle 无法确定来源：最可能的解释（概率 ${zh.pct(t.posterior)}）是一个没有记录的渠道。`;
    else {
      text += `最可能的来源是${zh.describe(t)}，概率为 ${zh.pct(t.posterior)}（${zh.certainty(t.posterior)}）。`;
      if (t.window) text += `泄露最可能发生在${zh.dateRange(t.window.from, t.window.to)}之间。`;
    }
    if (f.next) text += `其次的可疑来源 ${f.next.kind === 'unknown' ? '（未知来源）' : f.next.label} 概率为 ${zh.pct(f.next.posterior)}。`;
    return text;
  },
  assumptions: (m, N, U) => [
    '金丝雀家庭是虚构的，只存在于医院的记录中；金丝雀的陷阱号码接到联系，或在查获文件中出现金丝雀，即说明其记录已流出医院。',
    `一个渠道（导出文件、账号、系统、病区）只可能泄露 Cradle 记录到它接触过的金丝雀，且只能在接触之后泄露。共有 ${U} 个渠道接触过这些金丝雀；金丝雀库共有 ${N} 个。`,
    `泄露发生在某个未知时刻，位于从被发现金丝雀最早植入到其泄露的最早证据之间；最早证据平均在泄露后 ${zh.num(m.evidenceDelayDays)} 天出现。`,
    '一次泄露包含该渠道当时已接触记录中的一部分；泄露比例大小等可能（泄露 1% 与泄露 10% 的可能性相同）。因此，除被发现者外接触很少的渠道，比接触过数千条的渠道解释得更明确。',
    `渠道无法解释的被发现金丝雀视为噪声（误匹配或偶然联系）：平均每个事件 ${zh.num(m.noise)} 个。`,
    `在获得证据之前，各渠道的可能性相同；Cradle 没有记录的来源先验概率为 ${zh.pct(m.unknownPrior)}，两次独立泄露合并为一个事件的先验概率为 ${zh.pct(m.mergePrior)}。`,
    '概率的可靠性取决于记录的完整性：在 Cradle 不知情的情况下接触数据的渠道（未记录的导出、未导入的日志）只能由“未知来源”涵盖。',
  ],
  action: (a, s) => {
    const name = s ? s.label.slice(s.label.indexOf(':') + 1) : '';
    switch (a) {
      case 'contact-recipient':
        return `就导出 ${s?.export?.id ?? ''} 联系 ${s?.export?.recipient ?? name}：查明谁持有该文件以及文件的去向。`;
      case 'revoke-agreement':
        return `在查明原因之前，暂停或撤销与 ${s?.export?.recipient ?? name} 的数据共享协议。`;
      case 'preserve-export':
        return `保全导出文件 ${s?.export?.file ?? ''} 及其清单（sha256 ${short(s?.export?.sha256)}）作为证据。`;
      case 'suspend-account':
        return `暂停账号 ${name} 以待审查，并审查其其他操作。`;
      case 'preserve-access-logs':
        return '保全记录该账号操作的访问日志原始文件。';
      case 'review-account':
        return '依据本报告中的日志记录，向账号持有人及其主管了解访问情况。';
      case 'audit-integrations':
        return `审计 ${name} 的集成与接口：谁、什么程序读取其新生儿数据，以及数据发往何处。`;
      case 'audit-ward':
        return `审查泄露时间窗内能接触病区 ${name} 记录和纸质病历的人员。`;
      case 'widen-coverage':
        return '扩大金丝雀覆盖（记录更多渠道、导入访问日志、通过 Cradle 导出），以便追踪下一次泄露。';
      case 'inconclusive':
        return '来源尚未确定：现有证据不能锁定单一渠道。';
      case 'preserve-contacts':
        return '保留已记录的联系（原始字节及上列哈希），并应警方要求提供未遮蔽的来电号码。';
      case 'preserve-seized':
        return '保持查获文件原样不变；其哈希见上表。';
      case 'anchor-ledger':
        return '在 Cradle 之外记录本报告的账本最新哈希。';
      case 'keep-watching':
        return '继续监控金丝雀的陷阱号码：新的联系将补充到此事件。';
    }
  },
  footer: (masked) => `由 Cradle 生成。${masked ? '来电号码已遮蔽。' : '来电号码完整显示。'}所有时间均为 UTC。`,
  date: (iso) => {
    const t = ymd(iso);
    return `${t.y}年${t.m}月${t.d}日`;
  },
  dateTime: (iso) => {
    const t = ymd(iso);
    return `${t.y}年${t.m}月${t.d}日 ${t.hh}:${t.mm}`;
  },
  dateRange: (from, to) => {
    const [a, b] = [ymd(from), ymd(to)];
    if (a.y !== b.y) return `${zh.date(from)}至${zh.date(to)}`;
    if (a.m !== b.m) return `${a.y}年${a.m}月${a.d}日至${b.m}月${b.d}日`;
    if (a.d !== b.d) return `${a.y}年${a.m}月${a.d}日至${b.d}日`;
    return `${zh.date(from)} ${a.hh}:${a.mm}至${b.hh}:${b.mm}`;
  },
  tick: (iso) => {
    const t = ymd(iso);
    return `${t.m}月${t.d}日`;
  },
  pct: pctWith('zh-CN'),
  num: (n) => new Intl.NumberFormat('zh-CN', { maximumFractionDigits: 2 }).format(n),
  list: (items) => items.join('、'),
};

export function strings(lang: ReportLang): Strings {
  return lang === 'zh-CN' ? zh : en;
}

// ---------------------------------------------------------------- the audit report (`cradle audit`)

/** What the audit's summary paragraph says, worked out by audit-render.ts. */
export interface AuditSummaryFacts {
  hospital: string;
  from: string;
  to: string;
  weeks: number;
  done: number;
  missed: number;
  partial: number;
  live: number;
  recipients: number;
  weeksLeft: number | null;
  low: boolean;
  incidents: number;
  open: number;
  tripwires: number;
  ledgerOk: boolean;
}

export interface AuditStrings {
  title: (hospital: string) => string;
  subtitle: string;
  sections: { summary: string; rotations: string; canaries: string; pool: string; incidents: string; tripwires: string; ledger: string };
  meta: { hospital: string; period: string; timeZone: string; generated: string; by: string; command: string; tool: string; times: string };
  weekStatus: (s: 'done' | 'partial' | 'missed' | 'due') => string;
  numberState: (s: 'burn_in' | 'available' | 'assigned' | 'retired' | 'blocked') => string;
  cols: {
    week: string; starts: string; status: string; planned: string; planted: string; completed: string;
    ward: string; live: string; plantedInPeriod: string; retiredInPeriod: string;
    recipient: string; exportsInPeriod: string; exportsTotal: string; lastExport: string;
    state: string; numbers: string; number: string; contacts: string; days: string; perDay: string;
    incident: string; source: string; title: string; opened: string; hits: string; canaries: string; firstContact: string; lastContact: string; senders: string;
    account: string; lines: string; first: string; last: string; when: string; action: string; canary: string; file: string;
    check: string; result: string;
  };
  plan: (plan: string) => string;
  noPlan: string;
  rotationTally: (done: number, missed: number, partial: number, due: number) => string;
  noWeeks: string;
  byWard: string;
  byRecipient: string;
  noRecipients: string;
  poolCounts: string;
  poolSupply: (supply: number, perWeek: number, weeksLeft: number | null, needed: number, weeks: number, perCanary: number) => string;
  poolLow: (weeksLeft: number, weeks: number) => string;
  noise: string;
  noiseSummary: (noisy: number, contacts: number, days: number) => string;
  noNoise: string;
  incidentTally: (hits: number, open: number, closed: number) => string;
  noIncidents: string;
  tripwireAccounts: string;
  tripwireLines: (shown: number, total: number) => string;
  noTripwires: string;
  ledgerChecks: { chain: string; head: string; evidence: string; unsealed: string; predate: string; reports: string };
  ledgerChain: (ok: boolean, entries: number, brk: { seq: number; kind: string; ref: string; problem: string; detail: string } | null) => string;
  ledgerEvidence: (checked: number, problems: number) => string;
  ledgerEmpty: string;
  ledgerVerdict: (ok: boolean) => string;
  ledgerNote: string;
  summary: (f: AuditSummaryFacts) => string;
  footer: string;
}

const auditEn: AuditStrings = {
  title: (hospital) => `Canary program audit: ${hospital}`,
  subtitle: 'How the canary program ran over the period: the weekly rotations, the canaries in place, the trap pool, what was caught, and whether the evidence ledger is intact.',
  sections: { summary: 'Summary', rotations: 'Weekly rotations', canaries: 'Canaries live', pool: 'Trap pool health', incidents: 'Hits and incidents', tripwires: 'Tripwires (access logs)', ledger: 'Evidence ledger' },
  meta: { hospital: 'Hospital', period: 'Period', timeZone: 'Time zone', generated: 'Report made', by: 'by', command: 'Command', tool: 'Tool', times: 'Times are UTC unless said otherwise.' },
  weekStatus: (s) => ({ done: 'done', partial: 'started, not completed', missed: 'MISSED', due: 'due (current week)' })[s],
  numberState: (s) => ({ burn_in: 'burn-in', available: 'available', assigned: 'assigned to a canary', retired: 'retired (cool-down)', blocked: 'blocked' })[s],
  cols: {
    week: 'Week', starts: 'Starts', status: 'Status', planned: 'Planned', planted: 'Planted', completed: 'Completed',
    ward: 'Ward', live: 'Live', plantedInPeriod: 'Planted in period', retiredInPeriod: 'Retired in period',
    recipient: 'Recipient', exportsInPeriod: 'Exports in period', exportsTotal: 'Exports in all', lastExport: 'Last export',
    state: 'State', numbers: 'Numbers', number: 'Number', contacts: 'Contacts before use', days: 'Days watched', perDay: 'Per day',
    incident: 'Incident', source: 'Found by', title: 'Title', opened: 'Opened', hits: 'Hits', canaries: 'Canaries', firstContact: 'First contact', lastContact: 'Last contact', senders: 'Senders',
    account: 'Account', lines: 'Lines', first: 'First', last: 'Last', when: 'When', action: 'Action', canary: 'Canary', file: 'File',
    check: 'Check', result: 'Result',
  },
  plan: (plan) => `Rotation plan: ${plan} canaries per week.`,
  noPlan: 'The hospital has no rotation plan in the configuration: no week was due.',
  rotationTally: (done, missed, partial, due) => `${done} done, ${missed} missed${partial ? `, ${partial} started but not completed` : ''}${due ? `, ${due} due this week` : ''}.`,
  noWeeks: 'No week of the period has started yet.',
  byWard: 'Seeded canaries per ward, live at the end of the period',
  byRecipient: 'Export canaries per recipient, live at the end of the period',
  noRecipients: 'No export in the period or before it.',
  poolCounts: 'Trap numbers by state',
  poolSupply: (supply, perWeek, weeksLeft, needed, weeks, perCanary) =>
    weeksLeft === null
      ? `${supply} numbers available or in burn-in; without a rotation plan no weekly need is known.`
      : `${supply} numbers available or in burn-in; a week's rotation takes ${perWeek} (${en.num(perCanary)} per canary), the next ${weeks} weeks ${needed}: enough for ${weeksLeft} week${weeksLeft === 1 ? '' : 's'}.`,
  poolLow: (weeksLeft, weeks) => `Warning: the pool holds fewer than ${weeks} weeks of trap numbers (${weeksLeft} left). Add numbers now (cradle pool add): new ones need their burn-in before use.`,
  noise: 'Burn-in noise: the noisiest numbers',
  noiseSummary: (noisy, contacts, days) => `${noisy} number${noisy === 1 ? '' : 's'} got ${contacts} contact${contacts === 1 ? '' : 's'} before any canary held them, over ${en.num(days)} number-days watched. Such background noise (wrong numbers, the previous owner's contacts, spam) would look like hits: a noisy number is better blocked than given to a canary.`,
  noNoise: 'No trap number was contacted before a canary held it.',
  incidentTally: (hits, open, closed) => `${hits} hit${hits === 1 ? '' : 's'} on the hospital's canaries in the period; incidents: ${open} open, ${closed} closed.`,
  noIncidents: 'No incident in the period.',
  tripwireAccounts: 'Accounts that opened canaries',
  tripwireLines: (shown, total) => (shown < total ? `The newest ${shown} of ${total} lines` : 'The lines'),
  noTripwires: 'No access-log line touched a canary in the period (or no access log was imported).',
  ledgerChecks: { chain: 'Hash chain', head: 'Head', evidence: 'Evidence against the ledger', unsealed: 'Not sealed yet', predate: 'Older than the ledger', reports: 'Reports recorded in the period' },
  ledgerChain: (ok, entries, b) => (ok ? `intact, ${entries} entries` : `BROKEN at entry #${b?.seq} (${b?.kind} ${b?.ref}): ${b?.problem}, ${b?.detail}`),
  ledgerEvidence: (checked, problems) => (problems ? `${problems} problem(s) in ${checked} rows checked (cradle verify lists them)` : `${checked} rows checked, all match`),
  ledgerEmpty: 'empty',
  ledgerVerdict: (ok) => (ok ? 'The ledger verifies: chain intact and the evidence matches it.' : 'The ledger does NOT verify: run cradle verify and treat the evidence as suspect until it is explained.'),
  ledgerNote: 'Keep the head hash outside Cradle and check it later with `cradle verify --anchor <hash>`.',
  summary: (f) => {
    const rot = f.weeks ? `${f.done} of ${f.weeks} weekly rotation${f.weeks === 1 ? '' : 's'} done${f.missed ? `, ${f.missed} missed` : ''}${f.partial ? `, ${f.partial} not completed` : ''}.` : 'No rotation week was due.';
    const pool = f.weeksLeft === null ? '' : f.low ? ` The trap pool is running out: ${f.weeksLeft} week${f.weeksLeft === 1 ? '' : 's'} of numbers left.` : ` The trap pool holds ${f.weeksLeft} weeks of numbers.`;
    return `From ${f.from} to ${f.to}, ${f.hospital}: ${rot} ${f.live} seeded canar${f.live === 1 ? 'y' : 'ies'} live at the end of the period, and export canaries with ${f.recipients} recipient${f.recipients === 1 ? '' : 's'}.${pool} ${f.incidents} incident${f.incidents === 1 ? '' : 's'} (${f.open} open), ${f.tripwires} tripwire${f.tripwires === 1 ? '' : 's'}. ${f.ledgerOk ? 'The evidence ledger verifies.' : 'The evidence ledger does NOT verify.'}`;
  },
  footer: 'Made by Cradle (cradle audit). All times UTC.',
};

const auditZh: AuditStrings = {
  title: (hospital) => `金丝雀计划审计报告：${hospital}`,
  subtitle: '本期金丝雀计划的运行情况：每周轮换、在位的金丝雀、陷阱号码池、发现的命中，以及证据账本是否完整。',
  sections: { summary: '摘要', rotations: '每周轮换', canaries: '在位的金丝雀', pool: '陷阱号码池状况', incidents: '命中与事件', tripwires: '绊线（访问日志）', ledger: '证据账本' },
  meta: { hospital: '医院', period: '审计期间', timeZone: '时区', generated: '报告生成', by: '操作人', command: '命令', tool: '工具', times: '除另有说明外，所有时间均为 UTC。' },
  weekStatus: (s) => ({ done: '已完成', partial: '已开始，未完成', missed: '遗漏', due: '待执行（本周）' })[s],
  numberState: (s) => ({ burn_in: '预热期', available: '可用', assigned: '已分配给金丝雀', retired: '已退役（冷却期）', blocked: '已封禁' })[s],
  cols: {
    week: '周', starts: '开始时间', status: '状态', planned: '计划', planted: '已植入', completed: '完成时间',
    ward: '病区', live: '在位', plantedInPeriod: '本期植入', retiredInPeriod: '本期退役',
    recipient: '接收方', exportsInPeriod: '本期导出', exportsTotal: '导出总数', lastExport: '最近导出',
    state: '状态', numbers: '号码数', number: '号码', contacts: '使用前的联系', days: '监控天数', perDay: '每天',
    incident: '事件', source: '发现方式', title: '标题', opened: '创建时间', hits: '命中', canaries: '金丝雀', firstContact: '首次联系', lastContact: '最近联系', senders: '来源数',
    account: '账号', lines: '记录数', first: '最早', last: '最近', when: '时间', action: '操作', canary: '金丝雀', file: '文件',
    check: '检查项', result: '结果',
  },
  plan: (plan) => `轮换计划：每周 ${plan} 个金丝雀。`,
  noPlan: '配置中该医院没有轮换计划：没有应执行的周。',
  rotationTally: (done, missed, partial, due) => `已完成 ${done} 周，遗漏 ${missed} 周${partial ? `，${partial} 周已开始但未完成` : ''}${due ? `，本周 ${due} 周待执行` : ''}。`,
  noWeeks: '审计期间尚无已开始的周。',
  byWard: '各病区在期末在位的植入金丝雀',
  byRecipient: '各接收方在期末在位的导出金丝雀',
  noRecipients: '本期及之前没有导出。',
  poolCounts: '按状态统计的陷阱号码',
  poolSupply: (supply, perWeek, weeksLeft, needed, weeks, perCanary) =>
    weeksLeft === null
      ? `可用或预热中的号码共 ${supply} 个；没有轮换计划，无法计算每周需求。`
      : `可用或预热中的号码共 ${supply} 个；每周轮换需要 ${perWeek} 个（每个金丝雀 ${zh.num(perCanary)} 个），今后 ${weeks} 周需要 ${needed} 个：可用 ${weeksLeft} 周。`,
  poolLow: (weeksLeft, weeks) => `警告：号码池剩余不足 ${weeks} 周（仅剩 ${weeksLeft} 周）。请立即添加号码（cradle pool add）：新号码使用前需经过预热期。`,
  noise: '预热噪声：噪声最多的号码',
  noiseSummary: (noisy, contacts, days) => `${noisy} 个号码在分配给金丝雀之前共收到 ${contacts} 次联系，累计监控 ${zh.num(days)} 号码·天。这类背景噪声（打错电话、前任机主的联系、骚扰信息）会被误当作命中：噪声大的号码宜封禁，不宜分配给金丝雀。`,
  noNoise: '没有号码在分配给金丝雀之前收到联系。',
  incidentTally: (hits, open, closed) => `本期医院金丝雀共有 ${hits} 次命中；事件：处理中 ${open} 个，已关闭 ${closed} 个。`,
  noIncidents: '本期没有事件。',
  tripwireAccounts: '打开过金丝雀记录的账号',
  tripwireLines: (shown, total) => (shown < total ? `最近 ${shown} 条（共 ${total} 条）记录` : '记录'),
  noTripwires: '本期没有访问日志记录触及金丝雀（或未导入访问日志）。',
  ledgerChecks: { chain: '哈希链', head: '最新条目', evidence: '证据与账本核对', unsealed: '尚未封存', predate: '早于账本', reports: '本期记录的报告' },
  ledgerChain: (ok, entries, b) => (ok ? `完整，共 ${entries} 条` : `在第 ${b?.seq} 条（${b?.kind} ${b?.ref}）处断裂：${b?.problem}，${b?.detail}`),
  ledgerEvidence: (checked, problems) => (problems ? `核对 ${checked} 行，发现 ${problems} 个问题（cradle verify 可列出）` : `核对 ${checked} 行，全部一致`),
  ledgerEmpty: '空',
  ledgerVerdict: (ok) => (ok ? '账本校验通过：哈希链完整，证据与账本一致。' : '账本校验未通过：请运行 cradle verify，在查明原因之前将证据视为可疑。'),
  ledgerNote: '请将最新条目的哈希保存在 Cradle 之外，日后用 `cradle verify --anchor <哈希>` 核对。',
  summary: (f) => {
    const rot = f.weeks ? `应执行 ${f.weeks} 周轮换，已完成 ${f.done} 周${f.missed ? `，遗漏 ${f.missed} 周` : ''}${f.partial ? `，${f.partial} 周未完成` : ''}。` : '没有应执行的轮换周。';
    const pool = f.weeksLeft === null ? '' : f.low ? `陷阱号码池即将用尽：仅剩 ${f.weeksLeft} 周的号码。` : `陷阱号码池可供 ${f.weeksLeft} 周使用。`;
    return `${f.from} 至 ${f.to}，${f.hospital}：${rot}期末在位的植入金丝雀 ${f.live} 个，导出金丝雀涉及 ${f.recipients} 个接收方。${pool}事件 ${f.incidents} 个（处理中 ${f.open} 个），绊线 ${f.tripwires} 条。${f.ledgerOk ? '证据账本校验通过。' : '证据账本校验未通过。'}`;
  },
  footer: '由 Cradle 生成（cradle audit）。所有时间均为 UTC。',
};

export function auditStrings(lang: ReportLang): AuditStrings {
  return lang === 'zh-CN' ? auditZh : auditEn;
}
