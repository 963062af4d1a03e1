import { createHash, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectSpec,
  HELLO,
  newKeyPair,
  signableBinary,
  startTestRegistry,
  type TestRegistry,
} from './support.js';

describe('signing keys', () => {
  let t: TestRegistry;
  beforeAll(async () => {
    t = await startTestRegistry();
  });
  afterAll(() => t.close());

  it('stores a PEM value as raw base64 with its keyid, and refuses the same key twice', async () => {
    const res = await t.api('POST', '/signing_keys', { name: 'pem key', value: HELLO.keyPem });
    expect(res.status).toBe(201);
    expectSpec('/signing_keys', 'post', 201, res.body);
    expect(res.body.signing_key).toMatchObject({
      name: 'pem key',
      value: HELLO.keyValue,
      keyid: HELLO.keyid,
    });
    const dup = await t.api('POST', '/signing_keys', { name: 'again', value: HELLO.keyValue });
    expect(dup.status).toBe(422);
    expect(dup.body.errors.value).toEqual(['has already been taken']);
  });

  it('refuses values that are not Ed25519 public keys, and blank names', async () => {
    for (const value of ['not a key', Buffer.alloc(31).toString('base64'), '']) {
      const res = await t.api('POST', '/signing_keys', { name: 'bad', value });
      expect(res.status).toBe(422);
      expect(res.body.errors.value).toEqual([
        value === ''
          ? "can't be blank"
          : `is not an Ed25519 public key: expected base64 of 32 bytes or an SPKI PEM, got ${Buffer.from(value, 'base64').length} bytes`,
      ]);
    }
    expect((await t.api('POST', '/signing_keys', { value: newKeyPair().value })).body.errors.name).toEqual([
      "can't be blank",
    ]);
  });

  it('gets, lists, searches, renames, re-keys and deletes', async () => {
    const pair = newKeyPair();
    const created = (await t.api('POST', '/signing_keys', { name: 'crud', value: pair.value })).body
      .signing_key;
    const got = await t.api('GET', `/signing_keys/${created.prn}`);
    expectSpec('/signing_keys/{signing_key_prn}', 'get', 200, got.body);
    const list = await t.api('GET', `/signing_keys?search=${encodeURIComponent(`name:'crud'`)}`);
    expectSpec('/signing_keys', 'get', 200, list.body);
    expect(list.body.signing_keys.map((k: { prn: string }) => k.prn)).toEqual([created.prn]);
    const other = newKeyPair();
    const renamed = await t.api('PATCH', `/signing_keys/${created.prn}`, {
      prn: created.prn,
      name: 'renamed',
      value: other.value,
    });
    expectSpec('/signing_keys/{signing_key_prn}', 'patch', 200, renamed.body);
    expect(renamed.body.signing_key).toMatchObject({ name: 'renamed', value: other.value });
    expect(renamed.body.signing_key.keyid).not.toBe(created.keyid);
    expect((await t.api('DELETE', `/signing_keys/${created.prn}`)).status).toBe(204);
    expect((await t.api('GET', `/signing_keys/${created.prn}`)).status).toBe(404);
  });
});

