/**
 * Shared set-up of the reliability scenarios: a real registry process, the fault proxy in front of it,
 * a registered Ed25519 signing key, test files, a run of the bundled publish-binary action through the
 * proxy, and the checks every scenario ends with (what the registry serves back is the file, and the
 * only signature is over the file's hash).
 */
import { createHash, generateKeyPairSync, randomBytes, verify, createPublicKey } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { expect } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { startRegistry } from '../helpers/registry-process.js';
import { runAction } from '../helpers/run-action.js';

export const MiB = 1024 * 1024;
export const PART_SIZE = 5_242_880;
/** 11 MiB with 5 MiB parts: two full parts and a short last one. */
const FILE_SIZE = 11 * MiB;

/** Part uploads to the presigned URL of part `index`, and part creation in the Admin API. */
export const presignedPart = (index: number): RegExp => new RegExp(`^/_presigned/parts/[^/]+/${index}\\?`);
export const CREATE_PART = /^\/binaries\/[^/]+\/parts\/\d+$/;

export type Registry = Awaited<ReturnType<typeof startRegistry>>;

interface SigningKey {
  privatePem: string;
  publicValue: string;
  prn: string;
}

export interface TestFile {
  path: string;
  size: number;
  sha256: string;
}

export interface Scene {
  dir: string;
  registry: Registry;
  proxy: FaultProxy;
  key: SigningKey;
  /** Restarts the registry on the same data dir (after a crash) and points the proxy at it. */
  restartRegistry(options?: { env?: Record<string, string>; args?: string[] }): Promise<Registry>;
  close(): Promise<void>;
}

