import path from 'node:path';
import { z } from 'zod';
import { LOCALES, parseChannel, type ChannelRef, type Locale } from '../domain/index.js';
import { isServerLocation } from '../db/index.js';
import { UserError } from '../lib/errors.js';
import { readJsonFile } from '../lib/json-file.js';
import { isTimeZone } from '../lib/zone-name.js';
import { excerpt, problemLines, quoted } from '../lib/control.js';

// cradle.config.json: where the vault is, and per hospital its target, mapping, wards, districts,
// trap-pool settings and weekly rotation plan. Relative paths are relative to the config file.

export { CONFIG_FILE } from './file.js';

/** Days `cradle pool add` keeps new trap numbers in burn-in by default: two weeks of the background calls a number gets. */
import { DEFAULT_BURN_IN_DAYS } from './file.js';
export { DEFAULT_BURN_IN_DAYS };
/** The old guess of a NICU from its name, used only when a hospital does not declare nicuWards. */
export const NICU_NAME = /NICU|新生儿重症/i;
/** Names that may be a neonatal ward the guess misses (新生儿科, Neonatology, SCBU): worth a warning. */
const NEONATAL_NAME = /NICU|新生儿|neonat|SCBU|special care/i;

/**
 * Config advice that does not stop Cradle: a hospital with a ward that looks neonatal but no
 * nicuWards declared, whose NICU babies are then guessed from ward names (新生儿科 would get term babies).
 */
export function hospitalWarnings(config: { file: string }, h: HospitalConfig): string[] {
  const neonatal = h.wards.filter((w) => NEONATAL_NAME.test(w));
  if (h.nicuWardsDeclared || neonatal.length === 0) return [];
  return [
    `${config.file}: hospitals.${h.name}.nicuWards: not declared; guessed ${h.nicuWards.length ? h.nicuWards.map((w) => quoted(w)).join(', ') : 'none'} from the ward names ` +
      `(${neonatal.map((w) => quoted(w)).join(', ')} look neonatal): declare "nicuWards": [...] (or []) so that canaries there get the right babies`,
  ];
}

const Channel = z.string().refine((s) => {
  try {
    parseChannel(s);
    return true;
  } catch {
    return false;
  }
}, 'a channel is kind:name with kind export, account, system or ward');

