import { readdirSync } from 'node:fs';
import { get, request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRange } from '../src/routes/download.js';
import { nowTimestamp } from '../src/time.js';
import {
  createBinary,
  expectSpec,
  HELLO,
  sha256,
  signableBinary,
  startTestRegistry,
  type TestRegistry,
} from './support.js';

describe('the OpenAPI check itself', () => {
  it('rejects bodies that break the spec (so passing it means something)', () => {
    expect(() => expectSpec('/binaries/{binary_prn}', 'get', 200, { binary: { state: 'melted' } })).toThrow(
      /state/,
    );
    expect(() => expectSpec('/binaries', 'get', 200, { binaries: [{ size: -1 }] })).toThrow(/size/);
    expect(() =>
      expectSpec('/binary_signatures', 'post', 201, {
        binary_signature: { signature: 'short', inserted_at: 'x' },
      }),
    ).toThrow();
  });
});

describe('small pieces', () => {
  it('timestamps have microseconds and Z, and strictly increase', () => {
    const stamps = Array.from({ length: 1000 }, () => nowTimestamp());
    for (const s of stamps) expect(s).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]! > stamps[i - 1]!).toBe(true);
  });

  it('parses Range headers', () => {
    expect(parseRange(undefined, 10)).toBeUndefined();
    expect(parseRange('bytes=2-4', 10)).toEqual([2, 4]);
    expect(parseRange('bytes=5-', 10)).toEqual([5, 9]);
    expect(parseRange('bytes=-3', 10)).toEqual([7, 9]);
    expect(parseRange('bytes=8-100', 10)).toEqual([8, 9]);
    expect(parseRange('bytes=0-1,4-5', 10)).toBeUndefined();
    expect(() => parseRange('bytes=10-', 10)).toThrow();
    expect(() => parseRange('bytes=5-2', 10)).toThrow();
  });
});

describe('more endpoints', () => {
  let t: TestRegistry;
  beforeAll(async () => {
    t = await startTestRegistry();
  });
  afterAll(() => t.close());

  it('PATCHes a binary description and custom_metadata, ignoring prn and nulls', async () => {
    const binary = await createBinary(t, Buffer.from('meta'), 'meta');
    const res = await t.api('PATCH', `/binaries/${binary.prn}`, {
      prn: binary.prn,
      description: 'release notes',
      custom_metadata: { build: 42 },
      state: null,
      hash: null,
    });
    expect(res.status).toBe(200);
    expect(res.body.binary).toMatchObject({
      description: 'release notes',
      custom_metadata: { build: 42 },
      state: 'uploadable',
    });
    expectSpec('/binaries/{binary_prn}', 'patch', 200, res.body);
    expect(
      (await t.api('PATCH', `/binaries/${binary.prn}`, { state: 'melted' })).body.errors.state[0],
    ).toContain('must be one of');
  });

  it('serves HEAD on the download URL and retrieves a signature by PRN', async () => {
    const binary = await signableBinary(t, HELLO.content, 'head');
    const key = (await t.api('POST', '/signing_keys', { name: 'k', value: HELLO.keyValue })).body.signing_key;
    const sig = (
      await t.api('POST', '/binary_signatures', {
        binary_prn: binary.prn,
        signing_key_prn: key.prn,
        signature: HELLO.signature,
      })
    ).body.binary_signature;
    const got = await t.api('GET', `/binary_signatures/${sig.prn}`);
    expect(got.body.binary_signature).toEqual(sig);
    const url = (await t.api('GET', `/binaries/${binary.prn}/download_url`)).body.download_url;
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('14');
    expect(head.headers.get('etag')).toBe(`"${HELLO.hash}"`);
  });

  it('a client that disconnects mid-upload leaves the part as it was, with nothing logged as an error', async () => {
    const content = Buffer.alloc(100_000, 5);
    const binary = await createBinary(t, content, 'abort');
    const part = (
      await t.api('PUT', `/binaries/${binary.prn}/parts/1`, { hash: sha256(content), size: content.length })
    ).body.binary_part;
    const target = new URL(part.presigned_upload_url);
    const req = request({
      method: 'PUT',
      hostname: target.hostname,
      port: target.port,
      path: target.pathname + target.search,
      headers: { 'content-length': content.length },
    });
    req.on('error', () => undefined);
    req.write(content.subarray(0, 50_000));
    const tmp = join(t.dataDir, 'tmp');
    await expect.poll(() => readdirSync(tmp).length).toBe(1); // the registry is writing the body
    req.destroy();
    await expect.poll(() => readdirSync(tmp).length).toBe(0); // and has dropped it
    const parts = (await t.api('GET', `/binaries/${binary.prn}/parts`)).body.binary_parts;
    expect(parts).toMatchObject([{ index: 1, state: 'uploadable' }]);
    expect(t.logger.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('builds presigned URLs from the Host header a request came with (a proxy in front)', async () => {
    const binary = await createBinary(t, Buffer.from('host'), 'host');
    const target = new URL(t.baseUrl);
    const body = await new Promise<string>((resolve, reject) => {
      get(
        {
          hostname: target.hostname,
          port: target.port,
          path: `/binaries/${binary.prn}/parts`,
          headers: { host: 'proxy.example:8443', authorization: `Token ${t.apiKey}` },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (c: string) => (text += c));
          res.on('end', () => resolve(text));
        },
      ).on('error', reject);
    });
    expect(JSON.parse(body)).toEqual({ binary_parts: [], next_page: null });
    const url = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          method: 'PUT',
          hostname: target.hostname,
          port: target.port,
          path: `/binaries/${binary.prn}/parts/1`,
          headers: {
            host: 'proxy.example:8443',
            authorization: `Token ${t.apiKey}`,
            'content-type': 'application/json',
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (c: string) => (text += c));
          res.on('end', () => resolve(JSON.parse(text).binary_part.presigned_upload_url));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ hash: sha256('host'), size: 4 }));
    });
    expect(url).toMatch(/^http:\/\/proxy\.example:8443\/_presigned\/parts\//);
  });
});

describe('--public-url', () => {
  it('is the base of presigned URLs when given', async () => {
    const t = await startTestRegistry({ publicUrl: 'https://registry.example.com/' });
    try {
      const binary = await createBinary(t, Buffer.from('public'), 'public');
      const part = await t.api('PUT', `/binaries/${binary.prn}/parts/1`, { hash: sha256('public'), size: 6 });
      expect(part.body.binary_part.presigned_upload_url).toMatch(
        /^https:\/\/registry\.example\.com\/_presigned\/parts\//,
      );
    } finally {
      await t.close();
    }
  });
});
