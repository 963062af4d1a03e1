/**
 * Raw HTTP against a registry process, for the bad-input, race, load and security suites. Requests go
 * through node:http so that paths reach the server exactly as written (`..`, `%2e%2e`, encoded slashes):
 * fetch would normalise them away before they could be tested.
 */
import { createHash, generateKeyPairSync, sign as edSign, type KeyObject } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { startRegistry } from '../helpers/registry-process.js';

export type Registry = Awaited<ReturnType<typeof startRegistry>>;

export interface Reply {
  status: number;
  text: string;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  json: any;
  headers: Record<string, string | string[] | undefined>;
  ms: number;
}

export interface RequestOptions {
  /** A JSON value to send, or a Buffer/string sent as is. */
  body?: unknown;
  /** `Token <key>` by default; null sends no Authorization header; a string is sent as the whole header. */
  auth?: string | null;
  headers?: Record<string, string>;
}

// Enough sockets for the load suite's 200 concurrent requests, reused across calls.
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** One request; `target` is a path (`/binaries`) on the registry or an absolute URL (presigned URLs). */
export function call(
  registry: Registry,
  method: string,
  target: string,
  options: RequestOptions = {},
): Promise<Reply> {
  const url = new URL(/^https?:/.test(target) ? target : registry.baseUrl);
  const path = /^https?:/.test(target) ? rawPathOf(target) : target;
  const raw =
    options.body === undefined
      ? undefined
      : Buffer.isBuffer(options.body) || typeof options.body === 'string'
        ? Buffer.from(options.body)
        : Buffer.from(JSON.stringify(options.body));
  const headers: Record<string, string> = { 'x-api-version': '2', ...options.headers };
  if (options.auth !== null) headers.authorization = options.auth ?? `Token ${registry.apiKey}`;
  if (raw) {
    headers['content-length'] = String(raw.length);
    headers['content-type'] ??= 'application/json';
  }
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({
          status: res.statusCode ?? 0,
          text,
          json,
          headers: res.headers,
          ms: performance.now() - started,
        });
      });
    });
    req.on('error', reject);
    req.end(raw);
  });
}

/** The path and query of an absolute URL, without the normalisation `new URL` applies. */
function rawPathOf(url: string): string {
  return url.replace(/^https?:\/\/[^/]+/, '') || '/';
}

/** Like `call`, but a non-2xx answer is a test failure naming the request. */
export async function ok(registry: Registry, method: string, target: string, body?: unknown): Promise<any> {
  const reply = await call(registry, method, target, { body });
  if (reply.status < 200 || reply.status > 299) {
    throw new Error(
      `${method} ${target.replace(/\?.*/, '')}: HTTP ${reply.status} ${reply.text.slice(0, 300)}`,
    );
  }
  return reply.json;
}

export interface TestKey {
  privateKey: KeyObject;
  privatePem: string;
  /** base64 of the raw 32-byte public key, as the registry stores it. */
  publicValue: string;
  signHash(hashHex: string): string;
}

export function makeKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return {
    privateKey,
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicValue: spki.subarray(spki.length - 32).toString('base64'),
    // What the Peridio CLI signs: the 64 ASCII characters of the lowercase hex hash; uppercase hex out.
    signHash: (hashHex) =>
      edSign(null, Buffer.from(hashHex, 'ascii'), privateKey).toString('hex').toUpperCase(),
  };
}

export async function registerKey(
  registry: Registry,
  key: TestKey,
  name = `key-${Date.now()}-${Math.random()}`,
) {
  const { signing_key } = await ok(registry, 'POST', '/signing_keys', { name, value: key.publicValue });
  return signing_key.prn as string;
}

export const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

export async function createArtifactVersion(registry: Registry, name: string, version = '1.0.0') {
  const { artifact } = await ok(registry, 'POST', '/artifacts', { name });
  const { artifact_version } = await ok(registry, 'POST', '/artifact_versions', {
    artifact_prn: artifact.prn,
    version,
  });
  return { artifactPrn: artifact.prn as string, versionPrn: artifact_version.prn as string };
}

