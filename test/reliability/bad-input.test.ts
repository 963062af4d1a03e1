/**
 * Bad input, table-driven: each row is one wrong value given to a bundled action or to the registry's
 * Admin API. Each must fail with an error that names the input or field, and must leave nothing behind
 * that blocks a correct retry: right after it, the correct call for the same artifact/target succeeds.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry } from '../helpers/registry-process.js';
import { errorAnnotations, runAction, type ActionName } from '../helpers/run-action.js';
import {
  call,
  createArtifactVersion,
  makeKey,
  measurement,
  ok,
  PART_SIZE,
  publishRaw,
  registerKey,
  sha256,
  uploadParts,
  type Registry,
  type TestKey,
} from './registry-api.js';

let dir: string;
let registry: Registry;
let key: TestKey;
let keyPrn: string;
let otherKeyPrn: string;
let versionPrn: string;
let file: string;
let fileHash: string;
let fileBytes: Buffer;
const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ format: 'pem', type: 'pkcs8' })
  .toString();
const p256Pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ format: 'pem', type: 'pkcs8' })
  .toString();
// RSA and P-256 keys are accepted (registry extension); under 2048 bits and other curves are not.
const rsa1024PublicPem = generateKeyPairSync('rsa', { modulusLength: 1024 })
  .publicKey.export({ format: 'pem', type: 'spki' })
  .toString();
const p384PublicPem = generateKeyPairSync('ec', { namedCurve: 'P-384' })
  .publicKey.export({ format: 'pem', type: 'spki' })
  .toString();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'peridio-bad-input-'));
  registry = await startRegistry({ dataDir: join(dir, 'registry') });
  key = makeKey();
  keyPrn = await registerKey(registry, key, 'bad-input key');
  otherKeyPrn = await registerKey(registry, makeKey(), 'another key');
  ({ versionPrn } = await createArtifactVersion(registry, 'bad-input', '1.0.0'));
  fileBytes = randomBytes(1024);
  file = join(dir, 'firmware.bin');
  await writeFile(file, fileBytes);
  fileHash = sha256(fileBytes);
});

afterAll(async () => {
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------
// Admin API rows: raw HTTP, the field named in the 422 body (or the detail text), then the correct request.

interface ApiRow {
  name: string;
  /** Sends the bad request; returns the correct request to retry with. */
  bad(): Promise<{
    reply: Awaited<ReturnType<typeof call>>;
    retry: () => Promise<Awaited<ReturnType<typeof call>>>;
  }>;
  status: number;
  /** The field the error must name: a key of `errors`, or a word of the detail. */
  field: string;
  /** What the error must also say, where a generic "is invalid" would not tell the user what to fix. */
  says?: RegExp;
}

const post = (path: string, body: unknown) => call(registry, 'POST', path, { body });
const binaryBody = (target: string, extra: Record<string, unknown> = {}) => ({
  artifact_version_prn: versionPrn,
  target,
  hash: fileHash,
  size: 1024,
  description: null,
  custom_metadata: null,
  ...extra,
});
const badBinary = (target: string, extra: Record<string, unknown>) => async () => ({
  reply: await post('/binaries', binaryBody(target, extra)),
  retry: () => post('/binaries', binaryBody(target)),
});
const badArtifact =
  (body: unknown, raw = false) =>
  async () => ({
    reply: await call(registry, 'POST', '/artifacts', { body: raw ? String(body) : body }),
    retry: () => post('/artifacts', { name: `artifact-${randomBytes(4).toString('hex')}` }),
  });
const badKey = (value: unknown) => async () => ({
  reply: await post('/signing_keys', { name: 'bad key', value }),
  retry: () => post('/signing_keys', { name: 'good key', value: makeKey().publicValue }),
});
/** A fresh signable binary, then a bad signature, then the right one. */
const badSignature =
  (target: string, signature: (hash: string) => string, signingKeyPrn?: () => string) => async () => {
    const content = randomBytes(512);
    const { prn, hash } = await publishRaw(registry, { versionPrn, target, content, sign: false });
    return {
      reply: await post('/binary_signatures', {
        binary_prn: prn,
        signature: signature(hash),
        signing_key_prn: signingKeyPrn?.() ?? keyPrn,
      }),
      retry: () =>
        post('/binary_signatures', {
          binary_prn: prn,
          signature: key.signHash(hash),
          signing_key_prn: keyPrn,
        }),
    };
  };
