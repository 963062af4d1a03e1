/**
 * The bundled `peridio-registry serve` (issue 18 and README claims): owner-only files, refusing to start on
 * a bad presign secret or a database from a newer version, SIGINT and a second signal.
 * Needs dist/registry/index.js (`node scripts/bundle.mjs registry`).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { startRegistry, type RegistryProcess } from '../../../test/helpers/registry-process.js';

const started: RegistryProcess[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((r) => r.kill('SIGKILL')));
});

async function start(options: Parameters<typeof startRegistry>[0] = {}) {
  const registry = await startRegistry(options);
  started.push(registry);
  return registry;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function api(r: RegistryProcess) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(r.baseUrl + path, {
      method,
      headers: { authorization: `Token ${r.apiKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}

async function binaryWithPart(r: RegistryProcess, content: Buffer) {
  const call = api(r);
  const artifact = (await call('POST', '/artifacts', { name: 'modes' })).body.artifact;
  const version = (await call('POST', '/artifact_versions', { artifact_prn: artifact.prn, version: '1.0.0' }))
    .body.artifact_version;
  const binary = (
    await call('POST', '/binaries', {
      artifact_version_prn: version.prn,
      hash: sha256(content),
      size: content.length,
      target: 'portable',
    })
  ).body.binary;
  const part = (
    await call('PUT', `/binaries/${binary.prn}/parts/1`, { hash: sha256(content), size: content.length })
  ).body.binary_part;
  return { binary, url: part.presigned_upload_url as string };
}

/** Every entry under dir with its permission bits. */
function modes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    out[path.slice(dir.length + 1)] = (statSync(path).mode & 0o777).toString(8);
  }
  return out;
}

describe('peridio-registry serve: hardening', () => {
  it('creates the data dir 0700 and everything in it owner-only (api-key, presign-secret, db, content)', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'registry-modes-')), 'data');
    const r = await start({ dataDir });
    const content = Buffer.from('owner only');
    const { binary, url } = await binaryWithPart(r, content);
    expect((await fetch(url, { method: 'PUT', body: content })).status).toBe(200);
    const call = api(r);
    await call('PATCH', `/binaries/${binary.prn}`, { state: 'hashable' });
    await call('PATCH', `/binaries/${binary.prn}`, { state: 'hashing' });
    await expect
      .poll(async () => (await call('GET', `/binaries/${binary.prn}`)).body.binary.state, { timeout: 10_000 })
      .toBe('signable');

    expect((statSync(dataDir).mode & 0o777).toString(8)).toBe('700');
    const found = modes(dataDir);
    for (const file of ['api-key', 'presign-secret', 'registry.db']) expect(found[file], file).toBe('600');
    const isFile = (path: string) => statSync(join(dataDir, path)).isFile();
    expect(Object.keys(found).filter((path) => path.startsWith('blobs/') && isFile(path))).toHaveLength(1);
    for (const [path, mode] of Object.entries(found)) {
      const isDir = statSync(join(dataDir, path)).isDirectory();
      expect(mode, path).toBe(isDir ? '700' : '600');
    }
  });

  it('refuses to start when presign-secret holds text, naming the file', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'registry-secret-'));
    writeFileSync(join(dataDir, 'presign-secret'), 'my secret passphrase\n');
    await expect(startRegistry({ dataDir, apiKey: 'k' })).rejects.toThrow(
      `exited ({"code":1,"signal":null}) before listening.\nstderr: peridio-registry: cannot start: ` +
        `${join(dataDir, 'presign-secret')} does not hold a presign secret`,
    );
  });

  it('refuses a database whose schema is newer than the code, and leaves it untouched', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'registry-newer-'));
    const db = new DatabaseSync(join(dataDir, 'registry.db'));
    db.exec('CREATE TABLE from_the_future (x); PRAGMA user_version = 999');
    db.close();
    await expect(startRegistry({ dataDir, apiKey: 'k' })).rejects.toThrow(
      /cannot start: database schema version 999 is newer than this peridio-registry supports \(\d+\)/,
    );
    const again = new DatabaseSync(join(dataDir, 'registry.db'));
    expect(again.prepare('PRAGMA user_version').get()).toEqual({ user_version: 999 });
    again.close();
  });

  it('SIGINT with nothing in flight exits 0', async () => {
    const r = await start({ apiKey: 'k' });
    await r.kill('SIGINT');
    expect(r.exited()).toEqual({ code: 0, signal: null });
    expect(r.output().stderr).toContain('SIGINT: finishing in-flight requests, then closing the database');
  });

  it('SIGINT waits for an in-flight upload; a second signal exits 1 at once', async () => {
    const r = await start({ apiKey: 'k' });
    const content = Buffer.alloc(100_000, 1);
    const { url } = await binaryWithPart(r, content);
    const target = new URL(url);
    const upload = request({
      method: 'PUT',
      host: target.hostname,
      port: target.port,
      path: target.pathname + target.search,
      headers: { 'content-length': content.length },
    });
    upload.on('error', () => {});
    upload.write(content.subarray(0, 1000));
    // In flight once the registry streams it to a temp file; waiting on that rather than on a sleep.
    await expect.poll(() => readdirSync(join(r.dataDir, 'tmp')).length, { timeout: 5_000 }).toBe(1);
    process.kill(r.pid, 'SIGINT');
    await expect
      .poll(() => r.output().stderr, { timeout: 5_000 })
      .toContain('SIGINT: finishing in-flight requests');
    expect(r.exited()).toBeUndefined();
    process.kill(r.pid, 'SIGINT');
    await expect.poll(() => r.exited(), { timeout: 5_000 }).toEqual({ code: 1, signal: null });
    expect(r.output().stderr).toContain('SIGINT again: exiting without waiting for in-flight requests');
    upload.destroy();
  });
});
