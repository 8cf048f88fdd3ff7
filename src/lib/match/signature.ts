// A canary family's signature: what of it the matcher looks for.
import type { Family, PersonName } from '../../domain/index.js';
import type { CanarySignature } from './types.js';

/**
 * Placeholder names hospitals give a newborn before it is named: "<mother>之子/之女" (zh-CN),
 * "Baby Boy/Girl <surname>" (en-US). They are no evidence of their own (the zh-CN one contains
 * the mother's name, which is matched anyway). Mirrors the locale tables in src/lib/generate, which
 * scan may not import.
 */
export function isPlaceholderName(name: PersonName): boolean {
  return /之(子|女|男)$/.test(name.given) || /^baby(\s+(boy|girl))?$/i.test(name.given.trim());
}

export function signatureOf(canaryId: string, family: Family): CanarySignature {
  const parents = [family.mother, ...(family.father ? [family.father] : [])];
  const names = parents.map((p) => p.name);
  if (!isPlaceholderName(family.baby.name)) names.push(family.baby.name);
  return {
    canaryId,
    phones: parents.flatMap((p) => (p.phone ? [p.phone] : [])),
    emails: parents.flatMap((p) => (p.email ? [p.email] : [])),
    names,
    locale: family.locale,
  };
}