export async function startScene(
  options: { env?: Record<string, string>; args?: string[] } = {},
): Promise<Scene> {
  const dir = await mkdtemp(join(tmpdir(), 'peridio-reliability-'));
  const dataDir = join(dir, 'registry');
  const scene = {} as Scene;
  scene.dir = dir;
  scene.registry = await startRegistry({ dataDir, env: options.env, args: options.args });
  scene.proxy = await startFaultProxy({ target: scene.registry.baseUrl });
  scene.key = await registerSigningKey(scene.registry);
  scene.restartRegistry = async (restart = options) => {
    scene.registry = await startRegistry({
      dataDir,
      apiKey: scene.registry.apiKey,
      env: restart.env,
      args: restart.args,
    });
    scene.proxy.setTarget(scene.registry.baseUrl);
    return scene.registry;
  };
  scene.close = async () => {
    await scene.proxy.close();
    await scene.registry.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  return scene;
}

export async function api<T>(registry: Registry, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${registry.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Token ${registry.apiKey}`,
      'x-api-version': '2',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function registerSigningKey(registry: Registry): Promise<SigningKey> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const publicValue = spki.subarray(spki.length - 32).toString('base64');
  const created = await api<{ signing_key: { prn: string } }>(registry, 'POST', '/signing_keys', {
    name: `reliability-${randomBytes(4).toString('hex')}`,
    value: publicValue,
  });
  return {
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicValue,
    prn: created.signing_key.prn,
  };
}

/** Writes `size` random bytes (streamed, hashed on the way) and returns the file's SHA-256. */
export async function makeFile(dir: string, name: string, size = FILE_SIZE): Promise<TestFile> {
  const path = join(dir, name);
  const out = createWriteStream(path);
  const hash = createHash('sha256');
  for (let written = 0; written < size;) {
    const chunk = randomBytes(Math.min(MiB, size - written));
    hash.update(chunk);
    written += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { path, size, sha256: hash.digest('hex') };
}

export interface PublishRun {
  code: number;
  signal: NodeJS.Signals | null;
  outputs: Record<string, string>;
  summary: string;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Runs the bundled publish-binary action against the proxy, as a runner would. */
export async function publish(
  scene: Scene,
  file: TestFile,
  options: {
    target: string;
    version?: string;
    inputs?: Record<string, string>;
    timeoutMs?: number;
    /** Aborting kills the action (SIGKILL), as a crashed runner would end. */
    signal?: AbortSignal;
    /** Extra environment of the action (test hooks such as PERIDIO_ACTIONS_RETRY_MAX_DELAY_MS). */
    env?: Record<string, string>;
  },
): Promise<PublishRun> {
  const started = Date.now();
  const result = await runAction(
    'publish-binary',
    {
      'base-url': scene.proxy.url,
      'api-key': scene.registry.apiKey,
      artifact: 'reliability',
      version: options.version ?? '1.0.0',
      target: options.target,
      file: file.path,
      'part-size': String(PART_SIZE),
      'signing-key-private': scene.key.privatePem,
      'signing-key-prn': scene.key.prn,
      ...options.inputs,
    },
    { timeoutMs: options.timeoutMs ?? 60_000, signal: options.signal, env: options.env },
  );
  return { ...result, durationMs: Date.now() - started };
}

interface BinaryRecord {
  prn: string;
  state: string;
  hash: string | null;
  size: number | null;
  target: string;
  signatures: { signature: string; signing_key_prn: string }[] | null;
}

export async function findBinary(registry: Registry, target: string): Promise<BinaryRecord | undefined> {
  const search = encodeURIComponent(`target:'${target}'`);
  const page = await api<{ binaries: BinaryRecord[] }>(
    registry,
    'GET',
    `/binaries?search=${search}&limit=100`,
  );
  return page.binaries.find((b) => b.state !== 'destroyed');
}

/**
 * The end state every successful scenario must reach: the binary is signed, its hash and size are the
 * file's, each signature verifies over the file's hash with the registered key, and the bytes the
 * registry serves at the download URL hash to the file's SHA-256.
 */
export async function expectPublished(scene: Scene, target: string, file: TestFile): Promise<BinaryRecord> {
  const binary = await findBinary(scene.registry, target);
  expect(binary, `a binary for ${target}`).toBeDefined();
  expect(binary).toMatchObject({ state: 'signed', hash: file.sha256, size: file.size });
  await expectSignaturesOverHash(scene, binary!, file.sha256);
  // One run's worth of signing, however many times a call was retried.
  expect(binary!.signatures).toHaveLength(1);
  const { download_url } = await api<{ download_url: string }>(
    scene.registry,
    'GET',
    `/binaries/${binary!.prn}/download_url`,
  );
  expect(await sha256OfUrl(download_url)).toBe(file.sha256);
  return binary!;
}

/** A binary is never signed over content other than `sha256`: every signature on it verifies over that hash. */
export async function expectSignaturesOverHash(
  scene: Scene,
  binary: BinaryRecord,
  sha256: string,
): Promise<void> {
  expect(binary.hash).toBe(sha256);
  const key = createPublicKey({
    key: Buffer.concat([
      Buffer.from('302a300506032b6570032100', 'hex'),
      Buffer.from(scene.key.publicValue, 'base64'),
    ]),
    format: 'der',
    type: 'spki',
  });
  for (const signature of binary.signatures ?? []) {
    expect(verify(null, Buffer.from(sha256, 'ascii'), key, Buffer.from(signature.signature, 'hex'))).toBe(
      true,
    );
  }
}

async function sha256OfUrl(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  const hash = createHash('sha256');
  for await (const chunk of response.body!) hash.update(chunk);
  return hash.digest('hex');
}

/** Body bytes sent to presigned part URLs, per part index. */
/** Part bytes sent beyond the file's size: what faults cost in re-sending. */
export function bytesResent(proxy: FaultProxy, file: TestFile): number {
  return Object.values(partBytes(proxy)).reduce((sum, n) => sum + n, 0) - file.size;
}

export function partBytes(proxy: FaultProxy): Record<number, number> {
  const perPart: Record<number, number> = {};
  for (const request of proxy.stats.requests) {
    const match = /^\/_presigned\/parts\/[^/]+\/(\d+)\?/.exec(request.path);
    if (request.method !== 'PUT' || !match) continue;
    perPart[Number(match[1])] = (perPart[Number(match[1])] ?? 0) + request.bytesIn;
  }
  return perPart;
}

/** Requests that matched `path` and got `status` from the proxy or registry (retries seen by the client). */
export function countRequests(proxy: FaultProxy, method: string, path: RegExp): number {
  return proxy.stats.requests.filter((r) => r.method === method && path.test(r.path)).length;
}

/** One JSON line per scenario, copied into RELIABILITY.md. */
export function reportMeasurement(scenario: string, figures: Record<string, unknown>): void {
  console.log(JSON.stringify({ reliability: 'faults', scenario, ...figures }));
}
