/**
 * The bundled `peridio-registry serve` as users run it: key handling, stdout lines, restarts, signals,
 * and a kill -9 in the middle of a part upload. Needs dist/registry/index.js (`node scripts/bundle.mjs registry`).
 */
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRegistry, type RegistryProcess } from '../../../test/helpers/registry-process.js';
import { HELLO, sha256 } from './support.js';

const started: RegistryProcess[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((r) => r.kill('SIGKILL')));
});

async function start(options: Parameters<typeof startRegistry>[0] = {}) {
  const registry = await startRegistry(options);
  started.push(registry);
  return registry;
}

function client(r: RegistryProcess) {
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

async function binaryFor(r: RegistryProcess, content: Buffer, target = 'portable') {
  const api = client(r);
  const artifact = (await api('POST', '/artifacts', { name: `a-${target}` })).body.artifact;
  const version = (await api('POST', '/artifact_versions', { artifact_prn: artifact.prn, version: '1.0.0' }))
    .body.artifact_version;
  return (
    await api('POST', '/binaries', {
      artifact_version_prn: version.prn,
      hash: sha256(content),
      size: content.length,
      target,
    })
  ).body.binary;
}

async function poll(r: RegistryProcess, prn: string, state: string) {
  const api = client(r);
  for (let i = 0; i < 200; i++) {
    const binary = (await api('GET', `/binaries/${prn}`)).body.binary;
    if (binary.state === state) return binary;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error(`binary did not become ${state}`);
}

/** Starts a PUT that sends `first` bytes of `body` and waits; returns a function that sends the rest. */
function partialPut(url: string, body: Buffer, first: number) {
  const target = new URL(url);
  const req = request({
    method: 'PUT',
    hostname: target.hostname,
    port: target.port,
    path: target.pathname + target.search,
    headers: { 'content-length': body.length },
  });
  const status = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
  req.write(body.subarray(0, first));
  return {
    status,
    finish: () => req.end(body.subarray(first)),
    abandon: () => req.destroy(),
  };
}

describe('peridio-registry serve (bundled)', () => {
  it('generates an API key on first start, prints it once, stores it; the env key wins', async () => {
    const env = { PERIDIO_REGISTRY_API_KEY: '' };
    const first = await start({ env });
    const { stdout } = first.output();
    expect(stdout).toMatch(/^peridio-registry api key: prk_\S+ \(stored in .*api-key\)$/m);
    expect(stdout.match(/^peridio-registry listening on http:\/\/127\.0\.0\.1:\d+$/gm)).toHaveLength(1);
    expect(readFileSync(join(first.dataDir, 'api-key'), 'utf8').trim()).toBe(first.apiKey);
    expect((await client(first)('GET', '/artifacts')).status).toBe(200);
    await first.stop();
    expect(first.exited()).toEqual({ code: 0, signal: null });

    const second = await start({ dataDir: first.dataDir, env });
    expect(second.output().stdout).not.toContain('api key');
    expect(second.apiKey).toBe(first.apiKey);
    await second.stop();

    const third = await start({ dataDir: first.dataDir, apiKey: 'from-env' });
    expect(third.output().stdout).not.toContain('api key');
    expect((await client(third)('GET', '/artifacts')).status).toBe(200);
    expect(
      (await fetch(`${third.baseUrl}/artifacts`, { headers: { authorization: `Token ${first.apiKey}` } }))
        .status,
    ).toBe(401);
    // stderr carries the request log, never the key, and no SQLite ExperimentalWarning. The log line is
    // written when the response has finished, which a loaded machine may deliver after the client has it.
    const deadline = Date.now() + 10_000;
    while (!third.output().stderr.includes('status=200') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const { stderr } = third.output();
    expect(stderr).toContain('method=GET path=/artifacts status=200');
    expect(stderr).not.toContain('from-env');
    expect(stderr).not.toContain('ExperimentalWarning');
  });

  it('keeps records and content across a restart, and resumes a binary left in hashing', async () => {
    const r1 = await start({ apiKey: 'k', env: { PERIDIO_REGISTRY_HASHING_DELAY_MS: '60000' } });
    const api1 = client(r1);
    const binary = await binaryFor(r1, HELLO.content);
    const part = (
      await api1('PUT', `/binaries/${binary.prn}/parts/1`, {
        hash: HELLO.hash,
        size: 14,
        expected_binary_size: 14,
      })
    ).body.binary_part;
    expect((await fetch(part.presigned_upload_url, { method: 'PUT', body: HELLO.content })).status).toBe(200);
    await api1('PATCH', `/binaries/${binary.prn}`, { state: 'hashable' });
    await api1('PATCH', `/binaries/${binary.prn}`, { state: 'hashing' });
    // The presigned URL's token must not reach the log.
    expect(r1.output().stderr).toMatch(/path=\/_presigned\/parts\/[0-9a-f-]+\/1\?\*\*\* status=200/);
    expect(r1.output().stderr).not.toMatch(/sig=[0-9a-f]/);
    await r1.stop();
    expect(r1.exited()?.code).toBe(0);

    const r2 = await start({ dataDir: r1.dataDir, apiKey: 'k' });
    const signable = await poll(r2, binary.prn, 'signable');
    expect(signable.hash).toBe(HELLO.hash);
    const api2 = client(r2);
    const key = (await api2('POST', '/signing_keys', { name: 'demo', value: HELLO.keyValue })).body
      .signing_key;
    expect(
      (
        await api2('POST', '/binary_signatures', {
          binary_prn: binary.prn,
          signing_key_prn: key.prn,
          signature: HELLO.signature,
        })
      ).status,
    ).toBe(201);
    await r2.stop();

    const r3 = await start({ dataDir: r1.dataDir, apiKey: 'k' });
    const api3 = client(r3);
    const after = (await api3('GET', `/binaries/${binary.prn}`)).body.binary;
    expect(after).toMatchObject({
      state: 'signed',
      hash: HELLO.hash,
      signatures: [{ signing_key_prn: key.prn }],
    });
    const url = (await api3('GET', `/binaries/${binary.prn}/download_url`)).body.download_url;
    expect(Buffer.from(await (await fetch(url)).arrayBuffer()).equals(HELLO.content)).toBe(true);
  });

  it('on SIGTERM lets an in-flight upload finish, then exits 0', async () => {
    const r = await start({ apiKey: 'k' });
    const content = Buffer.alloc(200_000, 3);
    const binary = await binaryFor(r, content);
    const part = (
      await client(r)('PUT', `/binaries/${binary.prn}/parts/1`, {
        hash: sha256(content),
        size: content.length,
      })
    ).body.binary_part;
    const upload = partialPut(part.presigned_upload_url, content, 100_000);
    // In flight once the registry streams it to a temp file (a sleep would only guess).
    await expect.poll(() => readdirSync(join(r.dataDir, 'tmp')).length).toBe(1);
    process.kill(r.pid, 'SIGTERM');
    await expect.poll(() => r.output().stderr).toContain('SIGTERM: finishing in-flight requests');
    expect(r.exited()).toBeUndefined();
    upload.finish();
    expect(await upload.status).toBe(200);
    for (let i = 0; i < 100 && !r.exited(); i++) await new Promise((res) => setTimeout(res, 50));
    expect(r.exited()).toEqual({ code: 0, signal: null });

    const again = await start({ dataDir: r.dataDir, apiKey: 'k' });
    const parts = (await client(again)('GET', `/binaries/${binary.prn}/parts`)).body.binary_parts;
    expect(parts).toMatchObject([{ index: 1, state: 'valid' }]);
  });

  it('a kill -9 in the middle of a part upload leaves no valid part, and the upload can be redone', async () => {
    const r = await start({ apiKey: 'k' });
    const content = Buffer.alloc(300_000, 9);
    const binary = await binaryFor(r, content);
    const part = (
      await client(r)('PUT', `/binaries/${binary.prn}/parts/1`, {
        hash: sha256(content),
        size: content.length,
      })
    ).body.binary_part;
    const upload = partialPut(part.presigned_upload_url, content, 150_000);
    upload.status.catch(() => undefined);
    // The half-written temp file: the registry holds part of the body.
    await expect.poll(() => readdirSync(join(r.dataDir, 'tmp')).length).toBe(1);
    await r.kill('SIGKILL');
    upload.abandon();

    const again = await start({ dataDir: r.dataDir, apiKey: 'k' });
    const api = client(again);
    const parts = (await api('GET', `/binaries/${binary.prn}/parts`)).body.binary_parts;
    expect(parts).toMatchObject([{ index: 1, state: 'uploadable' }]);
    expect(readdirSync(join(again.dataDir, 'tmp'))).toEqual([]);
    expect(existsSync(join(again.dataDir, 'parts', binary.prn.split(':').pop()))).toBe(false);
    expect((await api('PATCH', `/binaries/${binary.prn}`, { state: 'hashable' })).status).toBe(422);

    const fresh = (
      await api('PUT', `/binaries/${binary.prn}/parts/1`, { hash: sha256(content), size: content.length })
    ).body.binary_part;
    expect((await fetch(fresh.presigned_upload_url, { method: 'PUT', body: content })).status).toBe(200);
    expect((await api('PATCH', `/binaries/${binary.prn}`, { state: 'hashable' })).status).toBe(200);
  });

  it('runs through the package bin, which loads the bundle', () => {
    const bin = new URL('../bin/peridio-registry.js', import.meta.url).pathname;
    const out = execFileSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(out).toContain('Usage: npx peridio-registry serve');
  });

  it('refuses bad arguments with usage on stderr', async () => {
    await expect(start({ args: ['--port', 'x'] })).rejects.toThrow(/--port must be an integer/);
  });
});
