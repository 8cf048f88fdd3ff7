import type { z as Z } from 'zod';
import { LOCALES, parseChannel, type Locale } from '../domain/index.js';
import { quoted } from '../lib/control.js';
import { DEFAULT_BURN_IN_DAYS } from './file.js';

// cradle.config.json's schemas (zod). They are built on the zod the caller passes, when a config is
// checked by zod at all: a config that src/config/quick.ts reads (vault, defaultHospital, hospitals)
// never loads zod, about 100 modules and a third of a short command's own start-up (issue 18).

export const ROBOT_KINDS = ['dingtalk', 'wecom', 'feishu', 'teams'] as const;
export type RobotKind = (typeof ROBOT_KINDS)[number];
/** Syslog facilities by name, in the order of their codes (RFC 5424 table 1): kern is 0, local7 is 23. */
export const SYSLOG_FACILITIES = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'ntp', 'audit', 'alert', 'clock',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
] as const;

/** The schemas of cradle.config.json, built with `z`. */
export function configSchemas(z: typeof Z) {
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


  const AlertChannelName = z.string().regex(/^[a-z0-9-]+$/, 'channel names use a-z, 0-9 and -');

  function uniqueNames(list: readonly { name: string }[], ctx: Z.RefinementCtx): void {
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


  const ConfigSpec = z
    .object({
      vault: z.string().min(1).default('.cradle'),
      defaultHospital: z.string().optional(),
      watch: WatchSpec.optional(),
      alerts: AlertsSpec.optional(),
      hospitals: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'hospital names use letters, digits, _ . -'), HospitalSpec),
    })
    .strict();

  return { HospitalSpec, WatchSpec, AlertsSpec, ConfigSpec };
}

type Schemas = ReturnType<typeof configSchemas>;
export type WatchConfig = Z.infer<Schemas['WatchSpec']>;
export type AlertsConfig = Z.infer<Schemas['AlertsSpec']>;
/** A config as its schema reads it: defaults filled in, nothing resolved yet. */
export type ConfigData = Z.infer<Schemas['ConfigSpec']>;
