// What an alert says, for each kind of receiver: pure. Alerts name the canary, the channels it was
// exposed to and the incident; numbers in them are already masked (triage masks them).

export interface HitAlertPayload {
  type?: 'hit';
  hit: number;
  incident: string | null;
  canary: string;
  kind: string;
  at: string;
  from: string | null;
  confidence: number;
  reasons: string[];
  exposedTo: string[];
}

/** An account opened a canary's record on its own (a tripwire): no legitimate user does. */
export interface TripwireAlertPayload {
  type: 'tripwire';
  tripwire: number;
  canary: string;
  account: string;
  action: string;
  at: string;
  system: string | null;
  ip: string | null;
  exposedTo: string[];
}

export type AlertPayload = HitAlertPayload | TripwireAlertPayload;

export interface RenderedAlert {
  subject: string;
  text: string;
}

export function renderAlerts(alerts: readonly AlertPayload[]): RenderedAlert {
  const [a] = alerts;
  if (alerts.length === 1 && a.type === 'tripwire') {
    return { subject: `[Cradle] tripwire: account ${a.account} opened canary record ${a.canary} (${a.action})`, text: describeAlert(a) + '\n\nDetails: cradle tripwires --since 7d\n' };
  }
  if (alerts.length === 1 && a.type !== 'tripwire') {
    return {
      subject: `[Cradle] canary ${a.canary} contacted by ${a.kind} (confidence ${a.confidence.toFixed(2)}), incident ${a.incident ?? '-'}`,
      text: describeAlert(a) + '\n\nDetails: cradle hits --since 1d; cradle incidents\n',
    };
  }
  const incidents = [...new Set(alerts.map((a) => (a.type === 'tripwire' ? null : a.incident)).filter(Boolean))];
  const canaries = [...new Set(alerts.map((a) => a.canary))];
  const what = alerts.every((a) => a.type === 'tripwire') ? 'tripwires' : 'canary contacts';
  return {
    subject: `[Cradle] ${alerts.length} ${what} (${canaries.length} canaries, ${incidents.length} incident(s)): digest`,
    text: `${alerts.length} contacts with traps came in together; one message instead of ${alerts.length}.\n\n` + alerts.map(describeAlert).join('\n\n') + '\n\nDetails: cradle hits --since 1d; cradle incidents\n',
  };
}

/** One alert in a few lines of plain text (what the e-mail and the robots say for it). */
export function describeAlert(a: AlertPayload): string {
  if (a.type === 'tripwire') {
    return [
      `Account ${a.account} did "${a.action}" on canary ${a.canary}'s record at ${a.at}${a.system ? ` in ${a.system}` : ''}${a.ip ? ` from ${a.ip}` : ''}.`,
      `This family does not exist: nobody has a reason to open it on its own. Check the account's recent activity.`,
      `The canary was exposed to: ${a.exposedTo.length ? a.exposedTo.join(', ') : 'no channel on record'}.`,
      `Tripwire ${a.tripwire}.`,
    ].join('\n');
  }
  return [
    `Canary ${a.canary} was contacted by ${a.kind} at ${a.at}${a.from ? ` from ${a.from}` : ''}.`,
    `Confidence ${a.confidence.toFixed(2)}: ${a.reasons.join('; ')}.`,
    `The canary was exposed to: ${a.exposedTo.length ? a.exposedTo.join(', ') : 'no channel on record'}.`,
    `Incident: ${a.incident ?? 'none'}; hit ${a.hit}.`,
  ].join('\n');
}

/** The body posted to a webhook of the given format. */
export function webhookBody(format: 'json' | 'slack' | 'teams', alerts: readonly AlertPayload[]): unknown {
  const { subject, text } = renderAlerts(alerts);
  if (format === 'slack') return { text: `*${subject}*\n${text}` };
  if (format === 'teams') return { '@type': 'MessageCard', '@context': 'https://schema.org/extensions', summary: subject, title: subject, text: text.replace(/\n/g, '  \n') };
  return { type: alerts.length > 1 ? 'cradle.alert.digest' : 'cradle.alert', subject, alerts };
}
