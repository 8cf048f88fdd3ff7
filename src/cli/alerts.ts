import type { Command } from 'commander';
import type * as Deliver from '../alerts/deliver.js';
import type { AlertPayload } from '../alerts/render.js';
import { errorMessage, UserError } from '../lib/errors.js';
import { action, onAction, readConfig, vaultAction, type JsonOption } from './context.js';
import { emit } from './output.js';

// The actions' modules, loaded when one of these commands runs (src/cli/context.ts).
let deliverDue: typeof Deliver.deliverDue;
let transportsFor: typeof Deliver.transportsFor;
async function load(): Promise<void> {
  ({ deliverDue, transportsFor } = await import('../alerts/deliver.js'));
}

// `cradle alerts test` and `cradle alerts deliver`: the alert channels of the config.

export function registerAlerts(program: Command): void {
  const first = program.commands.length;
  const alerts = program.command('alerts').description('alert channels: send a test alert, deliver the outbox');

  alerts
    .command('test')
    .description('send a test alert through every channel configured under "alerts" in cradle.config.json')
    .option('--json', 'print JSON')
    .addHelpText('after', `
The SMTP password comes from CRADLE_SMTP_PASSWORD; webhooks are signed with CRADLE_ALERT_WEBHOOK_SECRET when set.
A robot's URL and signing secret come from CRADLE_ALERT_<NAME>_URL and CRADLE_ALERT_<NAME>_SECRET
(DingTalk 加签, Feishu 签名校验); a robot counts as sent only when its answer's code is 0.

Examples:
  cradle alerts test
  CRADLE_SMTP_PASSWORD=… cradle alerts test --json`)
    .action(action<JsonOption>(async (opts) => {
      const config = readConfig(opts);
      const transports = transportsFor(config.alerts);
      if (transports.length === 0) throw new UserError(`${config.file}: no alert channels: add "alerts": { "email": {…}, "webhooks": [{ "name", "url", "format" }], "robots": [{ "name", "kind" }], "syslog": [{ "name", "host" }] }`);
      const test: AlertPayload = {
        hit: 0, incident: null, canary: 'test', kind: 'test', at: new Date().toISOString(), from: null, confidence: 1,
        reasons: ['this is a test alert from `cradle alerts test`'], exposedTo: [],
      };
      const results: { channel: string; ok: boolean; error: string | null }[] = [];
      for (const t of transports) {
        try {
          await t.send([test], `test-${Date.now()}`);
          results.push({ channel: t.channel, ok: true, error: null });
        } catch (err) {
          results.push({ channel: t.channel, ok: false, error: errorMessage(err) });
        }
      }
      const sent = results.filter((r) => r.ok).length;
      emit(!!opts.json, { sent, failed: results.length - sent, channels: results }, () => results.map((r) => `${r.channel}: ${r.ok ? 'sent' : `FAILED: ${r.error}`}`));
      if (results.some((r) => !r.ok)) process.exitCode = 1;
    }));

  alerts
    .command('deliver')
    .description('deliver the alerts that are due now (cradle watch does this continuously)')
    .option('--json', 'print JSON')
    .addHelpText('after', `
Examples:
  cradle triage && cradle alerts deliver`)
    .action(vaultAction<JsonOption>(async ({ opts, db, config }) => {
      const res = await deliverDue(db, transportsFor(config?.alerts), {
        digestAbove: config?.alerts?.digestAbove,
        onError: (channel, error) => process.stderr.write(`cradle alerts deliver: ${channel}: ${error}\n`),
      });
      emit(!!opts.json, res, () => `sent ${res.sent} (${res.digests} digest(s)), ${res.retried} to retry, ${res.failed} given up`);
    }));
  onAction(program.commands.slice(first), load);
}
