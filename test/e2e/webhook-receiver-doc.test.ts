/**
 * The receiver example of docs/access-audit-webhooks.md, run as written: it must accept the registry's
 * deliveries, refuse a bad signature and a stale timestamp, and log each event once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRegistry, type RegistryProcess } from '../helpers/registry-process.js';

const root = new URL('../..', import.meta.url).pathname;
const doc = readFileSync(join(root, 'docs', 'access-audit-webhooks.md'), 'utf8');
const example = /```js\n([\s\S]*?)```/.exec(doc)![1]!;
const vector = /```text\n([\s\S]*?)```/.exec(doc)![1]!;

let registry: RegistryProcess;
let receiver: ChildProcess;
let out = '';
let port: number;

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(registry.baseUrl + path, {
    method,
    headers: { authorization: `Token ${registry.apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });

async function waitForLines(n: number, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (out.trim().split('\n').filter(Boolean).length < n) {
    if (Date.now() > deadline) throw new Error(`receiver printed:\n${out}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return out.trim().split('\n');
}

beforeAll(async () => {
  registry = await startRegistry({ args: ['--allow-insecure-webhooks'] });
  port = await freePort();
});
afterAll(async () => {
  receiver?.kill();
  await registry?.stop();
});

it('the documented test vector holds', () => {
  const field = (name: string) => new RegExp(`^${name}\\s+(.+)$`, 'm').exec(vector)![1]!;
  const mac = createHmac('sha256', Buffer.from(field('secret'), 'hex'))
    .update(field('peridio-published-at') + field('body'))
    .digest('hex')
    .toUpperCase();
  expect(mac).toBe(field('peridio-signature'));
});

it('the documented receiver verifies, refuses forgeries and stale timestamps, and deduplicates', async () => {
  const created = await api('POST', '/webhooks', {
    url: `http://127.0.0.1:${port}/`,
    enabled_events: ['artifact.created'],
  });
  const { prn, secret } = created.body.webhook;
  const file = join(mkdtempSync(join(tmpdir(), 'receiver-')), 'receiver.mjs');
  writeFileSync(file, example);
  receiver = spawn(process.execPath, [file], {
    env: { ...process.env, WEBHOOK_SECRET: secret, PORT: String(port) },
  });
  receiver.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  receiver.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  for (let i = 0; ; i++) {
    const enabled = await api('PATCH', `/webhooks/${prn}`, { state: 'enabled' }); // the URL check
    if (enabled.status === 200) break;
    if (i > 50) throw new Error(JSON.stringify(enabled.body) + out);
    await new Promise((r) => setTimeout(r, 100)); // the receiver is still starting
  }
  await api('POST', '/artifacts', { name: 'told' });
  const lines = await waitForLines(2);
  expect(lines[0]).toMatch(/^webhook\.test_fire prn:1:/);
  expect(lines[1]).toMatch(/^artifact\.created prn:1:.*:event:/);

  const url = `http://127.0.0.1:${port}/`;
  const body = JSON.stringify({
    prn: 'prn:1:x:event:dup',
    type: 'artifact',
    data: { type: 'created' },
    version: 1,
  });
  const sign = (at: string, key = secret) =>
    createHmac('sha256', Buffer.from(key, 'hex')).update(at).update(body).digest('hex').toUpperCase();
  const post = (at: string, signature: string) =>
    fetch(url, {
      method: 'POST',
      headers: { 'peridio-published-at': at, 'peridio-signature': signature },
      body,
    });
  const now = new Date().toISOString();
  expect((await post(now, sign(now, '00'.repeat(16)))).status).toBe(401);
  const stale = new Date(Date.now() - 10 * 60 * 1000).toISOString();
  expect((await post(stale, sign(stale))).status).toBe(401);
  expect((await post(now, sign(now))).status).toBe(204);
  expect((await post(now, `${sign(now, '11'.repeat(16))},${sign(now)}`)).status).toBe(204); // a roll, twice
  await waitForLines(3);
  await new Promise((r) => setTimeout(r, 200));
  expect(
    out
      .trim()
      .split('\n')
      .filter((l) => l.includes('prn:1:x:event:dup')),
  ).toHaveLength(1);
});
