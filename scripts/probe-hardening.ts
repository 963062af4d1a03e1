/**
 * Probes the registry's hardening (issue 18) and prints one JSON line per item, for RELIABILITY.md's
 * "Probed" section: `npx tsx scripts/probe-hardening.ts` (the file-mode row needs `npm run bundle` first).
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRegistry } from '../packages/registry/src/server.js';
import {
  createBinary,
  sha256,
  signableBinary,
  startTestRegistry,
  type TestRegistry,
} from '../packages/registry/test/support.js';

const row = (item: string, measured: Record<string, unknown>) =>
  console.log(JSON.stringify({ item, ...measured }));

function raw(t: TestRegistry, text: string, trickleMs?: number) {
  const socket = connect(Number(new URL(t.baseUrl).port), '127.0.0.1');
  const started = Date.now();
  let received = '';
  socket.on('data', (c) => (received += c.toString('latin1')));
  socket.on('error', () => {});
  socket.write(text);
  const timer = trickleMs ? setInterval(() => socket.writable && socket.write(' '), trickleMs) : undefined;
  return new Promise<{ status: string; ms: number }>((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ status: received.split('\r\n')[0] || '(closed, no answer)', ms: Date.now() - started });
    }),
  );
}

async function main() {
  {
    const t = await startTestRegistry();
    await t.registry.context.store.close();
    const res = await t.api<{ errors: { detail: string } }>('POST', '/artifacts', { name: 'x' });
    const logged = t.logger.lines.find((l) => l.level === 'error')?.message ?? '';
    row('2 unexpected error after the body was read', {
      status: res.status,
      detail: res.body.errors.detail,
      logLine: logged.split('\n')[0],
      stackLines: logged.split('\n').length - 1,
    });
    await t.close();
  }
  const t = await startTestRegistry({ bodyTimeoutMs: 1000, idleTimeoutMs: 1000, maxConnections: 8 });
  {
    const deep = `{"name":"deep","custom_metadata":${'{"a":'.repeat(4399)}{}${'}'.repeat(4399)}}`;
    const res = await t.api('POST', '/artifacts', deep);
    const list = await t.api('GET', '/artifacts');
    row('3 custom_metadata nested 4,400 levels', {
      status: res.status,
      body: res.body,
      listStatus: list.status,
    });
  }
  {
    const dir = mkdtempSync(join(tmpdir(), 'probe-secret-'));
    writeFileSync(join(dir, 'presign-secret'), 'not hex at all\n');
    let message = '';
    try {
      await createRegistry({ dataDir: dir, apiKey: 'k' });
    } catch (err) {
      message = (err as Error).message;
    }
    row('5 presign-secret holding text', { refused: message.replace(dir, '<data-dir>') });
  }
  {
    const res = await t.api('POST', '/artifacts', { name: 'nul', description: 'before\u0000after' });
    row('7 NUL in description', { status: res.status, body: res.body });
  }
  const auth = `Authorization: Token ${t.apiKey}\r\n`;
  row(
    'JSON body trickling 1 byte / 100 ms, --body-timeout 1',
    await raw(t, `POST /artifacts HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 1000\r\n\r\n{`, 100),
  );
  {
    const content = Buffer.alloc(10_000, 1);
    const binary = await createBinary(t, content, 'probe-idle');
    const part = await t.api<{ binary_part: { presigned_upload_url: string } }>(
      'PUT',
      `/binaries/${binary.prn}/parts/1`,
      {
        hash: sha256(content),
        size: content.length,
      },
    );
    const url = new URL(part.body.binary_part.presigned_upload_url);
    row(
      'upload silent after its headers, --idle-timeout 1',
      await raw(t, `PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\nab`),
    );
  }
  row(
    'unauthenticated POST announcing 1 MB, 8 bytes sent',
    await raw(t, 'POST /artifacts HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n{"name":'),
  );
  {
    const held = Array.from({ length: 8 }, () => connect(Number(new URL(t.baseUrl).port), '127.0.0.1'));
    for (const s of held) s.on('error', () => {});
    while ((await new Promise<number>((r) => t.registry.server.getConnections((_e, n) => r(n)))) < 8)
      await new Promise((r) => setImmediate(r));
    const surplus = await raw(t, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    for (const s of held) s.destroy();
    row('9th connection, --max-connections 8', surplus);
  }
  {
    const signed = (await signableBinary(t, Buffer.from('probe'), 'probe-403')) as { prn: string };
    const pending = (await createBinary(t, Buffer.from('pending'), 'probe-pending')) as { prn: string };
    const bad = `expires=9999999999&sig=${'0'.repeat(64)}`;
    const answers: Record<string, string> = {};
    for (const [name, id] of [
      ['signed', signed.prn.split(':').pop()],
      ['uploadable', pending.prn.split(':').pop()],
      ['missing', '00000000-0000-4000-8000-000000000000'],
    ] as const) {
      const res = await fetch(`${t.baseUrl}/_presigned/download/${id}?${bad}`);
      answers[name] = `${res.status} ${await res.text()}`;
    }
    row('download URL with a bad signature', answers);
  }
  {
    const res = await raw(
      t,
      `GET /binaries HTTP/1.1\r\nHost: evil.example/x?\r\n${auth}Connection: close\r\n\r\n`,
    );
    row('Host "evil.example/x?" without --public-url', res);
  }
  for (const [name, pem] of [
    ['RSA', generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey],
    ['P-256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey],
  ] as const) {
    const value = pem.export({ type: 'spki', format: 'pem' }).toString();
    const res = await t.api('POST', '/signing_keys', { name: `probe-${name}`, value });
    row(`signing key value: ${name} public key`, { status: res.status, body: res.body });
  }
  await t.close();

  const dataDir = join(mkdtempSync(join(tmpdir(), 'probe-modes-')), 'data');
  const child = spawn(
    process.execPath,
    ['dist/registry/index.js', 'serve', '--port', '0', '--data-dir', dataDir],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  await new Promise<void>((resolve) =>
    child.stdout.on('data', (c) => /listening/.test(String(c)) && resolve()),
  );
  const modes: Record<string, string> = { '.': (statSync(dataDir).mode & 0o777).toString(8) };
  for (const entry of readdirSync(dataDir, { withFileTypes: true }))
    modes[entry.name] = (statSync(join(dataDir, entry.name)).mode & 0o777).toString(8);
  child.kill('SIGTERM');
  row('modes in a fresh data dir (bundled CLI)', modes);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
