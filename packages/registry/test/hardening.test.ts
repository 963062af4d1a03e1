/**
 * Issue 18: the HTTP mechanism under inputs nobody sends on purpose — errors after the body was read,
 * JSON nested too deep, NUL in text, bad presign secrets, trickling bodies, crafted Host headers, too many
 * connections — each answered with a status and a log line, never a dropped connection or a broken record.
 */
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
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

/** A raw connection: what the server writes back, and when it closed the socket. */
function rawConnection(t: TestRegistry) {
  const socket = connect(port(t), '127.0.0.1');
  let received = '';
  const opened = Date.now();
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<{ received: string; afterMs: number }>((resolve) =>
    socket.on('close', () => resolve({ received, afterMs: Date.now() - opened })),
  );
  return { socket, closed, received: () => received };
}

/** `nest(n)` → an object n levels deep: {"a":{"a":…{}}}. */
const nest = (levels: number) => '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);

describe('every unexpected error is a 500 with a request id and a logged stack (item 2)', () => {
  it('a database error after the JSON body was read answers 500, not a dropped connection', async () => {
    const t = await start();
    t.registry.context.db.close();
    const res = await fetch(`${t.baseUrl}/artifacts`, {
      method: 'POST',
      headers: { authorization: `Token ${t.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'after-the-body' }),
    });
    expect(res.status).toBe(500);
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await res.json()).toEqual({ errors: { detail: `Internal Server Error (request id ${id})` } });
    const logged = t.logger.lines.find((l) => l.level === 'error');
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
  ])('refuses to start with %s in presign-secret, naming the file', (_what, text) => {
    const dir = dirWithSecret(text);
    expect(() => createRegistry({ dataDir: dir, apiKey: 'k' })).toThrow(
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

describe('Range on presigned downloads (README claims)', () => {
  it('answers a multi-range whole, HEAD with Range as 206 without a body, and 416 with Content-Range', async () => {
    const t = await start();
    const content = Buffer.from('0123456789abcdef');
    const binary = await signableBinary(t, content, 'range');
    const url = (await t.api('GET', `/binaries/${binary.prn}/download_url`)).body.download_url;

    const multi = await fetch(url, { headers: { range: 'bytes=0-1,4-5' } });
    expect(multi.status).toBe(200);
    expect(multi.headers.get('content-range')).toBeNull();
    expect(Buffer.from(await multi.arrayBuffer()).equals(content)).toBe(true);

    const head = await fetch(url, { method: 'HEAD', headers: { range: 'bytes=2-5' } });
    expect(head.status).toBe(206);
    expect(head.headers.get('content-range')).toBe('bytes 2-5/16');
    expect(head.headers.get('content-length')).toBe('4');
    expect((await head.arrayBuffer()).byteLength).toBe(0);

    const beyond = await fetch(url, { headers: { range: 'bytes=16-' } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe('bytes */16');
    await beyond.arrayBuffer();
  });

  it('a Range on a 0-byte binary is 416 with bytes */0; without Range it is an empty 200', async () => {
    const t = await start();
    const binary = await signableBinary(t, Buffer.alloc(0), 'empty-range');
    const url = (await t.api('GET', `/binaries/${binary.prn}/download_url`)).body.download_url;
    const ranged = await fetch(url, { headers: { range: 'bytes=0-' } });
    expect(ranged.status).toBe(416);
    expect(ranged.headers.get('content-range')).toBe('bytes */0');
    await ranged.arrayBuffer();
    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-length')).toBe('0');
  });
});

describe('slow, silent and surplus connections (risk)', () => {
  it('a JSON body still trickling at the body timeout gets a 408 and the connection is closed', async () => {
    const t = await start({ bodyTimeoutMs: 400, idleTimeoutMs: 5_000 });
    const c = rawConnection(t);
    c.socket.write(
      `POST /artifacts HTTP/1.1\r\nHost: x\r\nAuthorization: Token ${t.apiKey}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
    );
    // One byte every 50 ms keeps the socket busy: only the body deadline can end this.
    const trickle = setInterval(() => c.socket.writable && c.socket.write(' '), 50);
    const { received, afterMs } = await c.closed;
    clearInterval(trickle);
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(received.toLowerCase()).toContain('connection: close');
    expect(afterMs).toBeGreaterThanOrEqual(400);
    expect(afterMs).toBeLessThan(4_000);
  });

  it('an upload that keeps moving outlives the idle timeout; one that goes silent is cut off', async () => {
    const t = await start({ idleTimeoutMs: 300, bodyTimeoutMs: 300 });
    const content = Buffer.alloc(20_000, 7);
    const binary = await createBinary(t, content, 'slow');
    const part = (
      await t.api('PUT', `/binaries/${binary.prn}/parts/1`, { hash: sha256(content), size: content.length })
    ).body.binary_part;
    const target = new URL(part.presigned_upload_url);
    const head = `PUT ${target.pathname}${target.search} HTTP/1.1\r\nHost: x\r\nContent-Length: ${content.length}\r\n\r\n`;

    const moving = rawConnection(t);
    moving.socket.write(head);
    // 20 chunks 100 ms apart: 2 s in all, far past both timeouts, never silent for 300 ms.
    for (let i = 0; i < 20; i++) {
      moving.socket.write(content.subarray(i * 1000, (i + 1) * 1000));
      await new Promise((r) => setTimeout(r, 100));
    }
    await expect.poll(() => moving.received(), { timeout: 5_000 }).toMatch(/^HTTP\/1\.1 200 /);
    moving.socket.destroy();

    const silent = rawConnection(t);
    silent.socket.write(head);
    silent.socket.write(content.subarray(0, 1000));
    const { received, afterMs } = await silent.closed;
    expect(received).toBe('');
    expect(afterMs).toBeGreaterThanOrEqual(300);
    expect(afterMs).toBeLessThan(3_000);
    const parts = await t.api('GET', `/binaries/${binary.prn}/parts`);
    expect(parts.body.binary_parts).toMatchObject([{ index: 1, state: 'valid' }]);
  });

  it('refusing an unauthenticated request with a body closes the connection instead of reading on', async () => {
    const t = await start();
    const c = rawConnection(t);
    c.socket.write(
      'POST /artifacts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        'Content-Length: 1000000\r\n\r\n{"name":',
    );
    const { received, afterMs } = await c.closed;
    expect(received).toMatch(/^HTTP\/1\.1 401 /);
    expect(received.toLowerCase()).toContain('connection: close');
    expect(afterMs).toBeLessThan(2_000);
  });

  it('connections past --max-connections are closed at once; the registry answers again once they go', async () => {
    const t = await start({ maxConnections: 2 });
    const held = [rawConnection(t), rawConnection(t)];
    const connections = () =>
      new Promise<number>((resolve) => t.registry.server.getConnections((_e, n) => resolve(n)));
    await expect.poll(connections).toBe(2);
    const surplus = rawConnection(t);
    surplus.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    const { received } = await surplus.closed;
    expect(received).toBe('');
    for (const c of held) c.socket.destroy();
    await Promise.all(held.map((c) => c.closed));
    await expect.poll(async () => (await fetch(`${t.baseUrl}/health`)).status).toBe(200);
  });
});

describe('deleting an artifact version (README claim)', () => {
  it('is refused while it has live binaries, and allowed once the last one is destroyed', async () => {
    const t = await start();
    const binary = await signableBinary(t, Buffer.from('live'), 'live');
    const version = binary.artifact_version_prn;
    const refused = await t.api('DELETE', `/artifact_versions/${version}`);
    expect(refused.status).toBe(422);
    expect(refused.body).toEqual({
      errors: { artifact_version: ['has binaries that are not destroyed; destroy or delete them first'] },
    });
    expect((await t.api('GET', `/artifact_versions/${version}`)).status).toBe(200);
    expect((await t.api('DELETE', `/binaries/${binary.prn}`)).status).toBe(204);
    expect((await t.api('GET', `/binaries/${binary.prn}`)).body.binary.state).toBe('destroyed');
    expect((await t.api('DELETE', `/artifact_versions/${version}`)).status).toBe(204);
    expect((await t.api('GET', `/artifact_versions/${version}`)).status).toBe(404);
  });
});
