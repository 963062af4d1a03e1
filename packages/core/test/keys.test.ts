import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as ed from '@noble/ed25519';
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { hashFile } from '../src/hash.js';
import {
  keyIdOf,
  parsePrivateKey,
  parsePublicKey,
  publicKeyValue,
  signHash,
  verifyHashSignature,
} from '../src/keys.js';
import { planParts } from '../src/parts.js';
import { redactSecrets } from '../src/redact.js';

const FIXTURES = new URL('../../../test/fixtures/peridio-docs/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');
const signedBinary = JSON.parse(fixture('binary-signed-200.json')).binary;
const signingKey = JSON.parse(fixture('signing-key-create-201.json')).signing_key;
const GOLDEN_HASH = '403ccc806332775b59558608031ce2656bfee95b32229bdd9aed5aab433af55b';
const GOLDEN_SIGNATURE: string = signedBinary.signatures[0].signature;
const GOLDEN_KEY: string = signingKey.value;

/** Changes one hex digit, keeping the case of the original. */
function flipHexDigit(hex: string, position: number): string {
  const c = hex[position] as string;
  const next = ((parseInt(c, 16) + 1) % 16).toString(16);
  const replaced = c === c.toUpperCase() ? next.toUpperCase() : next;
  return hex.slice(0, position) + replaced + hex.slice(position + 1);
}

function ed25519Pem(): { pem: string; seed: Buffer; publicRaw: Buffer; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(16);
  const publicRaw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
  const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  return { pem, seed, publicRaw, publicPem };
}

describe('the real Peridio signature vector (getting-started guide)', () => {
  it('hashes hello-binary.fw to the published hash', async () => {
    const path = new URL('hello-binary.fw', FIXTURES).pathname;
    const digest = await hashFile(path, planParts(14));
    expect(digest.sha256Hex).toBe(GOLDEN_HASH);
    expect(signedBinary.hash).toBe(GOLDEN_HASH);
    expect(digest.parts[0]?.sha256Base64).toBe('QDzMgGMyd1tZVYYIAxziZWv+6VsyIpvdmu1aq0M69Vs=');
  });

  it('verifies with the registered key value', () => {
    expect(verifyHashSignature(GOLDEN_HASH, GOLDEN_SIGNATURE, GOLDEN_KEY)).toBe(true);
    expect(verifyHashSignature(GOLDEN_HASH, GOLDEN_SIGNATURE.toLowerCase(), GOLDEN_KEY)).toBe(true);
  });

  it('verifies with the key as SPKI PEM', () => {
    const pem =
      '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEADIU8Zhf20Gr4n6vzDxCG2eupglynQ1Q6j19UKA4Mf88=\n-----END PUBLIC KEY-----\n';
    expect(Buffer.from(parsePublicKey(pem)).toString('base64')).toBe(GOLDEN_KEY);
    expect(verifyHashSignature(GOLDEN_HASH, GOLDEN_SIGNATURE, pem)).toBe(true);
  });

  it.each([0, 1, 17, 31, 32, 63])('fails when hash hex digit %i changes', (position) => {
    expect(verifyHashSignature(flipHexDigit(GOLDEN_HASH, position), GOLDEN_SIGNATURE, GOLDEN_KEY)).toBe(
      false,
    );
  });

  it.each([0, 5, 63, 64, 100, 127])('fails when signature hex digit %i changes', (position) => {
    expect(verifyHashSignature(GOLDEN_HASH, flipHexDigit(GOLDEN_SIGNATURE, position), GOLDEN_KEY)).toBe(
      false,
    );
  });

  it('is not a signature over the raw 32-byte digest, nor over the uppercase hex', () => {
    const raw = parsePublicKey(GOLDEN_KEY);
    // Prove the message is the hex text: a raw-digest-only verifier must reject the vector.
    const signature = Buffer.from(GOLDEN_SIGNATURE, 'hex');
    expect(ed.verify(signature, Buffer.from(GOLDEN_HASH, 'hex'), raw)).toBe(false);
    expect(ed.verify(signature, new TextEncoder().encode(GOLDEN_HASH.toUpperCase()), raw)).toBe(false);
    expect(ed.verify(signature, new TextEncoder().encode(GOLDEN_HASH), raw)).toBe(true);
  });

  it('returns false, not an exception, for malformed hex', () => {
    expect(verifyHashSignature(GOLDEN_HASH, 'zz' + GOLDEN_SIGNATURE.slice(2), GOLDEN_KEY)).toBe(false);
    expect(verifyHashSignature(GOLDEN_HASH, GOLDEN_SIGNATURE.slice(2), GOLDEN_KEY)).toBe(false);
    expect(verifyHashSignature('403ccc', GOLDEN_SIGNATURE, GOLDEN_KEY)).toBe(false);
    expect(verifyHashSignature(GOLDEN_HASH, '', GOLDEN_KEY)).toBe(false);
  });
});