const HospitalSpec = z
  .object({
    displayName: z.string().min(1).optional(),
    target: z.string().min(1),
    mapping: z.string().min(1),
    locale: z.enum(LOCALES as [Locale, ...Locale[]]).default('zh-CN'),
    timeZone: z.string().default('Asia/Shanghai'),
    /** `cradle logs import`: the hospital's action words and the action each means, e.g. { "调阅": "view" } (over the built-in words). */
    accessActions: z.record(z.string().min(1), z.string().min(1)).optional(),
    wards: z.array(z.string().min(1)).min(1),
    /**
     * Wards that are neonatal intensive care: canaries there are small babies with long stays. Without
     * it, wards named like NICU_NAME are taken (the old guess), with a warning in `cradle target check`.
     */
    nicuWards: z.array(z.string().min(1)).optional(),
    districts: z.array(z.string().min(1)).min(1),
    seedChannel: Channel.default('system:his'),
    pool: z
      .object({
        /** Days a retired trap number rests before it may be given to a new canary. */
        cooldownDays: z.number().int().min(0).default(730),
        /** Days `cradle pool add` watches new numbers for background calls before use (`--burn-in` overrides; 0: none). */
        burnInDays: z.number().int().min(0).default(DEFAULT_BURN_IN_DAYS),
        /**
         * A canary father's recorded phone: a trap number of its own ("own"), or the mother's ("mother":
         * about 1 number a canary instead of 1.7, at the cost of families that share a phone more often
         * than real ones do; `cradle realism` shows what a thief makes of it).
         */
        fatherNumbers: z.enum(['own', 'mother']).default('own'),
        /**
         * "exclusive": a number is one canary's, and rests for the cool-down after it. "shared": several
         * canaries hold a number at once (never two of one ward, or of one export, within 30 days); a
         * contact naming no family is traced as the set of them (docs/trace.md).
         */
        sharing: z.enum(['exclusive', 'shared']).default('exclusive'),
      })
      .strict()
      .default({ cooldownDays: 730, burnInDays: DEFAULT_BURN_IN_DAYS, fatherNumbers: 'own', sharing: 'exclusive' }),
    /** `cradle target profile`: keep a value only when at least k real families share it. */
    profile: z.object({ k: z.number().int().min(2).default(5) }).strict().optional(),
    /** `cradle realism` and `cradle audit --realism`: the ROC AUC above which they warn (default 0.6; `--warn-above` overrides). */
    realism: z.object({ warnAbove: z.number().min(0.5, 'an ROC AUC between 0.5 and 1').max(1, 'an ROC AUC between 0.5 and 1') }).strict().optional(),
    rotation: z
      .object({
        /** Canaries to plant per ISO week, shared among the wards by `allocation`. */
        perWeek: z.number().int().min(1).optional(),
        /** "births" (default): in proportion to the target's real births per ward; "equal": the same for every ward. */
        allocation: z.enum(['births', 'equal']).default('births'),
        /** Canaries every ward gets at least, each week, so that every ward channel stays covered. */
        minPerWard: z.number().int().min(0).default(1),
        /** Canaries to plant per ward each ISO week: an explicit plan, instead of perWeek. */
        perWard: z.record(z.string(), z.number().int().min(0)).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** `cradle watch`: where it listens and the providers' secrets (the environment overrides these). */
const WatchSpec = z
  .object({
    host: z.string().min(1).optional(),
    port: z.number().int().min(0).max(65535).optional(),
    /** The base URL the providers call (as they see it, behind any proxy), e.g. https://traps.example.org. */
    publicUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** Behind a reverse proxy on the same machine: the client's address is the last X-Forwarded-For hop. */
    trustProxy: z.boolean().optional(),
    twilioAuthToken: z.string().min(1).optional(),
    telnyxPublicKey: z.string().min(1).optional(),
    webhookSecret: z.string().min(1).optional(),
    rateLimit: z.object({ perSecond: z.number().positive(), burst: z.number().int().min(1) }).strict().optional(),
    /** Numbers and addresses of the hospital's own lines and staff: their contacts with traps are ignored by triage. */
    knownSenders: z.array(z.string().min(1)).optional(),
    /**
     * The user's speech-to-text command for call recordings: argv, `{file}` standing for the audio
     * file (appended when absent); its standard output is the transcript. Used by `cradle watch` and
     * `cradle ingest recording`/`cdr --recordings`.
     */
    transcribe: z
      .object({
        command: z.array(z.string().min(1)).min(1, 'the program and its arguments, e.g. ["whisper-cli", "-f", "{file}"]'),
        timeoutSeconds: z.number().int().min(1).max(86_400).optional(),
      })
      .strict()
      .optional(),
    /**
     * Asterisk's live Manager Interface: `cradle watch` logs in and records each Cdr event to a trap
     * number as `cradle ingest cdr` would its row. The secret is best given as CRADLE_AMI_SECRET.
     */
    asterisk: z
      .object({
        ami: z
          .object({
            host: z.string().min(1),
            port: z.number().int().min(1).max(65535).optional(),
            username: z.string().min(1),
            secret: z.string().min(1).optional(),
            /** MixMonitor's folder: the recording a Cdr's UserField names is stored with its call. */
            recordings: z.string().min(1).optional(),
          })
          .strict(),
      })
      .strict()
      .optional(),
    /** Origins Twilio RecordingUrls may be fetched from (default https://api.twilio.com). */
    recordingOrigins: z.array(z.url({ protocol: /^https?$/ })).optional(),
    /**
     * SMS forwarding apps and gateways on the phones holding trap SIMs, by name: each POSTs to
     * /webhooks/forward/<name>, signed as its app signs (src/watch/forwarders.ts). The secret is best
     * given as CRADLE_FORWARDER_<NAME>_SECRET (name upper-cased, - and . as _).
     */
    forwarders: z
      .record(
        z.string().regex(/^[A-Za-z0-9_.-]+$/, 'forwarder names use letters, digits, _ . -'),
        z
          .object({
            app: z.enum(['sms-gateway', 'smsforwarder', 'cradle']),
            secret: z.string().min(8, 'at least 8 characters').optional(),
            /** The trap number of this phone or SIM, when the app's body does not name it. */
            to: z.string().min(1).optional(),
            /** The region of numbers written without a country code (default CN). */
            region: z.string().regex(/^[A-Z]{2}$/, 'a two-letter region such as CN').optional(),
            /** Where the fields are in the body (dotted JSON paths or form names; a|b takes the first present). */
            fields: z.object({ id: z.string(), from: z.string(), to: z.string(), body: z.string(), occurredAt: z.string(), timestamp: z.string(), sign: z.string() }).partial().strict().optional(),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();

export type WatchConfig = z.infer<typeof WatchSpec>;

export const ROBOT_KINDS = ['dingtalk', 'wecom', 'feishu', 'teams'] as const;
export type RobotKind = (typeof ROBOT_KINDS)[number];
/** Syslog facilities by name, in the order of their codes (RFC 5424 table 1): kern is 0, local7 is 23. */
export const SYSLOG_FACILITIES = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'ntp', 'audit', 'alert', 'clock',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
] as const;

const AlertChannelName = z.string().regex(/^[a-z0-9-]+$/, 'channel names use a-z, 0-9 and -');

function uniqueNames(list: readonly { name: string }[], ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  list.forEach((item, i) => {
    if (seen.has(item.name)) ctx.addIssue({ code: 'custom', message: `the name ${quoted(item.name)} is used twice`, path: [i, 'name'] });
    seen.add(item.name);
  });
}

/** Where alerts about hits go. The SMTP password comes from CRADLE_SMTP_PASSWORD, never the file. */
const AlertsSpec = z
  .object({
    email: z
      .object({
        host: z.string().min(1),
        port: z.number().int().min(1).max(65535),
        secure: z.boolean().optional(),
        user: z.string().min(1).optional(),
        from: z.string().min(3),
        to: z.array(z.string().min(3)).min(1),
      })
      .strict()
      .optional(),
    webhooks: z
      .array(z.object({ name: z.string().regex(/^[a-z0-9-]+$/, 'webhook names use a-z, 0-9 and -'), url: z.url({ protocol: /^https?$/ }), format: z.enum(['json', 'slack', 'teams']).default('json') }).strict())
      .optional(),
    /**
     * Group robots: DingTalk, WeCom, Feishu/Lark, Teams (Workflows). The URL holds the robot's token:
     * CRADLE_ALERT_<NAME>_URL gives it (or overrides `url`); CRADLE_ALERT_<NAME>_SECRET signs (DingTalk 加签, Feishu).
     */
    robots: z
      .array(
        z
          .object({
            name: AlertChannelName,
            kind: z.enum(ROBOT_KINDS),
            url: z.url({ protocol: /^https?$/ }).optional(),
            /** DingTalk and WeCom: the message type (default markdown). */
            msgtype: z.enum(['markdown', 'text']).optional(),
          })
          .strict()
          .refine((r) => r.msgtype === undefined || r.kind === 'dingtalk' || r.kind === 'wecom', { message: 'msgtype is for dingtalk and wecom robots only', path: ['msgtype'] }),
      )
      .superRefine(uniqueNames)
      .optional(),
    /** Syslog receivers (a SIEM): RFC 5424 over UDP, TCP (octet counting) or TLS, plain or CEF. */
    syslog: z
      .array(
        z
          .object({
            name: AlertChannelName,
            host: z.string().min(1),
            /** Default 514 (udp, tcp), 6514 (tls). */
            port: z.number().int().min(1).max(65535).optional(),
            transport: z.enum(['udp', 'tcp', 'tls']).default('tcp'),
            format: z.enum(['rfc5424', 'cef']).default('rfc5424'),
            facility: z.enum(SYSLOG_FACILITIES).default('auth'),
            appName: z.string().regex(/^[\x21-\x7e]{1,48}$/, 'an APP-NAME is 1 to 48 printable ASCII characters, no spaces').default('cradle'),
            /** HOSTNAME of the messages; default this machine's name. */
            hostname: z.string().regex(/^[\x21-\x7e]{1,255}$/, 'a HOSTNAME is printable ASCII, no spaces').optional(),
            /** The private enterprise number of the structured data's SD-ID (cradle@N); 32473 is the documentation number. */
            enterpriseId: z.number().int().min(1).default(32473),
            /** TLS: the CA that signed the receiver's certificate, and a client certificate and key (files, relative to the config). */
            ca: z.string().min(1).optional(),
            cert: z.string().min(1).optional(),
            key: z.string().min(1).optional(),
            /** TLS: the name the receiver's certificate must carry, when it is not `host`. */
            servername: z.string().min(1).optional(),
          })
          .strict()
          .superRefine((s, ctx) => {
            for (const field of ['ca', 'cert', 'key', 'servername'] as const) {
              if (s[field] !== undefined && s.transport !== 'tls') ctx.addIssue({ code: 'custom', message: `${field} is for transport "tls" only`, path: [field] });
            }
            if ((s.cert === undefined) !== (s.key === undefined)) ctx.addIssue({ code: 'custom', message: 'give both cert and key (a client certificate), or neither', path: [s.cert === undefined ? 'cert' : 'key'] });
          }),
      )
      .superRefine(uniqueNames)
      .optional(),
    /** More alerts than this due at once on one channel go out as one digest. */
    digestAbove: z.number().int().min(1).default(5),
  })
  .strict();

/** Relative certificate files of syslog receivers, resolved against the config file's folder. */
function resolveAlertFiles(base: string, alerts: AlertsConfig): AlertsConfig {
  if (!alerts.syslog) return alerts;
  const file = (f: string | undefined) => (f === undefined ? undefined : path.resolve(base, f));
  return { ...alerts, syslog: alerts.syslog.map((s) => ({ ...s, ca: file(s.ca), cert: file(s.cert), key: file(s.key) })) };
}

export type AlertsConfig = z.infer<typeof AlertsSpec>;

const ConfigSpec = z
  .object({
    vault: z.string().min(1).default('.cradle'),
    defaultHospital: z.string().optional(),
    watch: WatchSpec.optional(),
    alerts: AlertsSpec.optional(),
    hospitals: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'hospital names use letters, digits, _ . -'), HospitalSpec),
  })
  .strict();

export interface HospitalConfig {
  name: string;
  displayName: string;
  target: string;
  mappingFile: string;
  locale: Locale;
  timeZone: string;
  /** The hospital's access-log action words (config `accessActions`); undefined: only the built-in words. */
  accessActions?: Record<string, string>;
  wards: string[];
  /** Neonatal intensive care wards (declared, or guessed from the names when nicuWardsDeclared is false). */
  nicuWards: string[];
  nicuWardsDeclared: boolean;
  districts: string[];
  seedChannel: ChannelRef;
  cooldownDays: number;
  /** Days new trap numbers spend in burn-in (config pool.burnInDays). */
  burnInDays: number;
  /** pool.fatherNumbers: "mother" gives a canary's father the mother's trap number; absent or "own", one of his own. */
  fatherNumbers?: 'own' | 'mother';
  /** pool.sharing: "shared" lets several canaries hold a number at once (docs/trace.md); absent or "exclusive", one. */
  sharing?: 'exclusive' | 'shared';
  /** The explicit plan (rotation.perWard), or null when the rotation allocates perWeek or there is none. */
  rotation: Record<string, number> | null;
  /** The k of `cradle target profile` (config `profile.k`); undefined: the default. */
  profileK?: number;
  /** The ROC AUC above which the realism audit warns (config `realism.warnAbove`); undefined: the default. */
  realismWarnAbove?: number;
  /** rotation.perWeek and how it is shared; null with an explicit perWard plan or no rotation. */
  rotationPerWeek: { total: number; allocation: 'births' | 'equal'; minPerWard: number } | null;
}

export interface Config {
  file: string;
  vault: string;
  defaultHospital?: string;
  hospitals: Map<string, HospitalConfig>;
  watch?: WatchConfig;
  alerts?: AlertsConfig;
}

function resolveLocation(base: string, location: string): string {
  return isServerLocation(location) ? location : path.resolve(base, location);
}

export function parseConfig(doc: unknown, file: string): Config {
  const parsed = ConfigSpec.safeParse(doc);
  if (!parsed.success) {
    throw new UserError(
      problemLines(parsed.error.issues.map((i) => `${file}: ${excerpt(i.path.map(String).join('.')) || '(top level)'}: ${excerpt(i.message)}`)),
    );
  }
  const base = path.dirname(path.resolve(file));
  const problems: string[] = [];
  const hospitals = new Map<string, HospitalConfig>();
  for (const [name, h] of Object.entries(parsed.data.hospitals)) {
    if (!isTimeZone(h.timeZone)) problems.push(`${file}: hospitals.${excerpt(name)}.timeZone: unknown time zone ${quoted(h.timeZone)}`);
    (h.nicuWards ?? []).forEach((ward, i) => {
      if (!h.wards.includes(ward)) problems.push(`${file}: hospitals.${excerpt(name)}.nicuWards.${i}: ${quoted(ward)} is not one of the hospital's wards (${excerpt(h.wards.join(', '))})`);
    });
    const at = `${file}: hospitals.${excerpt(name)}.rotation`;
    if (h.rotation && (h.rotation.perWard === undefined) === (h.rotation.perWeek === undefined)) {
      problems.push(`${at}: give either perWeek (shared among wards by allocation) or perWard (an explicit plan), not ${h.rotation.perWard ? 'both' : 'neither'}`);
    }
    if (h.rotation?.perWeek !== undefined && h.rotation.perWeek < h.rotation.minPerWard * h.wards.length) {
      problems.push(`${at}.perWeek: ${h.rotation.perWeek} cannot give each of the ${h.wards.length} wards minPerWard ${h.rotation.minPerWard}; raise perWeek to at least ${h.rotation.minPerWard * h.wards.length} or lower minPerWard`);
    }
    for (const ward of Object.keys(h.rotation?.perWard ?? {})) {
      if (!h.wards.includes(ward)) problems.push(`${file}: hospitals.${excerpt(name)}.rotation.perWard.${excerpt(ward)}: not one of the hospital's wards (${excerpt(h.wards.join(', '))})`);
    }
    hospitals.set(name, {
      name,
      displayName: h.displayName ?? name,
      target: resolveLocation(base, h.target),
      mappingFile: path.resolve(base, h.mapping),
      locale: h.locale,
      timeZone: h.timeZone,
      wards: h.wards,
      nicuWards: h.nicuWards ?? h.wards.filter((w) => NICU_NAME.test(w)),
      nicuWardsDeclared: h.nicuWards !== undefined,
      districts: h.districts,
      seedChannel: parseChannel(h.seedChannel),
      cooldownDays: h.pool.cooldownDays,
      burnInDays: h.pool.burnInDays,
      fatherNumbers: h.pool.fatherNumbers,
      sharing: h.pool.sharing,
      rotation: h.rotation?.perWard ?? null,
      ...(h.accessActions ? { accessActions: h.accessActions } : {}),
      ...(h.profile ? { profileK: h.profile.k } : {}),
      ...(h.realism ? { realismWarnAbove: h.realism.warnAbove } : {}),
      rotationPerWeek: h.rotation?.perWeek !== undefined && h.rotation.perWard === undefined
        ? { total: h.rotation.perWeek, allocation: h.rotation.allocation, minPerWard: h.rotation.minPerWard }
        : null,
    });
  }
  if (hospitals.size === 0) problems.push(`${file}: hospitals: name at least one hospital`);
  if (parsed.data.defaultHospital && !hospitals.has(parsed.data.defaultHospital)) {
    problems.push(`${file}: defaultHospital: ${quoted(parsed.data.defaultHospital)} is not among hospitals`);
  }
  if (problems.length) throw new UserError(problemLines(problems));
  return { file: path.resolve(file), vault: resolveLocation(base, parsed.data.vault), defaultHospital: parsed.data.defaultHospital, hospitals, watch: parsed.data.watch, alerts: parsed.data.alerts && resolveAlertFiles(base, parsed.data.alerts) };
}

export function loadConfig(file: string): Config {
  const doc = readJsonFile(file, 'config', () => `no ${path.basename(file)} at ${path.dirname(path.resolve(file))}; run \`cradle init\` or pass --config <file>`);
  return parseConfig(doc, file);
}

/** Pick the hospital a command works on: --hospital, else the default, else the only one. */
export function selectHospital(config: Config, name?: string): HospitalConfig {
  const wanted = name ?? config.defaultHospital ?? (config.hospitals.size === 1 ? [...config.hospitals.keys()][0] : undefined);
  if (!wanted) throw new UserError(`${config.file} names several hospitals (${[...config.hospitals.keys()].join(', ')}); choose one with --hospital`);
  const hospital = config.hospitals.get(wanted);
  if (!hospital) throw new UserError(`no hospital "${wanted}" in ${config.file} (known: ${[...config.hospitals.keys()].join(', ')})`);
  return hospital;
}

/** The hospital meant when none is named: the config's default or its only one; null when there is none to choose. */
/** Canaries a week of the hospital's rotation plants: the explicit plan's sum, or perWeek; 0 without a plan. */
export function canariesPerWeek(h: HospitalConfig): number {
  return h.rotation ? Object.values(h.rotation).reduce((a, b) => a + b, 0) : (h.rotationPerWeek?.total ?? 0);
}

export function defaultHospital(config: Config | null): HospitalConfig | null {
  if (!config) return null;
  try {
    return selectHospital(config);
  } catch {
    return null;
  }
}

/** The template `cradle init` writes, pointing at the reference mapping and an embedded vault. */
export function configTemplate(vault: string, target: string): object {
  return {
    vault,
    defaultHospital: 'main',
    hospitals: {
      main: {
        displayName: 'Maternity hospital',
        target,
        mapping: 'mapping.json',
        locale: 'zh-CN',
        timeZone: 'Asia/Shanghai',
        wards: ['产科一病区', '产科二病区', 'NICU'],
        nicuWards: ['NICU'],
        districts: ['鼓楼区', '玄武区', '秦淮区', '建邺区'],
        seedChannel: 'system:his',
        pool: { cooldownDays: 730, burnInDays: DEFAULT_BURN_IN_DAYS },
        rotation: { perWeek: 7, allocation: 'births', minPerWard: 1 },
      },
    },
  };
}
