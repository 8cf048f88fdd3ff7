// The mobile carriers' own service numbers: every SIM hears from them (bills, balance, data-plan
// notices), so a trap SIM that a hospital keeps alive gets their texts whether or not it leaked.
// A contact from one is no evidence by the trap alone (score.ts: the `carrier` discount); a message
// from one that names a family still counts, as fake base stations send fraud under 10086.

/** National service numbers as the carriers publish them, by the carrier's name. */
const SERVICE_NUMBERS: Record<string, string> = {
  '10086': 'China Mobile',
  '1008611': 'China Mobile',
  '10010': 'China Unicom',
  '10011': 'China Unicom',
  '10000': 'China Telecom',
  '10001': 'China Telecom',
  '10099': 'China Broadnet',
};

/** The carrier whose service number sent a contact (`10086`, `+8610086`, `008610086`), or null. */
export function carrierOf(from: string | null | undefined): { number: string; carrier: string } | null {
  if (!from) return null;
  const digits = from.replace(/[\s-]/g, '').replace(/^(\+86|0086)/, '');
  const carrier = SERVICE_NUMBERS[digits];
  return carrier ? { number: digits, carrier } : null;
}

/** Every way a contact's sender may be written for a carrier's service number: as stored, with +86 or 0086. */
export function carrierSenderForms(): string[] {
  return Object.keys(SERVICE_NUMBERS).flatMap((n) => [n, `+86${n}`, `0086${n}`]);
}

/**
 * Senders whose contacts to a trap before any canary held it are no chance traffic (lower-cased): the
 * hospital's known senders (watch.knownSenders: its own line, staff) and the carriers' service numbers
 * in every form. Triage's background rates and the audit's noisy numbers leave them out alike
 * (vault.trapBackgrounds, which also leaves out what the network sent).
 */
export function notChanceSenders(knownSenders: readonly string[] = []): string[] {
  return [...new Set([...knownSenders.map((k) => k.toLowerCase()), ...carrierSenderForms()])];
}
