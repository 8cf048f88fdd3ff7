import type { Command } from 'commander';
import type { Config } from '../config/index.js';
import type { Database } from '../db/index.js';
import { errorCode, errorMessage, UserError } from '../lib/errors.js';
import type * as Server from '../watch/server.js';
import { DEFAULT_HOST, DEFAULT_PORT, forwarderSecretVariable, normalisePublicUrl, transcriberOf, watchSecrets } from '../watch/settings.js';
import type * as Deliver from '../alerts/deliver.js';
import { maskDigits } from '../lib/phone.js';
import type * as TriageAndAlert from '../workflows/triage-and-alert.js';
import type * as Ami from '../ingest/ami.js';
import type * as Transcribe from '../ingest/transcribe.js';
import { regionOfLocale } from '../domain/index.js';
import { oneOf, portArg, positiveInt, timeZoneArg } from './args.js';
import { openSmsSource, smsToArg, type SmsFormat, type SmsSource } from './sms-source.js';
import { namedHospital, onAction, vaultAction, type GlobalOptions, type JsonOption } from './context.js';

// The action's modules, loaded when the command runs (src/cli/context.ts).
let startWatch: typeof Server.startWatch;
let alertChannels: typeof Deliver.alertChannels;
let transportsFor: typeof Deliver.transportsFor;
let triageAndAlert: typeof TriageAndAlert.triageAndAlert;
let startAmi: typeof Ami.startAmi;
let recordingTranscriber: typeof Transcribe.recordingTranscriber;
async function load(): Promise<void> {
  [{ startWatch }, { alertChannels, transportsFor }, { triageAndAlert }, { startAmi }, { recordingTranscriber }] = [
    await import('../watch/server.js'),
    await import('../alerts/deliver.js'),
    await import('../workflows/triage-and-alert.js'),
    await import('../ingest/ami.js'),
    await import('../ingest/transcribe.js'),
  ];
}

/** The configured speech-to-text command as the watch's recording fetcher takes it (src/ingest/transcribe.ts). */
const transcribeWith = (t: ReturnType<typeof transcriberOf>) => (t ? recordingTranscriber(t) : undefined);

/** How often `cradle watch` triages new contacts and delivers due alerts. */
const TRIAGE_EVERY_MS = 1000;
/** The longest rest between two full rounds of triage (a flood's backlog): see `tick` below. */
const TRIAGE_REST_MAX_MS = 1000;

interface WatchOptions extends JsonOption {
  host?: string;
  port?: number;
  smtpPort?: number;
  trustProxy?: boolean;
  publicUrl?: string;
  sms?: SmsFormat;
  smsDir?: string;
  smsSource?: string;
  smsTo?: string[];
  smsEvery: number;
  timeZone?: string;
}

/**
 * The SMS inbox `cradle watch --sms` polls, in the watch's process: each poll records what is new
 * (src/ingest/gammu-source.ts) and says so on standard error; triage picks the contacts up as any other.
 */
async function smsPoller(db: Database, opts: WatchOptions, config: Config | null): Promise<{ start(): void; stop(): Promise<void> }> {
  const { defaultHospital } = await import('../config/index.js');
  const hospital = defaultHospital(config);
  const timeZone = opts.timeZone ?? hospital?.timeZone;
  if (!timeZone) throw new UserError("--sms: SMSD writes local times: pass --time-zone (the SMSD machine's zone, e.g. Asia/Shanghai), or run with a config naming the hospital's timeZone");
  const region = regionOfLocale(hospital?.locale ?? 'zh-CN');
  const source: SmsSource = await openSmsSource(db, { format: opts.sms!, dir: opts.smsDir, source: opts.smsSource, to: opts.smsTo ?? [] }, region);
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | null = null;
  // A message waiting for a part is said once, not at every poll.
  const said = new Set<string>();
  const poll = () => {
    polling ??= (async () => {
      try {
        const r = await source.poll(db, { timeZone, region, waitMs: 600_000 });
        for (const line of [...r.rejectedDetail.map((d) => `rejected: ${d}`), ...r.warnings.filter((w) => !said.has(w))]) process.stderr.write(`cradle watch: sms: ${maskDigits(line.replace(/\p{Cc}/gu, '?'))}\n`);
        for (const w of r.warnings) said.add(w);
        if (r.items) process.stderr.write(`cradle watch: sms: ${r.items} new, ${r.messages} messages; ${r.recorded} recorded, ${r.duplicates} already in the vault, ${r.rejected} rejected${r.pending ? `, ${r.pending} parts waiting` : ''}\n`);
      } catch (err) {
        process.stderr.write(`cradle watch: sms: ${maskDigits(errorMessage(err))}\n`);
      } finally {
        polling = null;
      }
    })();
  };
  return {
    start() {
      poll();
      timer = setInterval(poll, opts.smsEvery * 1000);
    },
    async stop() {
      clearInterval(timer);
      await polling;
      await source.close();
    },
  };
}

