/**
 * Key types beyond Ed25519 (documented extension), certificates, and the Ed25519 small-order fix.
 * Signatures are made by node:crypto's sign('sha256', content), which is what `openssl dgst -sha256 -sign`
 * writes; certificates by the openssl CLI, as an operator would.
 */
import { execFileSync } from 'node:child_process';
import { constants, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSpec, signableBinary, startTestRegistry, type TestRegistry } from './support.js';

const SMALL_ORDER = 'AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
const FORGED = '01' + '0'.repeat(126);

function pemPublic(key: ReturnType<typeof generateKeyPairSync>['publicKey']): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

describe('signing key types', () => {
  let t: TestRegistry;
  beforeAll(async () => {
    t = await startTestRegistry();
  });
  afterAll(() => t.close());

  it('refuses the small-order Ed25519 key AQAA…A= and a non-canonical encoding', async () => {
    const res = await t.api('POST', '/signing_keys', { name: 'identity', value: SMALL_ORDER });
    expect(res.status).toBe(422);
    expect(res.body.errors.value[0]).toContain('small-order');
    // y = p (≡ 0) is the non-canonical twin of a valid point; p = 2^255 - 19, little-endian.
    const p = Buffer.alloc(32, 0xff);
    p[0] = 0xed;
    p[31] = 0x7f;
    const noncanonical = await t.api('POST', '/signing_keys', { name: 'nc', value: p.toString('base64') });
    expect(noncanonical.status).toBe(422);
  });

  it('registers RSA ≥ 2048 and P-256 PEM keys with the SPKI keyid, and refuses RSA 1024 and P-384', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const res = await t.api('POST', '/signing_keys', { name: 'rsa', value: pemPublic(rsa.publicKey) });
    expect(res.status).toBe(201);
    // Documented deviation of this extension: Peridio's schema caps `value` at 256 characters (an Ed25519
    // key), which no RSA PEM fits; everything else of the record is checked against the spec.
    expect(res.body.signing_key.value.length).toBeGreaterThan(256);
    expectSpec('/signing_keys', 'post', 201, { signing_key: { ...res.body.signing_key, value: 'x' } });
    const spki = rsa.publicKey.export({ type: 'spki', format: 'der' });
    const { createHash } = await import('node:crypto');
    expect(res.body.signing_key.keyid).toBe(createHash('sha256').update(spki).digest('hex'));

    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const r1024 = await t.api('POST', '/signing_keys', { name: 'r1024', value: pemPublic(small.publicKey) });
    expect(r1024.status).toBe(422);
    expect(r1024.body.errors.value[0]).toContain('1024 bits');

    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const r384 = await t.api('POST', '/signing_keys', { name: 'p384', value: pemPublic(p384.publicKey) });
    expect(r384.status).toBe(422);
    expect(r384.body.errors.value[0]).toContain('P-384');
  });

  it('accepts openssl-style RSA PKCS#1 v1.5 (base64), RSA-PSS and ECDSA (DER hex) signatures over the content', async () => {
    const content = Buffer.from('firmware for rsa and ecdsa');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 3072 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const rsaPrn = (await t.api('POST', '/signing_keys', { name: 'r', value: pemPublic(rsa.publicKey) })).body
      .signing_key.prn;
    const ecPrn = (await t.api('POST', '/signing_keys', { name: 'e', value: pemPublic(ec.publicKey) })).body
      .signing_key.prn;

    const b1 = await signableBinary(t, content, 'rsa-pkcs1');
    const v15 = sign('sha256', content, rsa.privateKey).toString('base64');
    const ok = await t.api('POST', '/binary_signatures', {
      binary_prn: b1.prn,
      signing_key_prn: rsaPrn,
      signature: v15,
    });
    expect(ok.status).toBe(201);
    // Likewise `signature` (capped at 128 hex characters, an Ed25519 signature): RSA-3072 needs 768.
    expect(ok.body.binary_signature.signature).toHaveLength(768);
    expectSpec('/binary_signatures', 'post', 201, {
      binary_signature: { ...ok.body.binary_signature, signature: 'AB'.repeat(64) },
    });

    const b2 = await signableBinary(t, content, 'rsa-pss');
    const pss = sign('sha256', content, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING });
    const okPss = await t.api('POST', '/binary_signatures', {
      binary_prn: b2.prn,
      signing_key_prn: rsaPrn,
      signature: pss.toString('hex'),
    });
    expect(okPss.status).toBe(201);

    const b3 = await signableBinary(t, content, 'ecdsa');
    const der = sign('sha256', content, ec.privateKey).toString('hex');
    const okEc = await t.api('POST', '/binary_signatures', {
      binary_prn: b3.prn,
      signing_key_prn: ecPrn,
      signature: der,
    });
    expect(okEc.status).toBe(201);

    const other = sign('sha256', Buffer.from('other content'), rsa.privateKey).toString('base64');
    const b4 = await signableBinary(t, content, 'rsa-bad');
    const bad = await t.api('POST', '/binary_signatures', {
      binary_prn: b4.prn,
      signing_key_prn: rsaPrn,
      signature: other,
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.signature[0]).toContain('openssl dgst -sha256 -sign');
  });
});

