/**
 * The small pure pieces of the release flows: the content-derived bundle id, the phase rules of
 * promote-release, phase-value parsing, and the trusted-key parser (PEM, base64, both signature forms).
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  bundleIdOf,
  canonicalJson,
  InputError,
  parsePhaseValue,
  parseTrustedKeys,
  promotion,
  verifyWithTrustedKey,
  type Release,
} from '../../src/index.js';

const ORG = 'prn:1:11111111-1111-4111-8111-111111111111';
const bin = (n: number) => `${ORG}:binary:0000000${n}-0000-4000-8000-000000000000`;

describe('bundleIdOf', () => {
  it('is a v8 UUID that depends on the binaries, their order, the metadata and the name only', () => {
    const id = bundleIdOf([bin(1), bin(2)], { a: 1, b: { c: 2 } }, 'fw@1.0.0');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(bundleIdOf([bin(1), bin(2)], { b: { c: 2 }, a: 1 }, 'fw@1.0.0')).toBe(id);
    expect(bundleIdOf([bin(2), bin(1)], { a: 1, b: { c: 2 } }, 'fw@1.0.0')).not.toBe(id);
    expect(bundleIdOf([bin(1), bin(2)], { a: 2, b: { c: 2 } }, 'fw@1.0.0')).not.toBe(id);
    expect(bundleIdOf([bin(1), bin(2)], { a: 1, b: { c: 2 } }, 'fw@1.0.1')).not.toBe(id);
    expect(bundleIdOf([bin(1)], undefined, 'x')).not.toBe(bundleIdOf([bin(1)], {}, 'x'));
  });

  it('canonical JSON sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: [2, { d: 1, c: 0 }], a: null })).toBe('{"a":null,"b":[2,{"c":0,"d":1}]}');
  });
});

describe('parsePhaseValue', () => {
  it('takes shares 0..1, percentages and whole counts from 2', () => {
    expect([
      parsePhaseValue('0'),
      parsePhaseValue('0.25'),
      parsePhaseValue('10%'),
      parsePhaseValue('1'),
      parsePhaseValue('2'),
      parsePhaseValue('500'),
    ]).toEqual([0, 0.25, 0.1, 1, 2, 500]);
  });
  it.each(['1.5', '-1', '2.5', 'abc', '', '1e10'])("refuses '%s' naming phase-value", (v) => {
    expect(() => parsePhaseValue(v)).toThrow(InputError);
    expect(() => parsePhaseValue(v)).toThrow(/Input 'phase-value'/);
  });
});

const release = (over: Partial<Release>): Release => ({
  prn: `${ORG}:release:00000000-0000-4000-8000-000000000001`,
  name: 'v1',
  bundle_prn: '',
  cohort_prn: '',
  description: null,
  disabled: false,
  required: false,
  phase_mode: 'numeric',
  phase_value: 0.1,
  phase_tags: [],
  schedule_date: '2026-01-01T00:00:00Z',
  schedule_complete: true,
  next_release_prn: null,
  version: '1.0.0',
  version_requirement: '< 1.0.0',
  inserted_at: '2026-01-01T00:00:00Z',
  ...over,
});

describe('promotion', () => {
  it('raises a share or a count, and completes either with 1', () => {
    expect(promotion(release({ phase_value: 0.1 }), { phaseValue: 0.5 })).toEqual({ phase_value: 0.5 });
    expect(promotion(release({ phase_value: 2 }), { phaseValue: 10 })).toEqual({ phase_value: 10 });
    expect(promotion(release({ phase_value: 2 }), { phaseValue: 1 })).toEqual({ phase_value: 1 });
    expect(promotion(release({ phase_value: 0.3 }), { phaseValue: 1 })).toEqual({ phase_value: 1 });
  });
  it('changes nothing when already there', () => {
    expect(promotion(release({ phase_value: 0.5 }), { phaseValue: 0.5 })).toEqual({});
    expect(promotion(release({ phase_value: 1 }), { phaseValue: 1 })).toEqual({});
  });
  it('refuses lowering, mixing a share with a count, and re-phasing a complete release', () => {
    expect(() => promotion(release({ phase_value: 0.5 }), { phaseValue: 0.2 })).toThrow(/would lower it/);
    expect(() => promotion(release({ phase_value: 5 }), { phaseValue: 3 })).toThrow(/would lower it/);
    expect(() => promotion(release({ phase_value: 0.5 }), { phaseValue: 3 })).toThrow(/cannot be compared/);
    expect(() => promotion(release({ phase_value: 1 }), { phaseValue: 0.5 })).toThrow(/is complete/);
    expect(() => promotion(release({ phase_value: 1 }), { phaseTags: ['beta'] })).toThrow(/is complete/);
  });
  it('adds tags but never drops one; enables a disabled release', () => {
    const tagged = release({ phase_mode: 'tags', phase_tags: ['beta'], phase_value: 1 });
    expect(promotion(tagged, { phaseTags: ['beta', 'lab'] })).toEqual({ phase_tags: ['beta', 'lab'] });
    expect(() => promotion(tagged, { phaseTags: ['lab'] })).toThrow(/would drop the tags beta/);
    expect(promotion(release({ disabled: true }), { enable: true })).toEqual({ disabled: false });
  });
});

describe('parseTrustedKeys', () => {
  const pair = () => generateKeyPairSync('ed25519');
  const raw = (k: ReturnType<typeof pair>) =>
    k.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const a = pair();
  const b = pair();
  const pemA = a.publicKey.export({ format: 'pem', type: 'spki' }).toString();

  it('reads PEM blocks and base64 lines with comments, once per key', () => {
    const text = `# release key\n${pemA}\n${raw(b).toString('base64')}\n\n${raw(a).toString('base64')}\n`;
    const keys = parseTrustedKeys(text);
    expect(keys.map((k) => k.keyid)).toEqual([
      createHash('sha256').update(raw(a)).digest('hex'),
      createHash('sha256').update(raw(b)).digest('hex'),
    ]);
  });

  it('names the input and the key number for a bad key, and refuses an empty list and a private key', () => {
    expect(() => parseTrustedKeys(`${pemA}\nAAAA`)).toThrow(/Input 'trusted-signing-keys': key 2 /);
    expect(() => parseTrustedKeys('# nothing\n')).toThrow(/holds no key/);
    const priv = a.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(() => parseTrustedKeys(priv)).toThrow(/PRIVATE key/);
    expect(() => parseTrustedKeys('-----BEGIN PUBLIC KEY-----\nabc')).toThrow(/no END line/);
  });

  it('verifies a signature over the hex hash and one over the raw digest, with that key only', () => {
    const hash = createHash('sha256').update('firmware').digest('hex');
    const [ka, kb] = parseTrustedKeys(`${pemA}\n${raw(b).toString('base64')}`);
    const overHex = sign(null, Buffer.from(hash), a.privateKey).toString('hex');
    const overRaw = sign(null, Buffer.from(hash, 'hex'), a.privateKey).toString('hex');
    expect(verifyWithTrustedKey(hash, overHex, ka!)).toBe(true);
    expect(verifyWithTrustedKey(hash, overRaw, ka!)).toBe(true);
    expect(verifyWithTrustedKey(hash, overHex, kb!)).toBe(false);
  });
});