/** The Asterisk Manager Interface client of the config's watch.asterisk.ami, when there is one. */
async function amiClient(db: Database, opts: WatchOptions & GlobalOptions, config: Config | null): Promise<Ami.AmiHandle | null> {
  const ami = config?.watch?.asterisk?.ami;
  if (!ami) return null;
  const { defaultHospital } = await import('../config/index.js');
  // --hospital, as for `cradle ingest cdr`: its zone and locale, and only its trap numbers are traps.
  const named = namedHospital(opts, config);
  const hospital = named ?? defaultHospital(config);
  const secret = process.env.CRADLE_AMI_SECRET || ami.secret;
  if (!secret) throw new UserError(`${config?.file}: watch.asterisk.ami: no secret: set CRADLE_AMI_SECRET (the manager.conf user's secret)`);
  const timeZone = opts.timeZone ?? hospital?.timeZone;
  if (!timeZone) throw new UserError("watch.asterisk.ami: Asterisk writes local times: pass --time-zone (the PBX's zone), or name the hospital's timeZone in the config");
  return startAmi(db, {
    host: ami.host,
    port: ami.port ?? 5038,
    username: ami.username,
    secret,
    timeZone,
    region: regionOfLocale(hospital?.locale ?? 'zh-CN'),
    hospital: named?.name,
    recordings: ami.recordings ? { dir: ami.recordings, transcriber: transcriberOf(config?.watch) } : undefined,
    log: (line) => process.stderr.write(`${line}\n`),
  });
}