describe('binary signatures', () => {
  let t: TestRegistry;
  let helloKey: string;
  beforeAll(async () => {
    t = await startTestRegistry();
    helloKey = (await t.api('POST', '/signing_keys', { name: 'demo key', value: HELLO.keyValue })).body
      .signing_key.prn;
  });
  afterAll(() => t.close());

  it('accepts the real vector, by signing_key_prn, lowercase or uppercase', async () => {
    const binary = await signableBinary(t, HELLO.content, 'lowercase');
    const res = await t.api('POST', '/binary_signatures', {
      binary_prn: binary.prn,
      signing_key_prn: helloKey,
      signature: HELLO.signature.toLowerCase(),
    });
    expect(res.status).toBe(201);
    expect(res.body.binary_signature.signature).toBe(HELLO.signature.toLowerCase());
    expect((await t.api('GET', `/binaries/${binary.prn}`)).body.binary.state).toBe('signed');
  });

  it('accepts a signature over the raw 32-byte digest, found by keyid (full or sha256-<16 hex>)', async () => {
    const pair = newKeyPair();
    const key = (await t.api('POST', '/signing_keys', { name: 'raw', value: pair.value })).body.signing_key;
    for (const [target, keyid] of [
      ['raw-full', key.keyid],
      ['raw-short', `sha256-${key.keyid.slice(0, 16)}`],
    ]) {
      const content = Buffer.from(`raw digest ${target}`);
      const binary = await signableBinary(t, content, target);
      const rawSig = sign(null, createHash('sha256').update(content).digest(), pair.privateKey).toString(
        'hex',
      );
      const res = await t.api('POST', '/binary_signatures', {
        binary_prn: binary.prn,
        signing_key_keyid: keyid,
        signature: rawSig,
      });
      expect(res.status).toBe(201);
      expect(res.body.binary_signature).toMatchObject({ signing_key_prn: key.prn, keyid: key.keyid });
    }
  });

  it('refuses an invalid signature with 422 "Invalid signature" and leaves the binary signable', async () => {
    const binary = await signableBinary(t, Buffer.from('not signed by that key'), 'invalid');
    const res = await t.api('POST', '/binary_signatures', {
      binary_prn: binary.prn,
      signing_key_prn: helloKey,
      signature: HELLO.signature,
    });
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body)).toContain('Invalid signature');
    expect((await t.api('GET', `/binaries/${binary.prn}`)).body.binary.state).toBe('signable');
    const malformed = await t.api('POST', '/binary_signatures', {
      binary_prn: binary.prn,
      signing_key_prn: helloKey,
      signature: 'abc',
    });
    expect(malformed.status).toBe(422);
    expect(malformed.body.errors.signature).toEqual([
      'is invalid: must be the signature in hex (Ed25519: 128 characters) or base64 (e.g. of `openssl dgst -sha256 -sign` output)',
    ]);
    const noKey = await t.api('POST', '/binary_signatures', {
      binary_prn: binary.prn,
      signature: HELLO.signature,
    });
    expect(noKey.body.errors.signing_key_prn[0]).toContain('signing_key_keyid');
    const unknownKeyid = await t.api('POST', '/binary_signatures', {
      binary_prn: binary.prn,
      signing_key_keyid: 'ab'.repeat(32),
      signature: HELLO.signature,
    });
    expect(unknownKeyid.status).toBe(422);
  });

  it('refuses to sign a binary that is not signable yet', async () => {
    const pair = newKeyPair();
    const key = (await t.api('POST', '/signing_keys', { name: 'early', value: pair.value })).body.signing_key;
    const artifact = (await t.api('POST', '/artifacts', { name: 'early' })).body.artifact;
    const av = (await t.api('POST', '/artifact_versions', { artifact_prn: artifact.prn, version: '1' })).body
      .artifact_version;
    const binary = (
      await t.api('POST', '/binaries', {
        artifact_version_prn: av.prn,
        hash: HELLO.hash,
        size: 14,
        target: 'x',
      })
    ).body.binary;
    const res = await t.api('POST', '/binary_signatures', {
      binary_prn: binary.prn,
      signing_key_prn: key.prn,
      signature: pair.sign(HELLO.hash),
    });
    expect(res.status).toBe(422);
    expect(res.body.errors.binary[0]).toContain('uploadable');
  });

  it('signing again with the same key returns the existing signature (200); another key adds one (201)', async () => {
    const binary = await signableBinary(t, Buffer.from('two keys'), 'two-keys');
    const a = newKeyPair();
    const b = newKeyPair();
    const keyA = (await t.api('POST', '/signing_keys', { name: 'a', value: a.value })).body.signing_key.prn;
    const keyB = (await t.api('POST', '/signing_keys', { name: 'b', value: b.value })).body.signing_key.prn;
    const first = await t.api('POST', '/binary_signatures', {
      binary_prn: binary.prn,
      signing_key_prn: keyA,
      signature: a.sign(binary.hash),
    });
    expect(first.status).toBe(201);
    const again = await t.api('POST', '/binary_signatures', {
      binary_prn: binary.prn,
      signing_key_prn: keyA,
      signature: a.sign(binary.hash),
    });
    expect(again.status).toBe(200);
    expect(again.body.binary_signature.prn).toBe(first.body.binary_signature.prn);
    const second = await t.api('POST', '/binary_signatures', {
      binary_prn: binary.prn,
      signing_key_keyid: (await t.api('GET', `/signing_keys/${keyB}`)).body.signing_key.keyid,
      signature: b.sign(binary.hash),
    });
    expect(second.status).toBe(201);
    expect((await t.api('GET', `/binaries/${binary.prn}`)).body.binary.signatures).toHaveLength(2);

    const search = `binary_prn:'${binary.prn}' and signature.signing_key.keyid:'${first.body.binary_signature.keyid}'`;
    const found = await t.api('GET', `/binary_signatures?search=${encodeURIComponent(search)}`);
    expectSpec('/binary_signatures', 'get', 200, found.body);
    expect(found.body.binary_signatures.map((s: { prn: string }) => s.prn)).toEqual([
      first.body.binary_signature.prn,
    ]);

    // Rotation: a key whose binaries all carry another signature can be retired, its signatures with it;
    // the last signature of a signed binary cannot be deleted, nor its key, which names the binary.
    expect((await t.api('DELETE', `/signing_keys/${keyA}`)).status).toBe(204);
    const last = await t.api('DELETE', `/binary_signatures/${second.body.binary_signature.prn}`);
    expect(last.status).toBe(422);
    expect(last.body.errors.binary_signature[0]).toContain('only signature');
    const sole = await t.api('DELETE', `/signing_keys/${keyB}`);
    expect(sole.status).toBe(422);
    expect(sole.body.errors.signing_key[0]).toContain(`only signer of signed binaries ${binary.prn}`);
    expect((await t.api('DELETE', `/binary_signatures/${first.body.binary_signature.prn}`)).status).toBe(404);
  });
});
