/**
 * What the end-to-end tests share: a registry process, an Ed25519 key registered in it, files of known
 * content, and a plain fetch-based view of the registry's records. The checks read the registry through
 * its HTTP API directly, not through the client under test.
 */
import { createHash, generateKeyPairSync, randomBytes, verify, createPublicKey } from 'node:crypto';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type RegistryProcess } from '../helpers/registry-process.js';

export interface TestKey {
  privatePem: string;
  publicPem: string;
  /** base64 of the raw 32-byte public key: what Peridio stores as `signing_key.value`. */
  publicValue: string;
  prn: string;
}

export interface Scene {
  registry: RegistryProcess;
  key: TestKey;
  dir: string;
  api<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

export async function startScene(
  options: { env?: Record<string, string>; args?: string[] } = {},
): Promise<Scene> {
  const registry = await startRegistry({ env: options.env, args: options.args });
  const api = async <T>(method: string, path: string, body?: unknown) => {
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
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
  };
  const key = await registerNewKey(api, 'release key');
  return {
    registry,
    key,
    dir: mkdtempSync(join(tmpdir(), 'peridio-e2e-')),
    api,
    stop: () => registry.stop(),
  };
}

export function newKeyPair(): Omit<TestKey, 'prn'> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return {
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    publicValue: spki.subarray(-32).toString('base64'),
  };
}

export async function registerNewKey(api: Scene['api'], name: string): Promise<TestKey> {
  const pair = newKeyPair();
  const { status, body } = await api<{ signing_key: { prn: string } }>('POST', '/signing_keys', {
    name,
    value: pair.publicValue,
  });
  if (status !== 201)
    throw new Error(`registering the signing key failed: ${status} ${JSON.stringify(body)}`);
  return { ...pair, prn: body.signing_key.prn };
}

export interface TestFile {
  path: string;
  size: number;
  sha256: string;
}

/** Random content, written in chunks so that a multi-part file does not sit in memory twice. */
export async function writeTestFile(dir: string, name: string, size: number): Promise<TestFile> {
  const path = join(dir, name);
  const out = createWriteStream(path);
  const hash = createHash('sha256');
  for (let left = size; left > 0;) {
    const chunk = randomBytes(Math.min(left, 1 << 20));
    hash.update(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
    left -= chunk.length;
  }
  out.end();
  await once(out, 'finish');
  return { path, size, sha256: hash.digest('hex') };
}

/** Peridio's signature check: Ed25519 over the 64 ASCII characters of the lowercase hex hash. */
export function signatureVerifies(hashHex: string, signatureHex: string, publicPem: string): boolean {
  return verify(
    null,
    Buffer.from(hashHex, 'ascii'),
    createPublicKey(publicPem),
    Buffer.from(signatureHex, 'hex'),
  );
}

export async function downloadSha256(scene: Scene, binaryPrn: string): Promise<string> {
  const { body } = await scene.api<{ download_url: string }>('GET', `/binaries/${binaryPrn}/download_url`);
  const response = await fetch(body.download_url);
  if (!response.ok || !response.body) throw new Error(`download failed: ${response.status}`);
  const hash = createHash('sha256');
  for await (const chunk of response.body) hash.update(chunk);
  return hash.digest('hex');
}

export interface BinaryRecord {
  prn: string;
  state: string;
  hash: string | null;
  size: number | null;
  target: string;
  custom_metadata: Record<string, unknown> | null;
  signatures: { signature: string; signing_key_prn: string }[] | null;
}

export async function getBinary(scene: Scene, prn: string): Promise<BinaryRecord> {
  return (await scene.api<{ binary: BinaryRecord }>('GET', `/binaries/${prn}`)).body.binary;
}

/** Standard inputs of publish-binary against the scene's registry. */
export function publishInputs(
  scene: Scene,
  file: TestFile,
  inputs: Record<string, string> = {},
): Record<string, string> {
  return {
    'api-key': scene.registry.apiKey,
    'base-url': scene.registry.baseUrl,
    artifact: 'firmware',
    target: 'aarch64-linux-gnu',
    file: file.path,
    'signing-key-private': scene.key.privatePem,
    ...inputs,
  };
}
