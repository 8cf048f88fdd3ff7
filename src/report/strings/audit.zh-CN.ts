import { formatZh } from './format.js';
import type { AuditStrings } from './types.js';

export const auditZh: AuditStrings = {
  ...formatZh,
  title: (hospital) => `金丝雀计划审计报告：${hospital}`,
  subtitle: '本期金丝雀计划的运行情况：每周轮换、在位的金丝雀、陷阱号码池、发现的命中，以及证据账本是否完整。',
  sections: { summary: '摘要', rotations: '每周轮换', canaries: '在位的金丝雀', pool: '陷阱号码池状况', incidents: '命中与事件', tripwires: '绊线（访问日志）', ledger: '证据账本', realism: '逼真度：窃取者能否认出金丝雀？' },
  meta: { hospital: '医院', period: '审计期间', timeZone: '时区', generated: '报告生成', by: '操作人', command: '命令', tool: '工具', times: (zone) => `日期和时间均为医院所在时区：${zone}。` },
  weekStatus: (s) => ({ done: '已完成', partial: '已开始，未完成', missed: '遗漏', due: '待执行（本周）', before: '首次轮换之前' })[s],
  numberState: (s) => ({ burn_in: '预热期', available: '可用', assigned: '已分配给金丝雀', retired: '已退役（冷却期）', blocked: '已封禁' })[s],
  cols: {
    week: '周', starts: '开始时间', status: '状态', planned: '计划', planted: '已排期或植入', completed: '完成时间',
    ward: '病区', live: '在位', plantedInPeriod: '本期植入', retiredInPeriod: '本期退役',
    recipient: '接收方', exportsInPeriod: '本期导出', exportsTotal: '导出总数', lastExport: '最近导出',
    state: '状态', numbers: '号码数', number: '号码', contacts: '使用前的联系', days: '监控天数', perDay: '每天',
    incident: '事件', source: '发现方式', title: '标题', opened: '创建时间', hits: '命中', canaries: '金丝雀', firstContact: '首次联系', lastContact: '最近联系', senders: '来源数',
    account: '账号', lines: '记录数', lists: '列表数', first: '最早', last: '最近', when: '时间', action: '操作', canary: '金丝雀', file: '文件',
    check: '检查项', result: '结果',
    comparison: '比较的金丝雀', real: '真实家庭', auc: 'ROC AUC', ci: '95% 置信区间', reliedOn: '主要依据', field: '字段', test: '检验', distance: '距离', p: 'p 值',
  },
  plan: (total, wards) => `轮换计划：每周 ${total} 个金丝雀（${wards.map(([w, n]) => `${w} ${n} 个`).join('，')}）。`,
  planPerWeek: (total) => `轮换计划：每周 ${total} 个金丝雀，每次轮换时分配到各病区。`,
  noPlan: '配置中该医院没有轮换计划：没有应执行的周。',
  rotationTally: (done, missed, partial, due) => `已完成 ${done} 周，遗漏 ${missed} 周${partial ? `，${partial} 周已开始但未完成` : ''}${due ? `，本周 ${due} 周待执行` : ''}。`,
  beforeWeeks: (n, first, rotated) =>
    rotated ? `审计期间有 ${n} 周早于医院的首次轮换（${first}），不计为遗漏。` : `医院尚未进行过轮换；审计期间有 ${n} 周早于医院在 Cradle 中登记的时间（${first}），不计为遗漏。`,
  noWeeks: '审计期间尚无已开始的周。',
  byWard: '各病区在期末在位的植入金丝雀',
  byRecipient: '各接收方在期末在位的导出金丝雀',
  noRecipients: '本期及之前没有导出。',
  poolCounts: '按状态统计的陷阱号码',
  poolSupply: (supply, perWeek, weeksLeft, needed, weeks, perCanary) =>
    weeksLeft === null
      ? `可用或预热中的号码共 ${supply} 个；没有轮换计划，无法计算每周需求。`
      : `可用或预热中的号码共 ${supply} 个；每周轮换需要 ${perWeek} 个（每个金丝雀 ${auditZh.num(perCanary)} 个），今后 ${weeks} 周需要 ${needed} 个：可用 ${weeksLeft} 周。`,
  poolShared: (numbers, needed, weeksLeft, horizon) =>
    `号码池共 ${numbers} 个号码（不含已封禁的），由金丝雀共用（pool.sharing "shared"：号码重复使用，不会用完）；按 \`cradle pool plan --shared\` 的模拟，轮换计划需要 ${needed} 个：${weeksLeft >= horizon ? `足够模拟的 ${horizon} 周` : `可用 ${weeksLeft} 周，之后不足`}。`,
  poolLow: (weeksLeft, weeks) => `警告：号码池剩余不足 ${weeks} 周（仅剩 ${weeksLeft} 周）。请立即添加号码（cradle pool add）：新号码使用前需经过预热期。`,
  poolSegments: (percent, missing) => `警告：真实患者的手机号码中有 ${percent}% 所在的号段在号码池中没有任何号码（最常见：${missing.join('、')}）。号段不同的金丝雀更容易被识别：请添加这些号段的号码（cradle pool add）。`,
  noise: '预热噪声：噪声最多的号码',
  noiseSummary: (noisy, contacts, days) => `${noisy} 个号码在分配给金丝雀之前共收到 ${contacts} 次联系，累计监控 ${auditZh.num(days)} 号码·天。这类背景噪声（打错电话、前任机主的联系、骚扰信息）会被误当作命中：噪声大的号码宜封禁，不宜分配给金丝雀。`,
  noNoise: '没有号码在分配给金丝雀之前收到联系。',
  incidentTally: (hits, i) => `本期医院金丝雀共有 ${hits} 次命中；事件：处理中 ${i.open} 个，已关闭 ${i.closed} 个，已驳回（非泄露）${i.dismissed} 个${i.merged ? `，已合并 ${i.merged} 个` : ''}。`,
  noIncidents: '本期没有事件。',
  tripwireTally: (opened, accounts) => `${accounts} 个账号单独打开（逐条查看、打印或导出）金丝雀记录 ${opened} 次：每次都是一条绊线。`,
  tripwireAccounts: '单独打开过金丝雀记录的账号',
  tripwireLines: (shown, total) => (shown < total ? `最近 ${shown} 条（共 ${total} 条）记录` : '记录'),
  noTripwires: '本期没有访问日志记录单独打开金丝雀记录：没有绊线。',
  listHeading: '包含金丝雀的列表（不是绊线）',
  listTally: (lines, accounts, records, canaries) =>
    `${accounts} 个账号的 ${lines} 次列表、搜索或批量导出共显示金丝雀记录 ${records} 次（涉及 ${canaries} 个金丝雀）。这类操作一次显示许多记录，金丝雀只是其中之一：它是追踪时考虑的接触，不是绊线，也不发出警报。`,
  noLists: '本期没有列表、搜索或批量导出包含金丝雀。',
  ledgerChecks: { chain: '哈希链', head: '最新条目', evidence: '证据与账本核对', unsealed: '尚未封存', predate: '早于账本', reports: '本期记录的报告' },
  ledgerChain: (ok, entries, b) => (ok ? `完整，共 ${entries} 条` : `在第 ${b?.seq} 条（${b?.kind} ${b?.ref}）处断裂：${b?.problem}，${b?.detail}`),
  ledgerEvidence: (checked, problems) => (problems ? `核对 ${checked} 行，发现 ${problems} 个问题（cradle verify 可列出）` : `核对 ${checked} 行，全部一致`),
  ledgerEmpty: '空',
  ledgerVerdict: (ok) => (ok ? '账本校验通过：哈希链完整，证据与账本一致。' : '账本校验未通过：请运行 cradle verify，在查明原因之前将证据视为可疑。'),
  ledgerNote: '请将最新条目的哈希保存在 Cradle 之外，日后用 `cradle verify --anchor <哈希>` 核对。',
  summary: (f) => {
    const before = f.before ? `另有 ${f.before} 周早于${f.firstRotation ? `首次轮换（${f.firstRotation}）` : '任何轮换'}。` : '';
    const lists = f.listed ? `，另有 ${f.lists} 次列表显示金丝雀记录 ${f.listed} 次` : '';
    const rot = f.weeks ? `应执行 ${f.weeks} 周轮换，已完成 ${f.done} 周${f.missed ? `，遗漏 ${f.missed} 周` : ''}${f.partial ? `，${f.partial} 周未完成` : ''}。` : '没有应执行的轮换周。';
    const pool = f.weeksLeft === null ? '' : f.low ? `陷阱号码池即将用尽：仅剩 ${f.weeksLeft} 周的号码。` : `陷阱号码池可供 ${f.weeksLeft} 周使用。`;
    return `${f.from} 至 ${f.to}，${f.hospital}：${rot}${before}期末在位的植入金丝雀 ${f.live} 个，导出金丝雀涉及 ${f.recipients} 个接收方。${pool}事件 ${f.incidents} 个（处理中 ${f.open} 个），绊线（单独打开金丝雀记录）${f.tripwires} 条${lists}。${f.ledgerOk ? '证据账本校验通过。' : '证据账本校验未通过。'}`;
  },
  footer: (zone) => `由 Cradle 生成（cradle audit）。日期和时间：${zone}。`,
  realismIntro: '以持有整张表的窃取者的方式，将本院的金丝雀与真实记录比较：一个分类器（梯度提升决策桩，特征包括取值频率、空值、精度、一天中的时刻、文本形态、编号顺序与时间顺序）经分层 5 折交叉验证训练和评分。ROC AUC 为 0.5 表示无法区分金丝雀，为 1 表示每一个都能被认出。',
  realismNotMeasured: '本报告未测量：请运行 `cradle audit --realism`（只读访问目标库）或 `cradle realism`。',
  realismVerdict: (auc, warnAbove, warning) =>
    auc === null ? '无法运行分类器：金丝雀或真实记录太少。' : warning ? `警告：金丝雀可与真实记录区分（ROC AUC ${auc.toFixed(3)}，高于 ${warnAbove}）。下表列出暴露它们的字段。` : `金丝雀的可区分度未超过阈值：ROC AUC ${auc.toFixed(3)}，不高于 ${warnAbove}。`,
  realismKind: (kind) => (kind === 'planted' ? '已植入目标库' : '新的演练样本'),
  realismFields: (kind) => `差异最大的字段（${kind === 'planted' ? '已植入的金丝雀' : '演练样本'}）`,
  realismNote: '这里只显示汇总数字和列名：任何记录的值都不会离开保险库。`cradle realism` 给出全部字段、相互依赖的字段对及完整数字。',
};
