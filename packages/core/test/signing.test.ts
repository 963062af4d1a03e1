/**
 * Key parsing, verification and local/command signers of every accepted type. Signatures made here by
 * node:crypto's sign('sha256', content) are the bytes `openssl dgst -sha256 -sign` writes.
 */
import { constants, createHash, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  commandSigner,
  decodeSignature,
  InputError,
  parseSigningPublicKey,
  privateKeySigner,
  proveSigner,
  verifySignature,
} from '../src/index.js';

const content = Buffer.from('firmware image');
const hash = createHash('sha256').update(content).digest('hex');
const pem = (k: { export(o: object): string | Buffer }) =>
  k.export({ format: 'pem', type: 'spki' }).toString();
const privPem = (k: { export(o: object): string | Buffer }) =>
  k.export({ format: 'pem', type: 'pkcs8' }).toString();

describe('verifySignature', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsaKey = parseSigningPublicKey(pem(rsa.publicKey));
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ecKey = parseSigningPublicKey(pem(ec.publicKey));

  it('accepts RSA PKCS#1 v1.5 and PSS over the content digest, and refuses them over other content', () => {
    expect(verifySignature(hash, sign('sha256', content, rsa.privateKey), rsaKey)).toBe(true);
    for (const saltLength of [0, 32, 222]) {
      const pss = sign('sha256', content, {
        key: rsa.privateKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength,
      });
      expect(verifySignature(hash, pss, rsaKey)).toBe(true);
    }
    expect(verifySignature(hash, sign('sha256', Buffer.from('other'), rsa.privateKey), rsaKey)).toBe(false);
    expect(verifySignature(hash, Buffer.alloc(256, 0xff), rsaKey)).toBe(false);
  });

  it('accepts ECDSA P-256 in DER and r‖s form, and refuses a flipped bit', () => {
    const der = sign('sha256', content, ec.privateKey);
    expect(verifySignature(hash, der, ecKey)).toBe(true);
    const rs = sign('sha256', content, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
    expect(verifySignature(hash, rs, ecKey)).toBe(true);
    rs[10]! ^= 1;
    expect(verifySignature(hash, rs, ecKey)).toBe(false);
  });

  it('decodes hex and base64 signatures', () => {
    expect(decodeSignature('0aFF')).toEqual(Buffer.from([10, 255]));
    expect(decodeSignature(Buffer.from('hello!').toString('base64'))?.toString()).toBe('hello!');
    expect(decodeSignature('not a signature!')).toBeUndefined();
  });
});

describe('parseSigningPublicKey', () => {
  it('gives non-Ed25519 keys the SHA-256 of their DER SPKI as keyid, and Ed25519 keys the raw-key rule', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const spki = rsa.publicKey.export({ format: 'der', type: 'spki' });
    expect(parseSigningPublicKey(pem(rsa.publicKey)).keyid).toBe(
      createHash('sha256').update(spki).digest('hex'),
    );
    const ed = generateKeyPairSync('ed25519');
    const raw = ed.publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
    const key = parseSigningPublicKey(pem(ed.publicKey));
    expect(key.keyid).toBe(createHash('sha256').update(raw).digest('hex'));
    expect(key.value).toBe(raw.toString('base64'));
  });

  it('refuses RSA under 2048 bits, P-384 and small-order Ed25519 keys, naming the input', () => {
    const r1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => parseSigningPublicKey(pem(r1024.publicKey), 'signing-public-key')).toThrow(
      /Input 'signing-public-key': is an RSA key of 1024 bits/,
    );
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    expect(() => parseSigningPublicKey(pem(p384.publicKey))).toThrow(/P-384/);
    expect(() => parseSigningPublicKey('AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=')).toThrow(
      /small-order/,
    );
  });
});

describe('signers', () => {
  it('an RSA and an ECDSA private key sign so that openssl-style verification holds', async () => {
    for (const pair of [
      generateKeyPairSync('rsa', { modulusLength: 2048 }),
      generateKeyPairSync('ec', { namedCurve: 'prime256v1' }),
    ]) {
      const signer = privateKeySigner(privPem(pair.privateKey));
      await proveSigner(signer);
      const signature = Buffer.from(await signer.signHash(hash), 'hex');
      expect(verifySignature(hash, signature, parseSigningPublicKey(pem(pair.publicKey)))).toBe(true);
    }
  });

  it('a command whose signatures do not match its public key fails the proof, naming signing-command', async () => {
    const ed = generateKeyPairSync('ed25519');
    const signer = commandSigner({ command: `echo ${'00'.repeat(64)}`, publicKey: pem(ed.publicKey) });
    const err = await proveSigner(signer).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).input).toBe('signing-command');
  });
});
