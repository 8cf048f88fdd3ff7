import crypto from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { indexableKey, isStorableInstant, MAX_INDEXED_CHARS, storableJson, storableText } from '../../src/lib/storable.js';

// The pure rules that make untrusted contact text storable (the vault tests check they are enough).

describe('storable text', () => {
  it('shows NUL as ␀ and an unpaired surrogate as U+FFFD, and leaves the rest alone', () => {
    expect(storableText('a\u0000b')).toBe('a\u2400b');
    expect(storableText('x\ud800y\udc00')).toBe('x\ufffdy\ufffd');
    expect(storableText('宝宝 😀')).toBe('宝宝 😀');
    expect(storableJson({ 'k\u0000': ['v\u0000', 1, null, { d: '\ud800' }] })).toEqual({ 'k\u2400': ['v\u2400', 1, null, { d: '\ufffd' }] });
  });

  it('keeps short clean keys, and bounds the others deterministically with a hash of the whole', () => {
    expect(indexableKey('SM123')).toBe('SM123');
    const long = 'a'.repeat(6000);
    const key = indexableKey(long);
    expect(key).toHaveLength(MAX_INDEXED_CHARS);
    expect(key).toBe(`${'a'.repeat(440)}…sha256:${crypto.createHash('sha256').update(long).digest('hex')}`);
    expect(indexableKey(long)).toBe(key);
    expect(indexableKey(`${long}b`)).not.toBe(key);
    // Two ids that differ only in a NUL stay apart.
    expect(indexableKey('a\u0000b')).not.toBe(indexableKey('a\u2400b'));
    expect(indexableKey('a\u2400b')).toBe('a\u2400b');
    // A surrogate pair is not cut in two.
    expect(indexableKey('😀'.repeat(600))).not.toMatch(/[\ud800-\udbff]…/);
  });

  it('accepts instants of the years 1000-9999 only', () => {
    expect(isStorableInstant(new Date('1000-01-01T00:00:00Z'))).toBe(true);
    expect(isStorableInstant(new Date('9999-12-31T23:59:59.999Z'))).toBe(true);
    expect(isStorableInstant(new Date('0999-12-31T23:59:59.999Z'))).toBe(false);
    expect(isStorableInstant(new Date('0000-01-01T00:00:00Z'))).toBe(false);
    expect(isStorableInstant(new Date('+010000-01-01T00:00:00Z'))).toBe(false);
    expect(isStorableInstant(new Date('nonsense'))).toBe(false);
  });
});
