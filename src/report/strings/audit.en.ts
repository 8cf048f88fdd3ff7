import { formatEn } from './format.js';
import type { AuditStrings } from './types.js';

export const auditEn: AuditStrings = {
  ...formatEn,
  title: (hospital) => `Canary program audit: ${hospital}`,
  subtitle: 'How the canary program ran over the period: the weekly rotations, the canaries in place, the trap pool, what was caught, and whether the evidence ledger is intact.',
  sections: { summary: 'Summary', rotations: 'Weekly rotations', canaries: 'Canaries live', pool: 'Trap pool health', incidents: 'Hits and incidents', tripwires: 'Tripwires (access logs)', ledger: 'Evidence ledger', realism: 'Realism: can a thief tell the canaries?' },
  meta: { hospital: 'Hospital', period: 'Period', timeZone: 'Time zone', generated: 'Report made', by: 'by', command: 'Command', tool: 'Tool', times: (zone) => `Dates and times are the hospital's: ${zone}.` },
  weekStatus: (s) => ({ done: 'done', partial: 'started, not completed', missed: 'MISSED', due: 'due (current week)', before: 'before the first rotation' })[s],
  numberState: (s) => ({ burn_in: 'burn-in', available: 'available', assigned: 'assigned to a canary', retired: 'retired (cool-down)', blocked: 'blocked' })[s],
  cols: {
    week: 'Week', starts: 'Starts', status: 'Status', planned: 'Planned', planted: 'Scheduled or planted', completed: 'Completed',
    ward: 'Ward', live: 'Live', plantedInPeriod: 'Planted in period', retiredInPeriod: 'Retired in period',
    recipient: 'Recipient', exportsInPeriod: 'Exports in period', exportsTotal: 'Exports in all', lastExport: 'Last export',
    state: 'State', numbers: 'Numbers', number: 'Number', contacts: 'Contacts before use', days: 'Days watched', perDay: 'Per day',
    incident: 'Incident', source: 'Found by', title: 'Title', opened: 'Opened', hits: 'Hits', canaries: 'Canaries', firstContact: 'First contact', lastContact: 'Last contact', senders: 'Senders',
    account: 'Account', lines: 'Lines', lists: 'Lists', first: 'First', last: 'Last', when: 'When', action: 'Action', canary: 'Canary', file: 'File',
    check: 'Check', result: 'Result',
    comparison: 'Canaries compared', real: 'Real families', auc: 'ROC AUC', ci: '95% interval', reliedOn: 'Relied on most', field: 'Field', test: 'Test', distance: 'Distance', p: 'p-value',
  },
  plan: (total, wards) => `Rotation plan: ${total} (${wards.map(([w, n]) => `${w} ${n}`).join(', ')}) canaries per week.`,
  planPerWeek: (total) => `Rotation plan: ${total} canar${total === 1 ? 'y' : 'ies'} per week, shared among the wards at each rotation.`,
  noPlan: 'The hospital has no rotation plan in the configuration: no week was due.',
  rotationTally: (done, missed, partial, due) => `${done} done, ${missed} missed${partial ? `, ${partial} started but not completed` : ''}${due ? `, ${due} due this week` : ''}.`,
  beforeWeeks: (n, first, rotated) =>
    rotated
      ? `${n} week${n === 1 ? '' : 's'} of the period came before the hospital's first rotation (${first}) and ${n === 1 ? 'is' : 'are'} not counted as missed.`
      : `The hospital has had no rotation yet; ${n} week${n === 1 ? '' : 's'} of the period came before it was registered in Cradle (${first}) and ${n === 1 ? 'is' : 'are'} not counted as missed.`,
  noWeeks: 'No week of the period has started yet.',
  byWard: 'Seeded canaries per ward, live at the end of the period',
  byRecipient: 'Export canaries per recipient, live at the end of the period',
  noRecipients: 'No export in the period or before it.',
  poolCounts: 'Trap numbers by state',
  poolSupply: (supply, perWeek, weeksLeft, needed, weeks, perCanary) =>
    weeksLeft === null
      ? `${supply} numbers available or in burn-in; without a rotation plan no weekly need is known.`
      : `${supply} numbers available or in burn-in; a week's rotation takes ${perWeek} (${auditEn.num(perCanary)} per canary), the next ${weeks} weeks ${needed}: enough for ${weeksLeft} week${weeksLeft === 1 ? '' : 's'}.`,
  poolShared: (numbers, needed, weeksLeft, horizon) =>
    `${numbers} numbers, blocked ones aside, shared among canaries (pool.sharing "shared": reused, not used up); played on them as \`cradle pool plan --shared\` plays it, the rotation plan needs ${needed}: ${weeksLeft >= horizon ? `enough for the ${horizon} weeks simulated` : `enough for ${weeksLeft} week${weeksLeft === 1 ? '' : 's'}, short after`}.`,
  poolLow: (weeksLeft, weeks) => `Warning: the pool holds fewer than ${weeks} weeks of trap numbers (${weeksLeft} left). Add numbers now (cradle pool add): new ones need their burn-in before use.`,
  poolSegments: (percent, missing) =>
    `Warning: ${percent}% of the real patients' mobile numbers are in segments the pool has none of (most common: ${missing.join(', ')}). Canaries in other segments are easier to tell apart: add numbers in those segments (cradle pool add).`,
  noise: 'Burn-in noise: the noisiest numbers',
  noiseSummary: (noisy, contacts, days) => `${noisy} number${noisy === 1 ? '' : 's'} got ${contacts} contact${contacts === 1 ? '' : 's'} before any canary held them, over ${auditEn.num(days)} number-days watched. Such background noise (wrong numbers, the previous owner's contacts, spam) would look like hits: a noisy number is better blocked than given to a canary.`,
  noNoise: 'No trap number was contacted before a canary held it.',
  incidentTally: (hits, i) =>
    `${hits} hit${hits === 1 ? '' : 's'} on the hospital's canaries in the period; incidents: ${i.open} open, ${i.closed} closed, ${i.dismissed} dismissed (not a leak)${i.merged ? `, ${i.merged} merged into another` : ''}.`,
  noIncidents: 'No incident in the period.',
  tripwireTally: (opened, accounts) => `${opened} canary record${opened === 1 ? ' was' : 's were'} opened on ${opened === 1 ? 'its' : 'their'} own (viewed, printed or exported one at a time) by ${accounts} account${accounts === 1 ? '' : 's'}: each is a tripwire.`,
  tripwireAccounts: 'Accounts that opened canary records on their own',
  tripwireLines: (shown, total) => (shown < total ? `The newest ${shown} of ${total} lines` : 'The lines'),
  noTripwires: "No access-log line of the period opened a canary's record on its own: no tripwire.",
  listHeading: 'Lists that included canaries (not tripwires)',
  listTally: (lines, accounts, records, canaries) =>
    `${lines} list${lines === 1 ? '' : 's'}, search${lines === 1 ? '' : 'es'} or bulk export${lines === 1 ? '' : 's'} by ${accounts} account${accounts === 1 ? '' : 's'} included canary records ${records} time${records === 1 ? '' : 's'} (${canaries} canar${canaries === 1 ? 'y' : 'ies'}). Such a line shows many records at once, canaries among them: an exposure the trace weighs, not a tripwire, and no alert.`,
  noLists: 'No list, search or bulk export of the period included a canary.',
  ledgerChecks: { chain: 'Hash chain', head: 'Head', evidence: 'Evidence against the ledger', unsealed: 'Not sealed yet', predate: 'Older than the ledger', reports: 'Reports recorded in the period' },
  ledgerChain: (ok, entries, b) => (ok ? `intact, ${entries} entries` : `BROKEN at entry #${b?.seq} (${b?.kind} ${b?.ref}): ${b?.problem}, ${b?.detail}`),
  ledgerEvidence: (checked, problems) => (problems ? `${problems} problem(s) in ${checked} rows checked (cradle verify lists them)` : `${checked} rows checked, all match`),
  ledgerEmpty: 'empty',
  ledgerVerdict: (ok) => (ok ? 'The ledger verifies: chain intact and the evidence matches it.' : 'The ledger does NOT verify: run cradle verify and treat the evidence as suspect until it is explained.'),
  ledgerNote: 'Keep the head hash outside Cradle and check it later with `cradle verify --anchor <hash>`.',
  summary: (f) => {
    const rot = f.weeks ? `${f.done} of ${f.weeks} weekly rotation${f.weeks === 1 ? '' : 's'} done${f.missed ? `, ${f.missed} missed` : ''}${f.partial ? `, ${f.partial} not completed` : ''}.` : 'No rotation week was due.';
    const before = f.before ? ` ${f.before} earlier week${f.before === 1 ? '' : 's'} came before ${f.firstRotation ? `the first rotation (${f.firstRotation})` : 'any rotation'}.` : '';
    const lists = f.listed ? `, and ${f.listed} canary record${f.listed === 1 ? '' : 's'} shown in ${f.lists} list${f.lists === 1 ? '' : 's'}` : '';
    const pool = f.weeksLeft === null ? '' : f.low ? ` The trap pool is running out: ${f.weeksLeft} week${f.weeksLeft === 1 ? '' : 's'} of numbers left.` : ` The trap pool holds ${f.weeksLeft} weeks of numbers.`;
    return `From ${f.from} to ${f.to}, ${f.hospital}: ${rot}${before} ${f.live} seeded canar${f.live === 1 ? 'y' : 'ies'} live at the end of the period, and export canaries with ${f.recipients} recipient${f.recipients === 1 ? '' : 's'}.${pool} ${f.incidents} incident${f.incidents === 1 ? '' : 's'} (${f.open} open), ${f.tripwires} tripwire${f.tripwires === 1 ? '' : 's'} (canary records opened on their own)${lists}. ${f.ledgerOk ? 'The evidence ledger verifies.' : 'The evidence ledger does NOT verify.'}`;
  },
  footer: (zone) => `Made by Cradle (cradle audit). Dates and times: ${zone}.`,
  realismIntro: "The hospital's canaries compared with its real rows as a thief holding the table would: a classifier (gradient-boosted stumps on value frequency, nulls, precision, time of day, text shape, id order against time) trained and scored by stratified 5-fold cross-validation. An ROC AUC of 0.5 means canaries cannot be told apart; 1 means every one can.",
  realismNotMeasured: 'Not measured in this report: run `cradle audit --realism` (it reads the target, read-only) or `cradle realism`.',
  realismVerdict: (auc, warnAbove, warning) =>
    auc === null ? 'No classifier could be run: too few canaries or real rows.' : warning ? `Warning: canaries are separable from real rows (ROC AUC ${auc.toFixed(3)}, above ${warnAbove}). The fields below say what gives them away.` : `Canaries are not separable beyond the threshold: ROC AUC ${auc.toFixed(3)}, at most ${warnAbove}.`,
  realismKind: (kind) => (kind === 'planted' ? 'planted in the target' : 'fresh dry-run sample'),
  realismFields: (kind) => `Fields diverging most, ${kind === 'planted' ? 'planted canaries' : 'dry-run sample'}`,
  realismNote: 'Only aggregates and column names are shown: no value of any row leaves the vault. `cradle realism` gives every field, the pairs of dependent fields and the figures in full.',
};