export function registerWatch(program: Command): void {
  const first = program.commands.length;
  program
    .command('watch')
    .description('receive the trap numbers\' provider webhooks and keep every contact as evidence (runs until stopped)')
    .option('--host <host>', `address to listen on (default: the config's watch.host, else ${DEFAULT_HOST})`)
    .option('--port <port>', `port to listen on, 0 for any free one (default: the config's watch.port, else ${DEFAULT_PORT})`, portArg)
    .option('--smtp-port <port>', 'also accept mail for the canary mailboxes of the trap domains on this port (0: any free one)', portArg)
    .option('--trust-proxy', 'behind a reverse proxy on this machine: take the client address from X-Forwarded-For (watch.trustProxy in the config)')
    .option('--public-url <url>', 'base URL the providers call, as they see it behind a proxy (checks Twilio signatures)')
    .option('--sms <format>', "also follow a SIM's SMS inbox: gammu-files (with --sms-dir) or gammu-sql (with --sms-source), as cradle ingest sms does", oneOf('gammu-files', 'gammu-sql'))
    .option('--sms-dir <folder>', "--sms gammu-files: SMSD's InboxPath")
    .option('--sms-source <url>', "--sms gammu-sql: SMSD's database (postgres://… or mysql://…, only read)")
    .option('--sms-to <number>', 'the trap number of the SIM, or PhoneID=number (repeatable), as --to of cradle ingest sms', smsToArg)
    .option('--sms-every <seconds>', 'seconds between polls of the SMS inbox', positiveInt, 10)
    .option('--time-zone <zone>', "zone of the times SMSD and Asterisk write (default: the hospital's timeZone)", timeZoneArg)
    .option('--json', 'print the listening address as JSON')
    .addHelpText(
      'after',
      `
Routes:
  POST /webhooks/twilio/sms, /webhooks/twilio/voice   X-Twilio-Signature (TWILIO_AUTH_TOKEN)
  POST /webhooks/twilio/recording                     recordingStatusCallback, <Record action>, transcribeCallback (same signature)
  POST /webhooks/telnyx                               Ed25519 signature (TELNYX_PUBLIC_KEY)
  POST /webhooks/generic                              X-Cradle-Signature: hex HMAC-SHA256 of "<X-Cradle-Timestamp>.<body>" (CRADLE_WEBHOOK_SECRET)
  GET  /healthz

Secrets come from the environment, else the config's "watch" section; a provider without one is
refused (503). Every accepted request is in the vault before it is acknowledged. Every second,
new contacts are triaged (cradle triage) and due alerts delivered (cradle alerts deliver).
A recording's audio is fetched from its RecordingUrl after the callback is stored, kept with its
sha256, and transcribed by watch.transcribe.command when the config has one; a transcript (Twilio's
or the command's) is a contact of the call that triage reads as an SMS.
With watch.asterisk.ami in the config, the Asterisk Manager Interface is followed too: each Cdr event
for a trap number is recorded as \`cradle ingest cdr\` would its row (so the import adds nothing).

Examples:
  TWILIO_AUTH_TOKEN=... cradle watch --public-url https://traps.example.org
  cradle watch --host 0.0.0.0 --port 8787
  cradle watch --port 0 --json        # any free port; prints {"url": ...}
  cradle watch --sms gammu-files --sms-dir /var/spool/gammu/inbox --sms-to +8613912345678
  CRADLE_AMI_SECRET=... cradle watch      # with watch.asterisk.ami in the config: Asterisk's live call records`,
    )
    .action(vaultAction<WatchOptions>(async ({ opts, db, config }) => {
      const settings = config?.watch;
      const publicText = opts.publicUrl ?? settings?.publicUrl;
      let publicUrl: string | undefined;
      try {
        publicUrl = publicText ? normalisePublicUrl(publicText) : undefined;
      } catch (err) {
        throw new UserError(`${opts.publicUrl ? '--public-url' : `${config?.file}: watch.publicUrl`}: ${errorMessage(err)}`);
      }
      const secrets = watchSecrets(process.env, settings);
      const sms = opts.sms ? await smsPoller(db, opts, config) : null;
      let ami: Ami.AmiHandle | null;
      try {
        ami = await amiClient(db, opts, config);
      } catch (err) {
        await sms?.stop();
        throw err;
      }
      const host = opts.host ?? settings?.host ?? DEFAULT_HOST;
      const port = opts.port ?? settings?.port ?? DEFAULT_PORT;
      let watch;
      try {
        watch = await startWatch(db, {
          host,
          port,
          publicUrl,
          secrets,
          rateLimit: settings?.rateLimit,
          smtpPort: opts.smtpPort,
          trustProxy: !!opts.trustProxy || !!settings?.trustProxy,
          recordings: { origins: settings?.recordingOrigins?.map((u) => new URL(u).origin), transcribe: transcribeWith(transcriberOf(settings)) },
        });
      } catch (err) {
        await sms?.stop();
        await ami?.close();
        const code = errorCode(err);
        if (code === 'EADDRINUSE') throw new UserError(`cannot listen on ${host}:${port}: the address is in use (another cradle watch?)`);
        if (code === 'EACCES') throw new UserError(`cannot listen on ${host}:${port}: permission denied (ports below 1024 need privileges)`);
        if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UserError(`cannot listen on ${host}:${port}: no such address on this machine`);
        const message = errorMessage(err);
        if (message.startsWith('TELNYX_PUBLIC_KEY')) throw new UserError(`${message} (give the base64 public key from the Telnyx portal)`);
        throw err;
      }
      const routes = {
        twilio: !!secrets.twilioAuthToken,
        telnyx: !!secrets.telnyxPublicKey,
        generic: !!secrets.webhookSecret,
      };
      // One line either way: a supervisor or a test reads it while the process keeps running.
      const forwarders = (secrets.forwarders ?? []).map((f) => f.name);
      const started = { url: watch.url, host: watch.host, port: watch.port, smtpPort: watch.smtpPort, publicUrl: publicUrl ?? null, configured: routes, forwarders };
      process.stdout.write(opts.json ? `${JSON.stringify(started)}\n` : `listening on ${watch.url}${watch.smtpPort !== null ? ` and smtp://${watch.host}:${watch.smtpPort}` : ''}\n`);
      const off = [
        ...Object.entries(routes).filter(([, on]) => !on).map(([name]) => name),
        ...Object.keys(settings?.forwarders ?? {}).filter((name) => !forwarders.includes(name)).map((name) => `forwarder ${name} (no secret: set ${forwarderSecretVariable(name)})`),
      ];
      if (off.length) process.stderr.write(`cradle watch: not configured (answering 503): ${off.join(', ')}\n`);
      // Contacts are triaged and alerts delivered from the vault, apart from the requests: a contact
      // is acknowledged once stored, and a crash leaves it to be triaged after the restart.
      const transports = transportsFor(config?.alerts);
      const triage = { knownSenders: settings?.knownSenders ?? [], alertChannels: alertChannels(config?.alerts), actor: 'watch', order: 'likely-hits' as const };
      let running: Promise<void> | null = null;
      let stopping = false;
      // While webhooks keep arriving, triage rests after a full round as long as the round took: in a
      // flood it has at most half of the process and of the vault, and the webhooks the rest (each
      // answered only once stored, they cannot wait for triage to catch up). Once they stop, rounds run
      // back to back until the backlog is gone. Likely hits come first in every round.
      let restingUntil = 0;
      let rest: NodeJS.Timeout | undefined;
      const tick = () => {
        if (running || Date.now() < restingUntil) return;
        running = (async () => {
          let again = false;
          const started = Date.now();
          const storedBefore = watch?.stored() ?? 0;
          try {
            // A flood: rounds one after another (alerts delivered after each) until the backlog is gone.
            again = (await triageAndAlert(db, triage, transports, {
              digestAbove: config?.alerts?.digestAbove,
              onError: (channel, error) => process.stderr.write(`cradle watch: alert ${channel}: ${maskDigits(error)}\n`),
            })).full;
          } catch (err) {
            process.stderr.write(`cradle watch: triage/alerts: ${maskDigits(errorMessage(err))}\n`);
          } finally {
            running = null;
          }
          if (again && !stopping) {
            const arriving = (watch?.stored() ?? 0) > storedBefore;
            const took = arriving ? Math.min(Date.now() - started, TRIAGE_REST_MAX_MS) : 0;
            restingUntil = Date.now() + took;
            rest = setTimeout(tick, took);
          }
        })();
      };
      tick();
      const timer = setInterval(tick, TRIAGE_EVERY_MS);
      sms?.start();
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      process.stderr.write(`cradle watch: ${signal}: stopping\n`);
      stopping = true;
      clearInterval(timer);
      clearTimeout(rest);
      await sms?.stop();
      await ami?.close();
      await watch.close();
      await running;
    }));
  onAction(program.commands.slice(first), load);
}