export const PART_SIZE = 5_242_880;

/** Creates part records and PUTs their bytes to the presigned URLs; returns the URLs used. */
export async function uploadParts(registry: Registry, binaryPrn: string, content: Buffer): Promise<string[]> {
  const urls: string[] = [];
  const count = Math.max(1, Math.ceil(content.length / PART_SIZE));
  for (let index = 1; index <= count; index++) {
    const bytes = content.subarray((index - 1) * PART_SIZE, index * PART_SIZE);
    const { binary_part } = await ok(registry, 'PUT', `/binaries/${binaryPrn}/parts/${index}`, {
      binary_prn: binaryPrn,
      index,
      expected_binary_size: content.length,
      hash: sha256(bytes),
      size: bytes.length,
    });
    const put = await call(registry, 'PUT', binary_part.presigned_upload_url, {
      auth: null,
      body: bytes,
      headers: {
        'content-type': 'application/octet-stream',
        'x-amz-checksum-sha256': createHash('sha256').update(bytes).digest('base64'),
      },
    });
    if (put.status !== 200 && put.status !== 201)
      throw new Error(`part ${index} upload: HTTP ${put.status} ${put.text}`);
    urls.push(binary_part.presigned_upload_url);
  }
  return urls;
}

export async function waitForState(registry: Registry, binaryPrn: string, state: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { binary } = await ok(registry, 'GET', `/binaries/${binaryPrn}`);
    if (binary.state === state) return binary;
    if (Date.now() > deadline) throw new Error(`binary stayed ${binary.state}, expected ${state}`);
    await sleep(50);
  }
}

/**
 * The whole publish flow over the raw API, as the Peridio CLI does it: binary, parts, hashable → hashing,
 * wait for signable, sign. `sign: false` stops at signable.
 */
export async function publishRaw(
  registry: Registry,
  options: {
    versionPrn: string;
    target: string;
    content: Buffer;
    key?: TestKey;
    keyPrn?: string;
    sign?: boolean;
  },
) {
  const hash = sha256(options.content);
  const { binary } = await ok(registry, 'POST', '/binaries', {
    artifact_version_prn: options.versionPrn,
    target: options.target,
    hash,
    size: options.content.length,
    description: null,
    custom_metadata: null,
  });
  await uploadParts(registry, binary.prn, options.content);
  await ok(registry, 'PATCH', `/binaries/${binary.prn}`, { state: 'hashable' });
  await ok(registry, 'PATCH', `/binaries/${binary.prn}`, { state: 'hashing' });
  await waitForState(registry, binary.prn, 'signable');
  if (options.sign === false || !options.key || !options.keyPrn) return { prn: binary.prn as string, hash };
  await ok(registry, 'POST', '/binary_signatures', {
    binary_prn: binary.prn,
    signature: options.key.signHash(hash),
    signing_key_prn: options.keyPrn,
  });
  return { prn: binary.prn as string, hash };
}

/** Every item of a list endpoint, following next_page. */
export async function listAll(registry: Registry, collection: string, search?: string): Promise<any[]> {
  const items: any[] = [];
  let query = `limit=100${search ? `&search=${encodeURIComponent(search)}` : ''}`;
  for (;;) {
    const page = await ok(registry, 'GET', `/${collection}?${query}`);
    items.push(...page[collection]);
    if (!page.next_page) return items;
    query = `limit=100&page=${encodeURIComponent(page.next_page)}`;
  }
}

export function percentiles(samples: number[]): { p50: number; p95: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  const round = (n: number) => Math.round(n * 10) / 10;
  return { p50: round(at(0.5)), p95: round(at(0.95)), max: round(sorted[sorted.length - 1] ?? 0) };
}

/** One JSON line per scenario, copied into RELIABILITY.md. */
export function measurement(section: string, scenario: string, figures: Record<string, unknown>): void {
  console.log(JSON.stringify({ reliability: section, scenario, ...figures }));
}