/** A fresh uploadable binary of two parts, then a bad part create, then the right one. */
const badPart =
  (target: string, index: string, part: Record<string, unknown>, before?: (prn: string) => Promise<void>) =>
  async () => {
    const size = PART_SIZE + 100;
    const { binary } = await ok(
      registry,
      'POST',
      '/binaries',
      binaryBody(target, { size, hash: sha256('whatever') }),
    );
    await before?.(binary.prn);
    const good = { expected_binary_size: size, hash: sha256(Buffer.alloc(PART_SIZE)), size: PART_SIZE };
    return {
      reply: await call(registry, 'PUT', `/binaries/${binary.prn}/parts/${index}`, {
        body: { ...good, ...part },
      }),
      retry: () => call(registry, 'PUT', `/binaries/${binary.prn}/parts/1`, { body: good }),
    };
  };

const apiRows: ApiRow[] = [
  {
    name: 'artifact name over 128 characters',
    bad: badArtifact({ name: 'n'.repeat(129) }),
    status: 422,
    field: 'name',
  },
  {
    name: 'artifact name of the wrong type (number)',
    bad: badArtifact({ name: 42 }),
    status: 422,
    field: 'name',
  },
  {
    name: 'artifact without a name',
    bad: badArtifact({ description: 'no name' }),
    status: 422,
    field: 'name',
  },
  {
    name: 'custom_metadata over 1 MB',
    bad: badArtifact({ name: 'big-metadata', custom_metadata: { blob: 'x'.repeat(1_000_001) } }),
    status: 422,
    field: 'custom_metadata',
  },
  {
    name: 'custom_metadata not an object',
    bad: badArtifact({ name: 'md-string', custom_metadata: '{"a":1}' }),
    status: 422,
    field: 'custom_metadata',
  },
  { name: 'body not JSON', bad: badArtifact('{"name": "unterminated', true), status: 400, field: 'JSON' },
  {
    name: 'artifact_prn malformed',
    bad: async () => {
      const { artifact } = await ok(registry, 'POST', '/artifacts', { name: 'av-retry' });
      return {
        reply: await post('/artifact_versions', {
          artifact_prn: 'prn:1:not-a-uuid:artifact:x',
          version: '1.0.0',
        }),
        retry: () => post('/artifact_versions', { artifact_prn: artifact.prn, version: '1.0.0' }),
      };
    },
    status: 422,
    field: 'artifact_prn',
  },
  {
    name: 'version over 128 characters',
    bad: async () => {
      const { artifact } = await ok(registry, 'POST', '/artifacts', { name: 'long-version' });
      return {
        reply: await post('/artifact_versions', { artifact_prn: artifact.prn, version: '1'.repeat(129) }),
        retry: () => post('/artifact_versions', { artifact_prn: artifact.prn, version: '1.0.0' }),
      };
    },
    status: 422,
    field: 'version',
  },
  {
    name: 'binary size negative',
    bad: badBinary('api-size-negative', { size: -1 }),
    status: 422,
    field: 'size',
  },
  {
    name: 'binary size absurd (1e20)',
    bad: badBinary('api-size-absurd', { size: 1e20 }),
    status: 422,
    field: 'size',
  },
  {
    name: 'binary size one byte over 10,000 × 5 GiB',
    bad: badBinary('api-size-over-max', { size: 53_687_091_200_001 }),
    status: 422,
    field: 'size',
  },
  {
    name: 'binary size not an integer (1.5)',
    bad: badBinary('api-size-fraction', { size: 1.5 }),
    status: 422,
    field: 'size',
  },
  {
    name: 'binary size as a string',
    bad: badBinary('api-size-string', { size: '1024' }),
    status: 422,
    field: 'size',
  },
  {
    name: 'hash of 63 characters',
    bad: badBinary('api-hash-short', { hash: fileHashLater(63) }),
    status: 422,
    field: 'hash',
  },
  {
    name: 'hash of 65 characters',
    bad: badBinary('api-hash-long', { hash: fileHashLater(65) }),
    status: 422,
    field: 'hash',
  },
  {
    name: 'hash outside the hex alphabet',
    bad: badBinary('api-hash-alphabet', { hash: 'g'.repeat(64) }),
    status: 422,
    field: 'hash',
  },
  {
    name: 'target over 128 characters',
    bad: async () => ({
      reply: await post('/binaries', binaryBody('t'.repeat(129))),
      retry: () => post('/binaries', binaryBody('t'.repeat(128))),
    }),
    status: 422,
    field: 'target',
  },
  {
    name: 'artifact_version_prn of the wrong type',
    bad: async () => ({
      reply: await post('/binaries', binaryBody('api-wrong-prn-type', { artifact_version_prn: keyPrn })),
      retry: () => post('/binaries', binaryBody('api-wrong-prn-type')),
    }),
    status: 422,
    field: 'artifact_version_prn',
  },
  {
    name: 'unknown target state (PATCH state "frozen")',
    bad: async () => {
      const { binary } = await ok(registry, 'POST', '/binaries', binaryBody('api-state-unknown'));
      return {
        reply: await call(registry, 'PATCH', `/binaries/${binary.prn}`, { body: { state: 'frozen' } }),
        retry: async () => {
          await uploadParts(registry, binary.prn, fileBytes);
          return call(registry, 'PATCH', `/binaries/${binary.prn}`, { body: { state: 'hashable' } });
        },
      };
    },
    status: 422,
    field: 'state',
  },
  {
    name: 'illegal state transition (uploadable → signed)',
    bad: async () => {
      const { binary } = await ok(registry, 'POST', '/binaries', binaryBody('api-state-illegal'));
      return {
        reply: await call(registry, 'PATCH', `/binaries/${binary.prn}`, { body: { state: 'signed' } }),
        retry: () =>
          call(registry, 'PATCH', `/binaries/${binary.prn}`, { body: { description: 'still uploadable' } }),
      };
    },
    status: 422,
    field: 'state',
  },
  { name: 'part index 0', bad: badPart('api-part-0', '0', {}), status: 422, field: 'index' },
  { name: 'part index 10001', bad: badPart('api-part-10001', '10001', {}), status: 422, field: 'index' },
  {
    name: 'part size below 5 MiB for a part that is not the last',
    bad: badPart('api-part-small', '1', { size: 1024 * 1024 }, async (prn) => {
      await ok(registry, 'PUT', `/binaries/${prn}/parts/2`, {
        hash: sha256('x'),
        size: 100,
        expected_binary_size: PART_SIZE + 100,
      });
    }),
    status: 422,
    field: 'size',
  },
  {
    name: 'part hash of the wrong length',
    bad: badPart('api-part-hash', '1', { hash: 'abc' }),
    status: 422,
    field: 'hash',
  },
  {
    name: 'part expected_binary_size not the binary size',
    bad: badPart('api-part-expected', '1', { expected_binary_size: 5 }),
    status: 422,
    field: 'expected_binary_size',
  },
  {
    name: 'signature not hex',
    bad: badSignature('api-sig-hex', () => 'Z'.repeat(128)),
    status: 422,
    field: 'signature',
  },
  {
    name: 'signature of 127 hex characters',
    bad: badSignature('api-sig-short', (h) => key.signHash(h).slice(1)),
    status: 422,
    field: 'signature',
  },
  {
    name: 'signature made with another key',
    bad: badSignature('api-sig-other', (h) => makeKey().signHash(h)),
    status: 422,
    field: 'signature',
  },
  {
    name: 'signature naming another registered key',
    bad: badSignature(
      'api-sig-wrong-prn',
      (h) => key.signHash(h),
      () => otherKeyPrn,
    ),
    status: 422,
    field: 'signature',
  },
  {
    name: 'signing key value: RSA public key of 1024 bits',
    bad: badKey(rsa1024PublicPem),
    status: 422,
    field: 'value',
    says: /RSA key of 1024 bits/,
  },
  {
    name: 'signing key value: P-384 public key',
    bad: badKey(p384PublicPem),
    status: 422,
    field: 'value',
    says: /P-384/,
  },
  { name: 'signing key value empty', bad: badKey(''), status: 422, field: 'value' },
  {
    name: 'signing key value of 31 bytes',
    bad: badKey(randomBytes(31).toString('base64')),
    status: 422,
    field: 'value',
  },
  {
    name: 'list limit 0',
    bad: async () => ({
      reply: await call(registry, 'GET', '/binaries?limit=0'),
      retry: () => call(registry, 'GET', '/binaries?limit=1'),
    }),
    status: 422,
    field: 'limit',
  },
  {
    name: 'list search on an unknown field',
    bad: async () => ({
      reply: await call(registry, 'GET', `/binaries?search=${encodeURIComponent("password:'x'")}`),
      retry: () => call(registry, 'GET', `/binaries?search=${encodeURIComponent("target:'x'")}`),
    }),
    status: 422,
    field: 'search',
  },
];