describe('certificates as signing keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sig-certs-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  let t: TestRegistry;
  beforeAll(async () => {
    ssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-subj',
      '/CN=trusted-ca',
      '-days',
      '30',
    );
    ssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'rogue.key',
      '-out',
      'rogue.pem',
      '-subj',
      '/CN=rogue-ca',
      '-days',
      '30',
    );
    ssl('genpkey', '-algorithm', 'rsa', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'leaf.key');
    ssl('req', '-new', '-key', 'leaf.key', '-subj', '/CN=leaf', '-out', 'leaf.csr');
    ssl(
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-days',
      '10',
      '-out',
      'good.pem',
    );
    ssl(
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-days',
      '-1',
      '-out',
      'expired.pem',
    );
    ssl(
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'rogue.pem',
      '-CAkey',
      'rogue.key',
      '-days',
      '10',
      '-out',
      'rogue-leaf.pem',
    );
    const { parseCertificates } = await import('@peridio-actions/core');
    t = await startTestRegistry({ signingCas: parseCertificates(readFileSync(join(dir, 'ca.pem'), 'utf8')) });
  });
  afterAll(() => t?.close());
  const pem = (name: string) => readFileSync(join(dir, name), 'utf8');

  it('registers a certificate issued by a trusted CA, and a signature by its key verifies', async () => {
    const res = await t.api('POST', '/signing_keys', { name: 'cert', value: pem('good.pem') });
    expect(res.status).toBe(201);
    expect(res.body.signing_key.value).toContain('BEGIN CERTIFICATE');
    const content = Buffer.from('signed by a certified key');
    writeFileSync(join(dir, 'fw.bin'), content);
    ssl('dgst', '-sha256', '-sign', 'leaf.key', '-out', 'fw.sig', 'fw.bin');
    const binary = await signableBinary(t, content, 'cert');
    const signed = await t.api('POST', '/binary_signatures', {
      binary_prn: binary.prn,
      signing_key_prn: res.body.signing_key.prn,
      signature: readFileSync(join(dir, 'fw.sig')).toString('base64'),
    });
    expect(signed.status).toBe(201);
  });

  it('refuses an expired certificate with its notAfter date and one of another CA; a bare key stays accepted', async () => {
    const expired = await t.api('POST', '/signing_keys', { name: 'old', value: pem('expired.pem') });
    expect(expired.status).toBe(422);
    expect(expired.body.errors.value[0]).toMatch(/expired on \d{4}-\d\d-\d\dT.*\(notAfter\)/);
    const rogue = await t.api('POST', '/signing_keys', { name: 'rogue', value: pem('rogue-leaf.pem') });
    expect(rogue.status).toBe(422);
    expect(rogue.body.errors.value[0]).toContain('not issued by a trusted CA');
    const bare = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const res = await t.api('POST', '/signing_keys', { name: 'bare', value: pemPublic(bare.publicKey) });
    expect(res.status).toBe(201);
  });
});

describe('core verify (used by the registry and device checks)', () => {
  it('does not accept the forged 01 00… signature with the small-order key', async () => {
    const { verifyHashSignature } = await import('@peridio-actions/core');
    const hash = 'ab'.repeat(32);
    const raw = Buffer.from(SMALL_ORDER, 'base64');
    expect(verifyHashSignature(hash, FORGED, raw)).toBe(false);
    expect(verifyHashSignature(hash, FORGED, raw, { allowRawDigest: true })).toBe(false);
  });
});
