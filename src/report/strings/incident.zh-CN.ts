import { formatZh, shortHash } from './format.js';
import type { IncidentStrings } from './types.js';

export const incidentZh: IncidentStrings = {
  ...formatZh,
  title: (id) => `事件报告 ${id}`,
  subtitle: 'Cradle 制作的虚构“金丝雀”家庭（植入医院新生儿记录，或只写入医院的导出文件）在医院之外被发现。本报告说明泄露了什么、最可能的来源，以及所依据的证据。',
  sections: {
    summary: '摘要',
    timeline: '时间线',
    evidence: '证据',
    canaries: '涉及的金丝雀家庭',
    suspects: '可疑来源',
    assumptions: '来源追踪方法：假设',
    history: '处理记录',
    custody: '证据保管链',
    actions: '建议措施',
  },
  meta: { incident: '事件', source: '发现方式', status: '状态', hospital: '医院', generated: '报告生成', by: '操作人', command: '命令', tool: '工具', times: '所有时间均为 UTC。' },
  sourceName: (s) => (s === 'hits' ? '陷阱号码或邮箱收到的联系' : '对查获文件的扫描'),
  status: (s) => ({ open: '处理中', closed: '已关闭', dismissed: '已驳回（非泄露）', merged: '已合并到其他事件' })[s] ?? s,
  masked: '来电/发信方号码已部分遮蔽（仅显示后四位）；金丝雀号码是 Cradle 自有的陷阱号码，完整显示。',
  unmasked: '本报告完整显示来电/发信方号码（使用 --unmasked 生成），请按个人信息管理。',
  cols: {
    when: '时间', kind: '类型', from: '来自', to: '至（陷阱）', canary: '金丝雀', confidence: '置信度', why: '依据', contact: '联系记录', sha256: 'SHA-256',
    id: '金丝雀', mother: '母亲', phone: '陷阱号码', father: '父亲', week: '周或导出', planted: '植入或导出时间', firstEvidence: '最早证据', evidence: '证据数', ward: '病区',
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
  timelineCaption: (o, scan, band) =>
    `金丝雀${({ seeded: '植入', export: '写入导出文件', both: '植入或写入导出文件' })[o]}的时间、可疑渠道接触它们的时间，以及${scan ? '查获文件被扫描' : '它们被联系'}的时间${
      band ? `；阴影区域为${band.top ? '最可能来源' : ' Cradle 有记录的最可能来源'} ${band.label} 的泄露时间窗` : ''
    }。`,
  timelineText: '按时间排列的事件',
  unknownSource: '未知来源',
  exportOnlyCell: (files) => `仅在导出文件中：${files.map((f) => `${f.file}（${f.id}）`).join('、')}`,
  lanes: { planted: (o) => ({ seeded: '金丝雀植入', export: '金丝雀导出', both: '金丝雀植入或导出' })[o], contacts: '联系 / 命中', seizure: '查获 / 扫描', window: (l) => `泄露时间窗：${l}`, week: (w) => `${w} 周` },
  marks: {
    planted: (n, w, o) => `${w} ${({ seeded: '植入', export: '写入导出文件', both: '植入或导出' })[o]} ${n} 个${o === 'export' ? '仅存在于导出文件中的' : ''}金丝雀`,
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
        return `${r.at ? `于 ${incidentZh.dateTime(r.at)} ` : ''}${r.operator ? `由操作员 ${r.operator} ` : ''}导出${r.recipient ? `给 ${r.recipient}` : ''}${r.file ? `，文件 ${r.file}` : ''}。`;
      case 'log-lines':
        return `医院访问日志中有 ${r.lines} 条记录显示它打开了这些记录（${r.actions.join('、')}）。`;
      case 'window':
        return `泄露应发生在 ${incidentZh.dateTime(r.from)} 至 ${incidentZh.dateTime(r.to)} 之间。`;
      case 'merged':
        return `同时发生两次泄露：${r.parts.join(' 与 ')}，各自解释部分金丝雀。`;
      case 'unknown-source':
        return `代表 Cradle 没有记录的任何渠道（先验概率 ${incidentZh.pct(r.prior)}）。`;
    }
  },
  certainty: (p) => (p >= 0.95 ? '可能性很高' : p >= 0.8 ? '可能性较高' : p >= 0.5 ? '可能性过半' : '尚不确定'),
  summary: (f) => {
    // 全部为植入的金丝雀时，周次说明植入时间；仅存在于导出文件中的金丝雀从未植入（见下文）。
    const weeks = f.exportOnly === 0 && f.weeks.length ? `于 ${f.weeks.join('、')} 周植入的 ` : '';
    const hosp = f.hospitals.length ? f.hospitals.join('、') : '医院';
    let text: string;
    if (f.source === 'hits') {
      const when = f.from && f.to ? (incidentZh.date(f.from) === incidentZh.date(f.to) ? `${incidentZh.date(f.from)}` : `${incidentZh.dateRange(f.from, f.to)}期间`) : '近期';
      text = `${when}，${weeks}${f.canaries} 个金丝雀家庭${f.senders ? `被 ${f.senders} 个来源` : ''}联系了 ${f.hits} 次。`;
    } else {
      text = `${f.from ? incidentZh.date(f.from) : '?'}，对 ${f.files} 个查获文件的扫描发现了${weeks || ' '}${f.canaries} 个金丝雀家庭。`;
    }
    // 金丝雀存在于何处，决定了数据来自何处：新生儿记录，或仅在导出文件中。
    const all = (k: number) => k === f.canaries;
    const seeded = f.seeded ? `${all(f.seeded) ? '它们' : `其中 ${f.seeded} 个`}于 ${f.weeks.join('、')} 周植入${hosp}的新生儿记录` : '';
    const shown = f.exportFiles.slice(0, 3).map((x) => `${x.file}（导出 ${x.id}，接收方 ${x.recipient}）`);
    const files = `${shown.join('、')}${f.exportFiles.length > 3 ? ` 等 ${f.exportFiles.length} 个文件` : ''}`;
    const exported = f.exportOnly ? `${all(f.exportOnly) ? '它们' : `${f.exportOnly} 个`}是仅存在于导出文件中的金丝雀，从未进入新生儿记录，只写入了导出文件 ${files}` : '';
    if (f.exportOnly === 0) text += `这些家庭并不存在，由 Cradle 植入${hosp}的新生儿记录，因此其数据已流出医院。`;
    else text += `这些家庭并不存在：${[seeded, exported].filter(Boolean).join('；')}${f.seeded === 0 ? `，因此数据来自${f.exportFiles.length === 1 ? '该文件' : '这些文件'}` : ''}。`;
    const t = f.top;
    if (!t) return `${text}Cradle 已知的渠道都没有接触过它们，无法根据 Cradle 的记录追踪来源。`;
    if (t.kind === 'unknown') text += `Cradle 无法确定来源：最可能的解释（概率 ${incidentZh.pct(t.posterior)}）是一个没有记录的渠道。`;
    else {
      text += `最可能的来源是${incidentZh.describe(t)}，概率为 ${incidentZh.pct(t.posterior)}（${incidentZh.certainty(t.posterior)}）。`;
      if (t.window) text += `泄露最可能发生在${incidentZh.dateRange(t.window.from, t.window.to)}之间。`;
    }
    if (f.next) text += `其次的可疑来源${f.next.kind === 'unknown' ? '是未知来源' : ` ${f.next.label} `}，概率为 ${incidentZh.pct(f.next.posterior)}。`;
    return text;
  },
  assumptions: (m, N, U) => [
    '金丝雀家庭是虚构的，只存在于 Cradle 放置它们的地方：医院的新生儿记录，或（仅存在于导出文件中的金丝雀）Cradle 写出的导出文件；金丝雀的陷阱号码接到联系，或在查获文件中出现金丝雀，即说明其记录已流出医院。',
    `一个渠道（导出文件、账号、系统、病区）只可能泄露 Cradle 记录到它接触过的金丝雀，且只能在接触之后泄露。共有 ${U} 个渠道接触过这些金丝雀；金丝雀库共有 ${N} 个。`,
    `泄露发生在某个未知时刻，位于从被发现金丝雀中最早一个植入或导出之时，到其中最后一个出现泄露的最早证据之时；最早证据平均在泄露后 ${incidentZh.num(m.evidenceDelayDays)} 天出现。`,
    '一次泄露包含该渠道当时已接触记录中的一部分；泄露比例大小等可能（泄露 1% 与泄露 10% 的可能性相同）。因此，除被发现者外接触很少的渠道，比接触过数千条的渠道解释得更明确。',
    `渠道无法解释的被发现金丝雀视为噪声（误匹配或偶然联系）：平均每个事件 ${incidentZh.num(m.noise)} 个。`,
    `在获得证据之前，各渠道的可能性相同；Cradle 没有记录的来源先验概率为 ${incidentZh.pct(m.unknownPrior)}，两次独立泄露合并为一个事件的先验概率为 ${incidentZh.pct(m.mergePrior)}。`,
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
        return `保全导出文件 ${s?.export?.file ?? ''} 及其清单（sha256 ${shortHash(s?.export?.sha256)}）作为证据。`;
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
  history: {
    who: '操作人',
    what: '操作',
    why: '理由或备注',
    none: '尚无人关闭、驳回、合并或备注此事件，也没有驳回其中的命中。',
    entry: (e) => {
      switch (e.action) {
        case 'close':
          return '关闭';
        case 'reopen':
          return `重新打开（原为${e.from === 'closed' ? '已关闭' : e.from === 'dismissed' ? '已驳回' : (e.from ?? '')}）`;
        case 'dismiss':
          return '驳回：非泄露';
        case 'merge':
          return `事件 ${e.incident} 合并到 ${e.into}`;
        case 'note':
          return '备注';
        case 'dismiss-hit':
          return `驳回命中 ${e.hit}：不计入来源追踪`;
        case 'restore-hit':
          return `恢复命中 ${e.hit}`;
        default:
          return e.action;
      }
    },
  },
  dismissedHits: (ids) => `命中 ${ids.join('、')} 已被调查人员驳回，未计入本报告和来源追踪（见“处理记录”）。`,
  footer: (masked) => `由 Cradle 生成。${masked ? '来电号码已遮蔽。' : '来电号码完整显示。'}所有时间均为 UTC。`,
};