describe('raw-digest signatures', () => {
  it('verify only with allowRawDigest', () => {
    const { pem } = ed25519Pem();
    const key = parsePrivateKey(pem);
    const rawSignature = Buffer.from(key.sign(Buffer.from(GOLDEN_HASH, 'hex')))
      .toString('hex')
      .toUpperCase();
    expect(verifyHashSignature(GOLDEN_HASH, rawSignature, key.publicKey)).toBe(false);
    expect(verifyHashSignature(GOLDEN_HASH, rawSignature, key.publicKey, { allowRawDigest: true })).toBe(
      true,
    );
    // The CLI form still verifies with the fallback enabled.
    expect(
      verifyHashSignature(GOLDEN_HASH, signHash(GOLDEN_HASH, key), key.publicKey, { allowRawDigest: true }),
    ).toBe(true);
  });
});

describe('parsePrivateKey accepts every documented form and round-trips', () => {
  const { pem, seed, publicRaw, publicPem } = ed25519Pem();
  const forms: [string, string][] = [
    ['PKCS#8 PEM', pem],
    ['PKCS#8 PEM with CRLF and surrounding blank lines', `\n\n${pem.replace(/\n/g, '\r\n')}\n`],
    ['base64 of the PEM', Buffer.from(pem).toString('base64')],
    ['seed in lowercase hex', seed.toString('hex')],
    ['seed in uppercase hex', seed.toString('hex').toUpperCase()],
    ['seed in base64', seed.toString('base64')],
    ['seed in base64url', seed.toString('base64url')],
    [
      'PKCS#8 DER in base64',
      Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]).toString('base64'),
    ],
  ];

  it.each(forms)('%s', (_name, input) => {
    const key = parsePrivateKey(input);
    expect(Buffer.from(key.publicKey)).toEqual(publicRaw);
    expect(key.publicValue).toBe(publicRaw.toString('base64'));
    expect(key.keyid).toMatch(/^[0-9a-f]{64}$/);
    expect(key.keyid).toBe(keyIdOf(publicRaw));
    const signature = signHash(GOLDEN_HASH, key);
    expect(signature).toMatch(/^[0-9A-F]{128}$/);
    expect(verifyHashSignature(GOLDEN_HASH, signature, publicRaw.toString('base64'))).toBe(true);
    expect(verifyHashSignature(GOLDEN_HASH, signature, publicPem)).toBe(true);
    expect(verifyHashSignature(flipHexDigit(GOLDEN_HASH, 10), signature, key.publicKey)).toBe(false);
  });

  it('signs the lowercase hex even when given uppercase', () => {
    const key = parsePrivateKey(pem);
    expect(signHash(GOLDEN_HASH.toUpperCase(), key)).toBe(signHash(GOLDEN_HASH, key));
  });

  it('signatures match node:crypto Ed25519 over the ASCII hex', async () => {
    const { createPrivateKey, sign } = await import('node:crypto');
    const expected = sign(null, Buffer.from(GOLDEN_HASH), createPrivateKey(pem))
      .toString('hex')
      .toUpperCase();
    expect(signHash(GOLDEN_HASH, parsePrivateKey(pem))).toBe(expected);
  });

  it('secretForms cover the input, the seed and the PEM', () => {
    const key = parsePrivateKey(Buffer.from(pem).toString('base64'));
    const secrets = key.secretForms();
    expect(secrets).toContain(Buffer.from(pem).toString('base64'));
    expect(secrets).toContain(seed.toString('hex'));
    expect(secrets).toContain(seed.toString('base64'));
    expect(secrets).toContain(pem);
    expect(JSON.stringify(key)).not.toContain(seed.toString('hex'));
    expect(JSON.stringify(key)).not.toContain(seed.toString('base64'));
  });

  it('secretForms let redactSecrets mask the key in any form it may be echoed in', () => {
    const key = parsePrivateKey(seed.toString('base64'));
    const pemBody = pem.split('\n')[1] as string;
    const log = [
      pem,
      `seed=${seed.toString('hex')}`,
      `b64=${Buffer.from(pem).toString('base64')}`,
      pemBody,
    ].join('\n');
    const masked = redactSecrets(log, key.secretForms());
    for (const leaked of [
      pemBody,
      seed.toString('hex'),
      seed.toString('base64'),
      Buffer.from(pem).toString('base64'),
    ]) {
      expect(masked).not.toContain(leaked);
    }
  });

  it('publicKeyValue and keyIdOf match the wire forms', () => {
    expect(publicKeyValue(parsePublicKey(GOLDEN_KEY))).toBe(GOLDEN_KEY);
    const independent = createHash('sha256').update(Buffer.from(GOLDEN_KEY, 'base64')).digest('hex');
    expect(keyIdOf(parsePublicKey(GOLDEN_KEY))).toBe(independent);
  });
});

