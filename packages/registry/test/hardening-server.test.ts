/**
 * Issue 18: the HTTP mechanism under inputs nobody sends on purpose — errors after the body was read,
 * JSON nested too deep, NUL in text, bad presign secrets, forged download URLs, crafted Host headers — each
 * answered with a status and a log line, never a dropped connection or a broken record. Connections and
 * timeouts are in connections.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, MAX_JSON_VALUES, stringifyJson } from '../src/http.js';
import { Presigner } from '../src/presign.js';
import { createRegistry } from '../src/server.js';
import { createBinary, sha256, signableBinary, startTestRegistry, type TestRegistry } from './support.js';

const open: TestRegistry[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function start(options: Parameters<typeof startTestRegistry>[0] = {}) {
  const t = await startTestRegistry(options);
  open.push(t);
  return t;
}

const port = (t: TestRegistry) => Number(new URL(t.baseUrl).port);

/** `nest(n)` → an object n levels deep: {"a":{"a":…{}}}. */
const nest = (levels: number) => '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);

describe('every unexpected error is a 500 with a request id and a logged stack (item 2)', () => {
  it('a database error after the JSON body was read answers 500, not a dropped connection', async () => {
    const t = await start();
    await t.registry.context.store.close();
    const res = await fetch(`${t.baseUrl}/artifacts`, {
      method: 'POST',
      headers: { authorization: `Token ${t.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'after-the-body' }),
    });
    expect(res.status).toBe(500);
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await res.json()).toEqual({ errors: { detail: `Internal Server Error (request id ${id})` } });
    const logged = t.logger.lines.find((l) => l.level === 'error' && l.message.startsWith('request id='));
    expect(logged?.message).toContain(`request id=${id} POST /artifacts: Error: database is not open`);
    expect(logged?.message).toMatch(/\n\s+at /); // the stack, not just the message
    const access = t.logger.lines.find((l) => l.message.startsWith('request method=POST'));
    expect(access?.message).toContain(`status=500 `);
    expect(access?.message).toContain(`id=${id}`);
  });
});

describe(`JSON bodies nest at most ${MAX_JSON_DEPTH} levels and hold at most ${MAX_JSON_VALUES} values (item 3)`, () => {
  it('custom_metadata 4,400 levels deep is a 422 naming it, and the registry keeps answering', async () => {
    const t = await start();
    const body = `{"name":"deep","custom_metadata":${nest(4400)}}`;
    const res = await t.api('POST', '/artifacts', body);
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      errors: { custom_metadata: [`is invalid: nested deeper than ${MAX_JSON_DEPTH} levels`] },
    });
    const list = await t.api('GET', '/artifacts');
    expect(list.status).toBe(200);
    expect(list.body.artifacts).toEqual([]);
  });

  it(`accepts exactly ${MAX_JSON_DEPTH} levels (the body is level 1) and reads them back unchanged`, async () => {
    const t = await start();
    const metadata = JSON.parse(nest(MAX_JSON_DEPTH - 1));
    const res = await t.api('POST', '/artifacts', { name: 'at-limit', custom_metadata: metadata });
    expect(res.status).toBe(201);
    expect(res.body.artifact.custom_metadata).toEqual(metadata);
    const over = await t.api('POST', '/artifacts', { name: 'over', custom_metadata: { a: metadata } });
    expect(over.status).toBe(422);
  });

  it('a field other than custom_metadata is held to the same limits', async () => {
    const t = await start();
    const res = await t.api('POST', '/artifacts', `{"name":${'['.repeat(100)}${']'.repeat(100)}}`);
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.errors)).toEqual(['name']);
    const wide = await t.api('POST', '/artifacts', {
      name: 'wide',
      custom_metadata: { list: new Array(MAX_JSON_VALUES + 1).fill(0) },
    });
    expect(wide.status).toBe(422);
    expect(wide.body.errors.custom_metadata[0]).toContain(`more than ${MAX_JSON_VALUES} values`);
  });

  it('serializing a record cannot overflow: a value deeper than JSON.stringify manages is still written', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 20_000; i++) deep = i % 2 ? { k: deep, n: i } : [deep, null];
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    const text = stringifyJson(deep);
    // Walk the parsed text back down: the same shape, the same leaf.
    let back = JSON.parse(text) as unknown;
    for (let i = 19_999; i >= 0; i--) back = i % 2 ? (back as { k: unknown }).k : (back as unknown[])[0];
    expect(back).toBe('leaf');
    const sample = { a: [1, 'x', null, true, { b: undefined, c: 2 }], d: new Date(0), e: undefined };
    expect(stringifyJson(sample)).toBe(JSON.stringify(sample));
  });
});

describe('presign secret (item 5)', () => {
  const dirWithSecret = (text: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'registry-secret-'));
    writeFileSync(join(dir, 'presign-secret'), text);
    return dir;
  };

  it.each([
    ['text', 'this is not a hex secret\n'],
    ['too few hex characters', 'abcd\n'],
    ['too many hex characters', `${'a'.repeat(66)}\n`],
  ])('refuses to start with %s in presign-secret, naming the file', async (_what, text) => {
    const dir = dirWithSecret(text);
    await expect(createRegistry({ dataDir: dir, apiKey: 'k' })).rejects.toThrow(
      `${join(dir, 'presign-secret')} does not hold a presign secret: expected exactly 64 hex characters`,
    );
  });

  it('uses a valid stored secret as the HMAC key, and never signs with a short key', async () => {
    const secret = 'ab'.repeat(32);
    const t = await start({ dataDir: dirWithSecret(`${secret}\n`) });
    const content = Buffer.from('signed with the stored key');
    const binary = await createBinary(t, content, 'stored-key');
    const part = await t.api('PUT', `/binaries/${binary.prn}/parts/1`, {
      hash: sha256(content),
      size: content.length,
    });
    const url = new URL(part.body.binary_part.presigned_upload_url);
    const id = binary.prn.split(':').pop()!;
    const expires = Number(url.searchParams.get('expires'));
    const mine = new Presigner(Buffer.from(secret, 'hex'), 0, () => expires * 1000);
    expect(mine.partUrl(t.baseUrl, id, 1, sha256(content))).toBe(url.toString());
    expect(() => new Presigner(Buffer.alloc(0), 60)).toThrow('at least 32 bytes');
  });
});

describe('NUL in text fields (item 7)', () => {
  it('is a 422 naming the field, on create and update alike; other control characters stay whole', async () => {
    const t = await start();
    const created = await t.api('POST', '/artifacts', { name: 'nul', description: 'before\u0000after' });
    expect(created.status).toBe(422);
    expect(created.body).toEqual({ errors: { description: ['must not contain NUL (\\u0000) characters'] } });
    const named = await t.api('POST', '/artifacts', { name: 'a\u0000b' });
    expect(named.body.errors.name).toEqual(['must not contain NUL (\\u0000) characters']);

    const ok = await t.api('POST', '/artifacts', { name: 'nul', description: 'tab\there\nnewline' });
    expect(ok.status).toBe(201);
    const prn = ok.body.artifact.prn;
    const patched = await t.api('PATCH', `/artifacts/${prn}`, { description: 'x\u0000y' });
    expect(patched.status).toBe(422);
    expect(Object.keys(patched.body.errors)).toEqual(['description']);
    expect((await t.api('GET', `/artifacts/${prn}`)).body.artifact.description).toBe('tab\there\nnewline');
  });
});

describe('presigned download URLs that do not verify say nothing (risk)', () => {
  it('answers the same bare 403 whether the binary is missing, not yet uploaded, or signed', async () => {
    const t = await start();
    const signed = await signableBinary(t, Buffer.from('downloadable'), 'dl');
    const url = new URL((await t.api('GET', `/binaries/${signed.prn}/download_url`)).body.download_url);
    const pending = await createBinary(t, Buffer.from('pending'), 'pending');
    const bad = `expires=${url.searchParams.get('expires')}&sig=${'0'.repeat(64)}`;
    const ids = [signed.prn, pending.prn].map((prn) => prn.split(':').pop()!);
    ids.push('00000000-0000-4000-8000-000000000000');
    for (const id of ids) {
      const res = await fetch(`${t.baseUrl}/_presigned/download/${id}?${bad}`);
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ errors: { detail: 'Forbidden' } });
    }
  });
});

describe('Host header without --public-url (risk)', () => {
  function partUrlWithHost(t: TestRegistry, prn: string, host: string, content: Buffer) {
    return new Promise<{ status: number; body: any }>((resolve, reject) => {
      const payload = JSON.stringify({ hash: sha256(content), size: content.length });
      const req = request(
        {
          host: '127.0.0.1',
          port: port(t),
          method: 'PUT',
          path: `/binaries/${prn}/parts/1`,
          headers: {
            host,
            authorization: `Token ${t.apiKey}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  it('builds presigned URLs from host[:port] only and refuses anything else with a 400', async () => {
    const t = await start();
    const content = Buffer.from('host');
    const binary = await createBinary(t, content, 'host');
    for (const host of ['evil.example/x?', 'a@evil.example', 'evil.example:80#', 'x y']) {
      const res = await partUrlWithHost(t, binary.prn, host, content);
      expect(res.status, host).toBe(400);
      expect(res.body.errors.detail).toContain('Host header must be host[:port]');
    }
    for (const host of ['registry.example:8443', '[::1]:4000', 'localhost']) {
      const res = await partUrlWithHost(t, binary.prn, host, content);
      expect(res.status, host).toBe(201);
      expect(res.body.binary_part.presigned_upload_url.startsWith(`http://${host}/_presigned/parts/`)).toBe(
        true,
      );
    }
  });
});
