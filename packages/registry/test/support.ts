/** In-process registry for the registry's own tests, plus an OpenAPI validator for response bodies. */
import './quiet-sqlite.js';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '@peridio-actions/core';
import { expectResponse } from '../../../test/contract/load.js';
import { createRegistry, type Registry, type RegistryOptions } from '../src/server.js';

const FIXTURES = new URL('../../../test/fixtures/peridio-docs/', import.meta.url).pathname;

/** The real signature vector of Peridio's getting-started guide (test/fixtures/README.md). */
export const HELLO = {
  content: readFileSync(join(FIXTURES, 'hello-binary.fw')),
  hash: '403ccc806332775b59558608031ce2656bfee95b32229bdd9aed5aab433af55b',
  checksum: 'QDzMgGMyd1tZVYYIAxziZWv+6VsyIpvdmu1aq0M69Vs=',
  keyValue: 'DIU8Zhf20Gr4n6vzDxCG2eupglynQ1Q6j19UKA4Mf88=',
  keyPem:
    '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEADIU8Zhf20Gr4n6vzDxCG2eupglynQ1Q6j19UKA4Mf88=\n-----END PUBLIC KEY-----\n',
  keyid: 'f29684f9defb0dd4e2823cba313eed2fb088c67a55f1ac39be71fddc6d0ccf93',
  signature:
    'EA9C0A0078B1DE6F814BCDADB0E5D91D9E6E58C5882DFE689F0518DB135E0966DF9F52D6162A13201CB733EDBFD2F0B384D67BDD8B058D9E9AA24DF632365905',
};

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface TestRegistry {
  registry: Registry;
  baseUrl: string;
  apiKey: string;
  dataDir: string;
  org: string;
  logger: ReturnType<typeof memoryLogger>;
  api<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse<T>>;
  close(options?: { keepData?: boolean }): Promise<void>;
}

export async function startTestRegistry(
  options: Partial<RegistryOptions> & { dataDir?: string } = {},
): Promise<TestRegistry> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'registry-test-'));
  const apiKey = options.apiKey ?? 'test-key';
  const logger = memoryLogger();
  const registry = await createRegistry({ logger, ...options, dataDir, apiKey });
  const { url } = await registry.listen(0);
  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(url + path, {
      method,
      headers: {
        authorization: `Token ${apiKey}`,
        'x-api-version': '2',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
  return {
    registry,
    baseUrl: url,
    apiKey,
    dataDir,
    org: registry.context.org,
    logger,
    api,
    async close({ keepData = false } = {}) {
      await registry.close();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Creates artifact → version → binary for `content`; returns the binary. */
export async function createBinary(
  t: TestRegistry,
  content: Buffer,
  target = 'aarch64-linux-gnu',
  version = '1.0.0',
) {
  const artifact = await t.api('POST', '/artifacts', { name: `fw-${target}-${version}-${Math.random()}` });
  const av = await t.api('POST', '/artifact_versions', { artifact_prn: artifact.body.artifact.prn, version });
  const binary = await t.api('POST', '/binaries', {
    artifact_version_prn: av.body.artifact_version.prn,
    hash: sha256(content),
    size: content.length,
    target,
    description: null,
    custom_metadata: null,
  });
  if (binary.status !== 201) throw new Error(JSON.stringify(binary.body));
  return binary.body.binary as {
    prn: string;
    state: string;
    hash: string;
    size: number;
    artifact_version_prn: string;
  };
}

/** Registers and uploads parts (split at partSize); returns the part PUT responses. */
export async function uploadParts(
  t: TestRegistry,
  binaryPrn: string,
  content: Buffer,
  partSize = 5_242_880,
  binarySize = content.length,
) {
  const results = [];
  const count = Math.max(1, Math.ceil(content.length / partSize));
  for (let i = 0; i < count; i++) {
    const bytes = content.subarray(i * partSize, Math.min(content.length, (i + 1) * partSize));
    const part = await t.api('PUT', `/binaries/${binaryPrn}/parts/${i + 1}`, {
      binary_prn: binaryPrn,
      index: i + 1,
      expected_binary_size: binarySize,
      hash: sha256(bytes),
      size: bytes.length,
    });
    if (part.status !== 201) throw new Error(JSON.stringify(part.body));
    const put = await fetch(part.body.binary_part.presigned_upload_url, {
      method: 'PUT',
      headers: {
        'content-type': 'application/octet-stream',
        'x-amz-checksum-sha256': createHash('sha256').update(bytes).digest('base64'),
      },
      body: bytes,
    });
    results.push({ part: part.body.binary_part, status: put.status, etag: put.headers.get('etag') });
    await put.arrayBuffer();
  }
  return results;
}

export async function waitForState(t: TestRegistry, binaryPrn: string, states: string[], timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await t.api('GET', `/binaries/${binaryPrn}`);
    if (states.includes(res.body.binary.state)) return res.body.binary;
    if (Date.now() > deadline) throw new Error(`binary stuck in ${res.body.binary.state}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Uploads and verifies: returns a signable binary. */
export async function signableBinary(t: TestRegistry, content: Buffer, target?: string, version?: string) {
  const binary = await createBinary(t, content, target, version);
  await uploadParts(t, binary.prn, content);
  await t.api('PATCH', `/binaries/${binary.prn}`, { prn: binary.prn, state: 'hashable' });
  await t.api('PATCH', `/binaries/${binary.prn}`, { prn: binary.prn, state: 'hashing' });
  return waitForState(t, binary.prn, ['signable']);
}

export function newKeyPair(): { privateKey: KeyObject; value: string; sign(hashHex: string): string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return {
    privateKey,
    value: der.subarray(12).toString('base64'),
    sign: (hashHex) => sign(null, Buffer.from(hashHex), privateKey).toString('hex').toUpperCase(),
  };
}

// ---- Contract validation -----------------------------------------------------------------------------

/**
 * Validates a response body against the project's contract (test/contract), which records Peridio's schemas
 * and the known places where real responses differ from the spec (the last part under 5 MiB,
 * `next_page: null`). Extra keys (`revision`, `keyid`, `presigned_upload_url`) are allowed by the schemas'
 * open objects anyway; tests assert them separately.
 */
export const expectSpec = expectResponse;