/** A hash-like string of the wrong length (hex alphabet, so only the length is wrong). */
function fileHashLater(length: number): string {
  return 'a'.repeat(length);
}

describe('bad input to the Admin API', () => {
  it.each(apiRows)('$name → a 4xx naming the field; the correct retry succeeds', async (row) => {
    const { reply, retry } = await row.bad();
    expect(reply.status, reply.text).toBe(row.status);
    const errors = reply.json?.errors ?? {};
    const named = row.field in errors || String(errors.detail ?? '').includes(row.field);
    expect(named, `the error names ${row.field}: ${reply.text.slice(0, 300)}`).toBe(true);
    if (row.says) expect(reply.text).toMatch(row.says);
    const again = await retry();
    expect(again.status, `retry: ${again.text.slice(0, 300)}`).toBeGreaterThanOrEqual(200);
    expect(again.status).toBeLessThan(300);
    const message =
      row.field in errors ? `${row.field}: ${errors[row.field].join(', ')}` : String(errors.detail);
    measurement('Bad input', `API: ${row.name}`, {
      status: reply.status,
      message: message.slice(0, 120),
      retryStatus: again.status,
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// Action rows: the bundled action in a child process, the error annotation, then the correct run.

interface ActionRow {
  name: string;
  action?: ActionName;
  /** Inputs that replace the correct ones (for a fresh target per row). */
  inputs: (target: string) => Record<string, string>;
  env?: Record<string, string>;
  error: RegExp;
}

const anotherOrgArtifact = () =>
  `prn:1:${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}:artifact:${'1'.repeat(8)}-1111-4111-8111-${'1'.repeat(12)}`;

const actionRows: ActionRow[] = [
  { name: 'file is a directory', inputs: () => ({ file: dir }), error: /Input 'file'.*directory/ },
  { name: 'file is missing', inputs: () => ({ file: join(dir, 'no-such-file.bin') }), error: /Input 'file'/ },
  {
    name: 'part-size below 5 MiB',
    inputs: () => ({ 'part-size': '1048576' }),
    error: /Input 'part-size'.*5242880/,
  },
  { name: 'part-size not a size', inputs: () => ({ 'part-size': 'big' }), error: /Input 'part-size'/ },
  { name: 'concurrency 0', inputs: () => ({ concurrency: '0' }), error: /Input 'concurrency'/ },
  { name: 'concurrency 99', inputs: () => ({ concurrency: '99' }), error: /Input 'concurrency'/ },
  {
    // Any tag is a version (artifact versions are free-form), but not one over 128 characters.
    name: 'tag ref too long to be a version',
    inputs: () => ({ version: '' }),
    env: { GITHUB_REF: `refs/tags/v${'1'.repeat(129)}`, GITHUB_REF_NAME: `v${'1'.repeat(129)}` },
    error: /Input 'version'/,
  },
  {
    name: 'branch ref and no version',
    inputs: () => ({ version: '' }),
    env: { GITHUB_REF: 'refs/heads/main', GITHUB_REF_NAME: 'main', GITHUB_REF_TYPE: 'branch' },
    error: /Input 'version'/,
  },
  {
    name: 'version over 128 characters',
    inputs: () => ({ version: '1'.repeat(129) }),
    error: /Input 'version'/,
  },
  {
    name: 'target over 128 characters',
    inputs: () => ({ target: 't'.repeat(129) }),
    error: /Input 'target'/,
  },
  { name: 'empty api-key', inputs: () => ({ 'api-key': '' }), error: /Input 'api-key'/ },
  { name: 'wrong api-key', inputs: () => ({ 'api-key': 'not-the-key' }), error: /Input 'api-key'.*401/ },
  { name: 'base-url not a URL', inputs: () => ({ 'base-url': 'localhost 4000' }), error: /Input 'base-url'/ },
  {
    name: 'empty signing key',
    inputs: () => ({ 'signing-key-private': '' }),
    error: /Input 'signing-key-private'/,
  },
  {
    name: 'RSA signing key',
    inputs: () => ({ 'signing-key-private': rsaPem }),
    error: /Input 'signing-key-private'.*RSA/,
  },
  {
    name: 'P-256 signing key',
    inputs: () => ({ 'signing-key-private': p256Pem }),
    error: /Input 'signing-key-private'.*(EC|P-256|ECDSA)/i,
  },
  {
    name: 'signing key not registered',
    inputs: () => ({ 'signing-key-private': makeKey().privatePem }),
    error: /signing-key/,
  },
  {
    name: 'signing-key-prn malformed',
    inputs: () => ({ 'signing-key-prn': 'prn:1:nope' }),
    error: /Input 'signing-key-prn'/,
  },
  {
    name: 'signing-key-prn of another key',
    inputs: () => ({ 'signing-key-prn': otherKeyPrn }),
    error: /signing-key/,
  },
  {
    name: 'artifact PRN malformed',
    inputs: () => ({ artifact: 'prn:1:not-a-uuid:artifact:x' }),
    error: /Input 'artifact'/,
  },
  {
    name: 'artifact PRN of another organization',
    inputs: () => ({ artifact: anotherOrgArtifact() }),
    error: /Input 'artifact'/,
  },
  {
    name: 'custom-metadata not JSON',
    inputs: () => ({ 'custom-metadata': '{board: rev-b}' }),
    error: /Input 'custom-metadata'.*JSON/,
  },
  {
    name: 'custom-metadata a JSON array',
    inputs: () => ({ 'custom-metadata': '[1, 2]' }),
    error: /Input 'custom-metadata'/,
  },
  {
    name: 'description over 256 characters',
    inputs: () => ({ description: 'd'.repeat(257) }),
    error: /Input 'description'/,
  },
  {
    name: 'hashing-timeout not a duration',
    inputs: () => ({ 'hashing-timeout': 'forever' }),
    error: /Input 'hashing-timeout'/,
  },
  {
    name: 'upload-binary: artifact-version-prn malformed',
    action: 'upload-binary',
    inputs: () => ({ 'artifact-version-prn': 'prn:1:x:artifact_version:y' }),
    error: /Input 'artifact-version-prn'/,
  },
  {
    name: 'sign-binary: binary-prn malformed',
    action: 'sign-binary',
    inputs: () => ({ 'binary-prn': 'binary-123' }),
    error: /Input 'binary-prn'/,
  },
  {
    name: 'create-artifact-version: artifact name over 128 characters',
    action: 'create-artifact-version',
    inputs: () => ({ artifact: 'a'.repeat(129) }),
    error: /Input 'artifact'/,
  },
];

/** The correct inputs of each action for a row's target. */
async function correctInputs(action: ActionName, target: string): Promise<Record<string, string>> {
  const api = { 'api-key': registry.apiKey, 'base-url': registry.baseUrl };
  if (action === 'create-artifact-version')
    return { ...api, artifact: `bad-input-${target}`, version: '1.0.0' };
  if (action === 'upload-binary')
    return { ...api, 'artifact-version-prn': versionPrn, target, file, 'part-size': '5242880' };
  if (action === 'sign-binary') {
    // sign-binary needs a binary to sign: upload one first, as the upload step of a workflow would.
    const { prn } = await publishRaw(registry, {
      versionPrn,
      target,
      content: randomBytes(256),
      sign: false,
    });
    return { ...api, 'binary-prn': prn, 'signing-key-private': key.privatePem };
  }
  return {
    ...api,
    artifact: 'bad-input',
    version: '1.0.0',
    target,
    file,
    'signing-key-private': key.privatePem,
    'part-size': '5242880',
  };
}

// A few runs at a time: each is a Node process, and the machine is shared.
let running = 0;
const waiting: (() => void)[] = [];
async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= 3) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

describe('bad input to the actions', () => {
  it.concurrent.each(actionRows.map((row, i) => ({ ...row, target: `action-row-${i}` })))(
    '$name → fails naming the input; the correct run of the same action and target succeeds',
    async (row) => {
      const action = row.action ?? 'publish-binary';
      const correct = await correctInputs(action, row.target);
      const bad = await limited(() =>
        runAction(action, { ...correct, ...row.inputs(row.target) }, { env: row.env }),
      );
      const annotations = errorAnnotations(bad).join('\n');
      expect(bad.code, `${row.name}: the run must fail\n${bad.stdout}`).not.toBe(0);
      expect(annotations, `${row.name}: stdout was\n${bad.stdout}\n${bad.stderr}`).toMatch(row.error);
      expect(annotations).not.toContain(registry.apiKey);
      expect(annotations).not.toMatch(/PRIVATE KEY/);

      const good = await limited(() => runAction(action, correct));
      expect(
        good.code,
        `${row.name}: the correct run after it must succeed\n${good.stdout}\n${good.stderr}`,
      ).toBe(0);
      if (action === 'publish-binary' || action === 'sign-binary') expect(good.outputs.state).toBe('signed');
      measurement('Bad input', `action ${action}: ${row.name}`, {
        exitCode: bad.code,
        message: annotations.split('\n')[0]!.slice(0, 160),
        retryExitCode: good.code,
      });
    },
    60_000,
  );
});
