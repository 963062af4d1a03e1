import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Presigner } from '../src/presign.js';
import {
  createBinary,
  expectSpec,
  sha256,
  startTestRegistry,
  uploadParts,
  waitForState,
  type TestRegistry,
} from './support.js';

const MIB5 = 5_242_880;

describe('binary parts and presigned uploads', () => {
  let t: TestRegistry;
  beforeAll(async () => {
    t = await startTestRegistry();
  });
  afterAll(() => t.close());

  const register = (prn: string, index: number | string, body: Record<string, unknown>) =>
    t.api('PUT', `/binaries/${prn}/parts/${index}`, body, { 'content-range': 'bytes 0-9/10' });
  const put = (url: string, body: Buffer, headers: Record<string, string> = {}) =>
    fetch(url, { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream', ...headers } });
  const partsOf = async (prn: string) => (await t.api('GET', `/binaries/${prn}/parts`)).body.binary_parts;

  it('answers PUT /parts/{index} with 201, the part and a presigned URL; the bytes make it valid', async () => {
    const bytes = Buffer.from('0123456789');
    const binary = await createBinary(t, bytes, 'one-part');
    const res = await register(binary.prn, 1, {
      binary_prn: binary.prn,
      index: 1,
      expected_binary_size: 10,
      hash: sha256(bytes),
      size: 10,
      extra: 'ignored',
    });
    expect(res.status).toBe(201);
    expectSpec('/binaries/{binary_prn}/parts/{index}', 'put', 201, res.body);
    expect(res.body.binary_part).toMatchObject({
      index: 1,
      size: 10,
      state: 'uploadable',
      binary_prn: binary.prn,
    });
    expect(res.body.binary_part.prn).toMatch(new RegExp(`^prn:1:${t.org}:binary_part:[0-9a-f-]{36}$`));
    const url = res.body.binary_part.presigned_upload_url as string;
    expect(url.startsWith(t.baseUrl)).toBe(true);
    const upload = await put(url, bytes, {
      'x-amz-checksum-sha256': createHash('sha256').update(bytes).digest('base64'),
    });
    expect(upload.status).toBe(200);
    expect(upload.headers.get('etag')).toBe(`"${sha256(bytes)}"`);
    const list = await t.api('GET', `/binaries/${binary.prn}/parts`);
    expectSpec('/binaries/{binary_prn}/parts', 'get', 200, list.body);
    expect(list.body.binary_parts[0].state).toBe('valid');
    expect(list.body.binary_parts[0]).not.toHaveProperty('presigned_upload_url');
  });

  it('marks invalid_hash and invalid_size and answers 400 naming them', async () => {
    const bytes = Buffer.from('abcdefghij');
    const binary = await createBinary(t, bytes, 'bad-bytes');
    const res = await register(binary.prn, 1, { hash: sha256(bytes), size: 10 });
    const url = res.body.binary_part.presigned_upload_url;
    const wrong = await put(url, Buffer.from('ABCDEFGHIJ'));
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as any).errors.detail).toMatch(/^invalid_hash/);
    expect((await partsOf(binary.prn))[0].state).toBe('invalid_hash');

    const short = await put(url, Buffer.from('abc'));
    expect(short.status).toBe(400);
    expect(((await short.json()) as any).errors.detail).toMatch(/^invalid_size/);
    expect((await partsOf(binary.prn))[0].state).toBe('invalid_size');

    const long = await put(url, Buffer.from('abcdefghijk'));
    expect(long.status).toBe(400);
    expect(((await long.json()) as any).errors.detail).toMatch(/^invalid_size/);

    const badChecksum = await put(url, bytes, {
      'x-amz-checksum-sha256': createHash('sha256').update('x').digest('base64'),
    });
    expect(badChecksum.status).toBe(400);
    expect(((await badChecksum.json()) as any).errors.detail).toMatch(/^invalid_hash.*x-amz-checksum-sha256/);

    const good = await put(url, bytes);
    expect(good.status).toBe(200);
    expect((await partsOf(binary.prn))[0].state).toBe('valid');
  });

  it('a new PUT of the same index overwrites the part', async () => {
    const bytes = Buffer.from('final content');
    const binary = await createBinary(t, bytes, 'overwrite');
    const first = Buffer.from('first content');
    await register(binary.prn, 1, { hash: sha256(first), size: first.length });
    const again = await register(binary.prn, 1, { hash: sha256(bytes), size: bytes.length });
    expect(again.status).toBe(201);
    expect(await partsOf(binary.prn)).toMatchObject([{ index: 1, hash: sha256(bytes), state: 'uploadable' }]);
    // The old URL was for other bytes: it no longer grants anything.
    expect((await put(again.body.binary_part.presigned_upload_url, bytes)).status).toBe(200);
  });

  it('refuses tampered, expired and foreign presigned URLs with 403', async () => {
    const bytes = Buffer.from('tamper');
    const binary = await createBinary(t, bytes, 'tamper');
    const res = await register(binary.prn, 1, { hash: sha256(bytes), size: bytes.length });
    const url = new URL(res.body.binary_part.presigned_upload_url);
    const tampered = new URL(url);
    tampered.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 60));
    let r = await put(tampered.toString(), bytes);
    expect(r.status).toBe(403);
    expect(((await r.json()) as any).errors.detail).toContain('signature');

    const otherIndex = new URL(url.toString().replace(/\/1\?/, '/2?'));
    expect((await put(otherIndex.toString(), bytes)).status).toBe(403);

    // An expired URL, signed with the registry's own secret but in the past.
    const past = new Presigner(
      (t.registry.context.presigner as unknown as { secret: Buffer }).secret,
      1,
      () => Date.now() - 10_000,
    ).partUrl(t.baseUrl, binary.prn.split(':').pop()!, 1, sha256(bytes));
    r = await put(past, bytes);
    expect(r.status).toBe(403);
    expect(((await r.json()) as any).errors.detail).toContain('expired');

    const noSig = `${url.origin}${url.pathname}`;
    expect((await put(noSig, bytes)).status).toBe(403);
  });

  it('needs no API key for the presigned URL but does for the Admin API', async () => {
    const res = await fetch(`${t.baseUrl}/binaries`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).errors.detail).toContain('Unauthorized');
  });

  it('validates index, size and expected_binary_size', async () => {
    const bytes = Buffer.alloc(MIB5 + 5, 1);
    const binary = await createBinary(t, bytes, 'validation');
    const ok = { hash: sha256('x'), size: 5 };
    expect((await register(binary.prn, 0, ok)).status).toBe(422);
    expect((await register(binary.prn, 10_001, ok)).status).toBe(422);
    expect((await register(binary.prn, 'abc', ok)).status).toBe(422);
    expect((await register(binary.prn, 1, { ...ok, hash: 'nothex' })).body.errors.hash).toEqual([
      'is invalid: must be the lowercase hex SHA-256 (64 characters)',
    ]);
    expect(
      (await register(binary.prn, 1, { ...ok, expected_binary_size: 3 })).body.errors.expected_binary_size,
    ).toEqual(["is 3 but the binary's size is 5242885"]);
    expect((await register(binary.prn, 1, { ...ok, size: 5_368_709_121 })).status).toBe(422);
    expect((await register(binary.prn, 1, { ...ok, size: MIB5 + 6 })).body.errors.size[0]).toContain(
      'larger than the binary',
    );
    // A small part below a registered later part cannot be a last part.
    expect((await register(binary.prn, 2, ok)).status).toBe(201);
    expect((await register(binary.prn, 1, ok)).body.errors.size[0]).toContain('at least 5242880');
  });

  it('accepts a 0-byte binary as one empty part', async () => {
    const empty = Buffer.alloc(0);
    const binary = await createBinary(t, empty, 'empty');
    const [part] = await uploadParts(t, binary.prn, empty);
    expect(part!.status).toBe(200);
    await t.api('PATCH', `/binaries/${binary.prn}`, { state: 'hashable' });
    await t.api('PATCH', `/binaries/${binary.prn}`, { state: 'hashing' });
    await waitForState(t, binary.prn, ['signable']);
    const url = (await t.api('GET', `/binaries/${binary.prn}/download_url`)).body.download_url;
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it('assembles several parts (the last one short) and serves Range requests across them', async () => {
    const bytes = Buffer.alloc(MIB5 + 1000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
    const binary = await createBinary(t, bytes, 'multi');
    const results = await uploadParts(t, binary.prn, bytes);
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    await t.api('PATCH', `/binaries/${binary.prn}`, { state: 'hashable' });
    await t.api('PATCH', `/binaries/${binary.prn}`, { state: 'hashing' });
    await waitForState(t, binary.prn, ['signable']);
    const url = (await t.api('GET', `/binaries/${binary.prn}/download_url`)).body.download_url;

    const whole = await fetch(url);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(sha256(Buffer.from(await whole.arrayBuffer()))).toBe(sha256(bytes));

    const span = await fetch(url, { headers: { range: `bytes=${MIB5 - 10}-${MIB5 + 9}` } });
    expect(span.status).toBe(206);
    expect(span.headers.get('content-range')).toBe(`bytes ${MIB5 - 10}-${MIB5 + 9}/${bytes.length}`);
    expect(Buffer.from(await span.arrayBuffer()).equals(bytes.subarray(MIB5 - 10, MIB5 + 10))).toBe(true);

    const suffix = await fetch(url, { headers: { range: 'bytes=-7' } });
    expect(Buffer.from(await suffix.arrayBuffer()).equals(bytes.subarray(-7))).toBe(true);
    const beyond = await fetch(url, { headers: { range: `bytes=${bytes.length}-` } });
    expect(beyond.status).toBe(416);
    await beyond.arrayBuffer();

    const tampered = url.replace(/sig=[0-9a-f]/, (m: string) => (m.endsWith('0') ? 'sig=1' : 'sig=0'));
    expect((await fetch(tampered)).status).toBe(403);
  });

  it('refuses parts once the binary left uploadable', async () => {
    const bytes = Buffer.from('late part');
    const binary = await createBinary(t, bytes, 'late');
    const [part] = await uploadParts(t, binary.prn, bytes);
    await t.api('PATCH', `/binaries/${binary.prn}`, { state: 'hashable' });
    const res = await register(binary.prn, 1, { hash: sha256(bytes), size: bytes.length });
    expect(res.status).toBe(422);
    expect(res.body.errors.state[0]).toContain('hashable');
    expect((await put(part!.part.presigned_upload_url, bytes)).status).toBe(409);
  });
});
