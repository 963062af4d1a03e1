import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { readPeakRss } from './proc.js';

export interface BenchRegistry {
  baseUrl: string;
  apiKey: string;
  dataDir: string;
  pid: number;
  peakRss(): number;
  stop(): Promise<void>;
}

/**
 * The bundled registry (dist/registry/index.js) on a fresh data dir and a free port, as a user starts it.
 * Its own process, so its peak RSS is its own.
 */
export interface RegistryPlacement {
  /** A command the registry runs under, e.g. `ip netns exec NS` for the WAN link. */
  wrap?: string[];
  host?: string;
  publicUrl?: string;
  /** Variables over the bench's own, e.g. PERIDIO_REGISTRY_DATABASE_URL for PostgreSQL. */
  env?: Record<string, string>;
}

export async function startRegistry(
  root: string,
  dataDir: string,
  placement: RegistryPlacement = {},
): Promise<BenchRegistry> {
  await mkdir(dataDir, { recursive: true });
  const apiKey = randomBytes(24).toString('hex');
  const args = [join(root, 'dist/registry/index.js'), 'serve', '--port', '0', '--data-dir', dataDir];
  if (placement.host) args.push('--host', placement.host);
  if (placement.publicUrl) args.push('--public-url', placement.publicUrl);
  const [command, ...prefix] = [...(placement.wrap ?? []), process.execPath];
  const child = spawn(command, [...prefix, ...args], {
    env: { ...process.env, ...placement.env, PERIDIO_REGISTRY_API_KEY: apiKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => (stderr = (stderr + data.toString()).slice(-4000)));
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('registry did not start within 15 s')), 15_000);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}\n${stderr}`));
    };
    child.once('exit', (code) => fail(new Error(`registry exited with code ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /^peridio-registry listening on (http:\/\/\S+)$/.exec(line);
      if (!match) return;
      clearTimeout(timer);
      resolve(match[1]!);
    });
  });
  child.removeAllListeners('exit');
  child.stdout.resume();
  return {
    baseUrl,
    apiKey,
    dataDir,
    pid: child.pid!,
    peakRss: () => readPeakRss(child.pid!) ?? 0,
    stop: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

export async function api<T>(
  registry: Pick<BenchRegistry, 'baseUrl' | 'apiKey'>,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
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
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 500)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface SigningKey {
  privatePem: string;
  prn: string;
}

export async function registerSigningKey(registry: BenchRegistry): Promise<SigningKey> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const created = await api<{ signing_key: { prn: string } }>(registry, 'POST', '/signing_keys', {
    name: `bench-${randomBytes(4).toString('hex')}`,
    value: spki.subarray(spki.length - 32).toString('base64'),
  });
  return {
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    prn: created.signing_key.prn,
  };
}

/**
 * A binary whose one part is the whole file, and that part's presigned URL: what `curl -T` needs to put
 * the same bytes into the same registry with no client logic at all.
 */
export async function presignSinglePart(
  registry: Pick<BenchRegistry, 'baseUrl' | 'apiKey'>,
  file: { size: number; sha256Hex: string },
  name: string,
): Promise<{ binaryPrn: string; url: string }> {
  const { artifact } = await api<{ artifact: { prn: string } }>(registry, 'POST', '/artifacts', { name });
  const { artifact_version } = await api<{ artifact_version: { prn: string } }>(
    registry,
    'POST',
    '/artifact_versions',
    { artifact_prn: artifact.prn, version: '1.0.0' },
  );
  const { binary } = await api<{ binary: { prn: string } }>(registry, 'POST', '/binaries', {
    artifact_version_prn: artifact_version.prn,
    target: 'curl-floor',
    hash: file.sha256Hex,
    size: file.size,
  });
  const { binary_part } = await api<{ binary_part: { presigned_upload_url: string } }>(
    registry,
    'PUT',
    `/binaries/${binary.prn}/parts/1`,
    {
      binary_prn: binary.prn,
      index: 1,
      expected_binary_size: file.size,
      hash: file.sha256Hex,
      size: file.size,
    },
  );
  return { binaryPrn: binary.prn, url: binary_part.presigned_upload_url };
}

export interface ListedPart {
  index: number;
  state: string;
  size: number;
}

export async function listParts(registry: BenchRegistry, binaryPrn: string): Promise<ListedPart[]> {
  return (await api<{ binary_parts: ListedPart[] }>(registry, 'GET', `/binaries/${binaryPrn}/parts`))
    .binary_parts;
}

export async function findBinaryPrn(registry: BenchRegistry, target: string): Promise<string | undefined> {
  const search = encodeURIComponent(`target:'${target}'`);
  const page = await api<{ binaries: { prn: string; state: string }[] }>(
    registry,
    'GET',
    `/binaries?search=${search}`,
  );
  return page.binaries.find((b) => b.state !== 'destroyed')?.prn;
}