/** Asserts the refusal names the input and the found algorithm, and carries no key material. */
function expectRefusal(fn: () => unknown, input: string, mentions: RegExp, material: string[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InputError);
  const err = caught as InputError;
  expect(err.input).toBe(input);
  expect(err.message).toContain(`'${input}'`);
  expect(err.message).toMatch(mentions);
  for (const m of material) {
    for (const line of m.split('\n').filter((l) => l.length > 8 && !l.startsWith('-----'))) {
      expect(err.message).not.toContain(line);
    }
  }
}

describe('non-Ed25519 and malformed keys are refused by name, without key material', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsaPkcs8 = rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const rsaPkcs1 = rsa.privateKey.export({ format: 'pem', type: 'pkcs1' }).toString();
  const ecPkcs8 = ec.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const ecSec1 = ec.privateKey.export({ format: 'pem', type: 'sec1' }).toString();
  const rsaDer = rsa.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
  const ecDer = ec.privateKey.export({ format: 'der', type: 'sec1' }).toString('base64');

  it.each([
    ['RSA PKCS#8 PEM', rsaPkcs8, /an RSA key.*Peridio needs Ed25519/],
    ['RSA PKCS#1 PEM', rsaPkcs1, /an RSA key/],
    ['RSA PEM as base64', Buffer.from(rsaPkcs8).toString('base64'), /an RSA key/],
    ['RSA PKCS#8 DER as base64', rsaDer, /an RSA key/],
    ['EC P-256 PKCS#8 PEM', ecPkcs8, /an EC \(P-256\) key.*Peridio needs Ed25519/],
    ['EC P-256 SEC1 PEM', ecSec1, /an EC \(P-256\) key/],
    ['EC P-256 SEC1 DER as base64', ecDer, /an EC \(P-256\) key/],
  ])('%s', (_name, input, mentions) => {
    expectRefusal(() => parsePrivateKey(input, 'signing-key-private'), 'signing-key-private', mentions, [
      input,
    ]);
  });

  it('refuses RSA and EC public keys by name', () => {
    const rsaPub = rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const ecPub = ec.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expectRefusal(() => parsePublicKey(rsaPub, 'signing-key-public'), 'signing-key-public', /an RSA key/, [
      rsaPub,
    ]);
    expectRefusal(() => parsePublicKey(ecPub), 'value', /an EC \(P-256\) key/, [ecPub]);
  });

  it.each([
    ['empty', '   ', /is empty/],
    ['a public key', ed25519Pem().publicPem, /public key, not a private key/],
    ['31 bytes of base64', Buffer.alloc(31, 7).toString('base64'), /31 bytes/],
    ['garbage', 'not a key at all!', /not a PEM, base64 or hex/],
    ['a truncated PEM', ed25519Pem().pem.slice(0, 60) + '\n-----END PRIVATE KEY-----', /cannot be parsed/],
  ])('refuses %s', (_name, input, mentions) => {
    expectRefusal(() => parsePrivateKey(input, 'key'), 'key', mentions, [input]);
  });

  it('refuses a private key given as a public key without echoing it', () => {
    const { pem } = ed25519Pem();
    expectRefusal(() => parsePublicKey(pem), 'value', /PRIVATE key/, [pem]);
  });

  it('refuses public values of the wrong length or not on the curve', () => {
    expectRefusal(() => parsePublicKey(Buffer.alloc(33).toString('base64')), 'value', /33 bytes/, []);
    // y = 2 has no matching x on the curve.
    expectRefusal(
      () => parsePublicKey('AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='),
      'value',
      /not a curve point/,
      [],
    );
    expect(() => parsePublicKey('')).toThrow(InputError);
  });
});
