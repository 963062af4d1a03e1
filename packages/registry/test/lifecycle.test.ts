import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBinary,
  expectSpec,
  HELLO,
  newKeyPair,
  sha256,
  signableBinary,
  startTestRegistry,
  uploadParts,
  waitForState,
  type TestRegistry,
} from './support.js';

const STATES = ['uploadable', 'hashable', 'hashing', 'signable', 'signed', 'destroyed'] as const;
type State = (typeof STATES)[number];

describe('binary lifecycle (the state machine the actions rely on)', () => {
  let t: TestRegistry;
  let key: { prn: string; pair: ReturnType<typeof newKeyPair> };
  let counter = 0;
  const content = () => Buffer.from(`content ${++counter}\n`);

  beforeAll(async () => {
    // A hashing delay keeps binaries in `hashing` long enough to test transitions out of it.
    t = await startTestRegistry({ hashingDelayMs: 150 });
    const pair = newKeyPair();
    const created = await t.api('POST', '/signing_keys', { name: 'lifecycle', value: pair.value });
    key = { prn: created.body.signing_key.prn, pair };
  });
  afterAll(() => t.close());

  const patch = (prn: string, body: Record<string, unknown>) =>
    t.api('PATCH', `/binaries/${prn}`, { prn, ...body });

  /** A binary brought to `state` the legal way. */
  async function binaryIn(state: State): Promise<{ prn: string; hash: string }> {
    const bytes = content();
    const binary = await createBinary(t, bytes, `target-${counter}`);
    if (state === 'uploadable') return binary;
    await uploadParts(t, binary.prn, bytes);
    await patch(binary.prn, { state: 'hashable' });
    if (state === 'hashable') return binary;
    await patch(binary.prn, { state: 'hashing' });
    if (state === 'hashing') return binary;
    await waitForState(t, binary.prn, ['signable']);
    if (state === 'signable') return binary;
    const sig = await t.api('POST', '/binary_signatures', {
      binary_prn: binary.prn,
      signing_key_prn: key.prn,
      signature: key.pair.sign(binary.hash),
    });
    expect(sig.status).toBe(201);
    if (state === 'signed') return binary;
    await patch(binary.prn, { state: 'destroyed' });
    return binary;
  }

  const legal: Record<State, State[]> = {
    uploadable: ['hashable'],
    hashable: ['hashing', 'uploadable'],
    hashing: ['uploadable'],
    signable: ['signed', 'uploadable', 'destroyed'],
    signed: ['destroyed'],
    destroyed: [],
  };

  for (const from of STATES) {
    for (const to of STATES) {
      if (from === to || legal[from].includes(to)) continue;
      it(`refuses ${from} → ${to} with a 422 naming both states`, async () => {
        const binary = await binaryIn(from);
        const res = await patch(binary.prn, { state: to });
        expect(res.status).toBe(422);
        expect(res.body.errors.state[0]).toContain(`from ${from} to ${to}`);
        expect((await t.api('GET', `/binaries/${binary.prn}`)).body.binary.state).toBe(from);
      });
    }
    it(`treats ${from} → ${from} as a no-op`, async () => {
      const binary = await binaryIn(from);
      const res = await patch(binary.prn, { state: from });
      expect(res.status).toBe(200);
      expect(res.body.binary.state).toBe(from);
      expectSpec('/binaries/{binary_prn}', 'patch', 200, res.body);
    });
  }

  it('uploadable → hashable needs every part valid and the sizes to add up', async () => {
    const bytes = content();
    const binary = await createBinary(t, bytes, 'needs-parts');
    let res = await patch(binary.prn, { state: 'hashable' });
    expect(res.status).toBe(422);
    expect(res.body.errors.state[0]).toContain('no binary parts');

    // Registered but never uploaded.
    await t.api('PUT', `/binaries/${binary.prn}/parts/1`, {
      hash: sha256(bytes),
      size: bytes.length,
      expected_binary_size: bytes.length,
    });
    res = await patch(binary.prn, { state: 'hashable' });
    expect(res.status).toBe(422);
    expect(res.body.errors.state[0]).toContain('part 1 is uploadable');

    await uploadParts(t, binary.prn, bytes);
    res = await patch(binary.prn, { state: 'hashable' });
    expect(res.status).toBe(200);
  });

  it('refuses hashable when a part is missing or the sizes do not add up', async () => {
    const big = Buffer.alloc(5_242_880 + 10, 7);
    const binary = await createBinary(t, big, 'gap');
    const [first] = await uploadParts(t, binary.prn, big.subarray(0, 5_242_880), 5_242_880, big.length);
    expect(first!.status).toBe(200);
    let res = await patch(binary.prn, { state: 'hashable' });
    expect(res.body.errors.state[0]).toContain('add up to 5242880 bytes');
    // Part 2 registered only.
    const tail = big.subarray(5_242_880);
    await t.api('PUT', `/binaries/${binary.prn}/parts/3`, { hash: sha256(tail), size: tail.length });
    res = await patch(binary.prn, { state: 'hashable' });
    expect(res.body.errors.state[0]).toContain('part 2 is missing');
  });

  it('a reset from hashable, hashing or signable deletes the parts and allows a new hash and size', async () => {
    for (const from of ['hashable', 'hashing', 'signable'] as const) {
      const binary = await binaryIn(from);
      const partsDir = join(t.dataDir, 'parts', binary.prn.split(':').pop()!);
      const reset = await patch(binary.prn, { state: 'uploadable' });
      expect(reset.status).toBe(200);
      expect(reset.body.binary.state).toBe('uploadable');
      expect((await t.api('GET', `/binaries/${binary.prn}/parts`)).body.binary_parts).toEqual([]);
      expect(existsSync(partsDir)).toBe(false);
      const next = Buffer.from(`new content after reset from ${from}`);
      const changed = await patch(binary.prn, { hash: sha256(next), size: next.length });
      expect(changed.status).toBe(200);
      expect(changed.body.binary).toMatchObject({ hash: sha256(next), size: next.length });
      await uploadParts(t, binary.prn, next);
      await patch(binary.prn, { state: 'hashable' });
      await patch(binary.prn, { state: 'hashing' });
      await waitForState(t, binary.prn, ['signable']);
    }
  });

  it('hash and size change only while uploadable', async () => {
    const binary = await binaryIn('signable');
    const res = await patch(binary.prn, { hash: sha256('other') });
    expect(res.status).toBe(422);
    expect(res.body.errors.hash[0]).toContain('only change while the binary is uploadable');
    // The same values are not a change.
    expect((await patch(binary.prn, { hash: binary.hash })).status).toBe(200);
  });

  it('signable → signed by PATCH needs a signature first; signed → signed stays idempotent', async () => {
    const binary = await binaryIn('signable');
    const res = await patch(binary.prn, { state: 'signed' });
    expect(res.status).toBe(422);
    expect(res.body.errors.state[0]).toContain('no signature');
    const signed = await binaryIn('signed');
    expect((await patch(signed.prn, { state: 'signed' })).body.binary.state).toBe('signed');
  });

  it('a failed server-side hash check sends the binary back to uploadable, says why, and a new upload recovers', async () => {
    const bytes = content();
    const binary = await createBinary(t, bytes, 'tampered');
    await uploadParts(t, binary.prn, bytes);
    // Corrupt the stored part behind the server's back (disk fault, manual edit).
    const dir = join(t.dataDir, 'parts', binary.prn.split(':').pop()!);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, readdirSync(dir)[0]!), 'XXXX corrupted');
    await patch(binary.prn, { state: 'hashable' });
    await patch(binary.prn, { state: 'hashing' });
    const failed = await waitForState(t, binary.prn, ['uploadable', 'signable']);
    expect(failed.state).toBe('uploadable');
    expect(failed.hash_error).toMatch(/server-side hash check failed: the content/);
    expect((await t.api('GET', `/binaries/${binary.prn}/parts`)).body.binary_parts).toEqual([]);
    expect(t.logger.lines.some((l) => l.level === 'warning' && l.message.includes('hash check failed'))).toBe(
      true,
    );

    await uploadParts(t, binary.prn, bytes);
    await patch(binary.prn, { state: 'hashable' });
    await patch(binary.prn, { state: 'hashing' });
    const recovered = await waitForState(t, binary.prn, ['signable', 'uploadable']);
    expect(recovered.state).toBe('signable');
    expect(recovered.hash_error).toBeUndefined();
  });

  it('one live binary per (artifact version, target); destroyed ones free the target', async () => {
    const bytes = content();
    const binary = await signableBinary(t, bytes, 'unique-target');
    const again = await t.api('POST', '/binaries', {
      artifact_version_prn: binary.artifact_version_prn,
      hash: sha256(bytes),
      size: bytes.length,
      target: 'unique-target',
    });
    expect(again.status).toBe(422);
    expect(again.body).toEqual({ errors: { target: ['has already been taken'] } });

    const destroyed = await patch(binary.prn, { state: 'destroyed' });
    expect(destroyed.body.binary.state).toBe('destroyed');
    const fresh = await t.api('POST', '/binaries', {
      artifact_version_prn: binary.artifact_version_prn,
      hash: sha256(bytes),
      size: bytes.length,
      target: 'unique-target',
    });
    expect(fresh.status).toBe(201);
  });

  it('destroy deletes the content, keeps the record, and serves no download URL', async () => {
    const bytes = Buffer.from('destroy me');
    const binary = await binaryIn('signed');
    void bytes;
    const url = (await t.api('GET', `/binaries/${binary.prn}/download_url`)).body.download_url;
    expect((await fetch(url)).status).toBe(200);
    const res = await t.api('DELETE', `/binaries/${binary.prn}`);
    expect(res.status).toBe(204);
    const after = await t.api('GET', `/binaries/${binary.prn}`);
    expect(after.body.binary.state).toBe('destroyed');
    expect(after.body.binary.signatures).toHaveLength(1);
    expect((await t.api('GET', `/binaries/${binary.prn}/download_url`)).status).toBe(422);
    // The URL signed the content hash the binary no longer has: refused like any URL that does not verify.
    const gone = await fetch(url);
    expect(gone.status).toBe(403);
    expect(await gone.json()).toEqual({ errors: { detail: 'Forbidden' } });
    expect(existsSync(join(t.dataDir, 'blobs', binary.hash.slice(0, 2), binary.hash))).toBe(false);
    expect((await t.api('DELETE', `/binaries/${binary.prn}`)).status).toBe(204);
  });

  it('DELETE of a binary never verified removes the record', async () => {
    const binary = await binaryIn('hashable');
    expect((await t.api('DELETE', `/binaries/${binary.prn}`)).status).toBe(204);
    expect((await t.api('GET', `/binaries/${binary.prn}`)).status).toBe(404);
  });

  it('identical content for two targets is stored once and outlives the destruction of one', async () => {
    const bytes = Buffer.from('shared firmware image\n');
    const a = await signableBinary(t, bytes, 'dedupe-a');
    const b = await signableBinary(t, bytes, 'dedupe-b');
    const blobDir = join(t.dataDir, 'blobs', a.hash.slice(0, 2));
    expect(readdirSync(blobDir)).toEqual([a.hash]);
    await patch(a.prn, { state: 'destroyed' });
    const url = (await t.api('GET', `/binaries/${b.prn}/download_url`)).body.download_url;
    const res = await fetch(url);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
    await patch(b.prn, { state: 'destroyed' });
    expect(existsSync(join(blobDir, a.hash))).toBe(false);
  });
});

void HELLO;
