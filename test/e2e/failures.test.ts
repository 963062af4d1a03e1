/**
 * Each mistake a user can make fails the step with one error annotation that names what to fix (the
 * input, in its action.yml spelling), and leaves nothing half-made behind where that can be checked.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorAnnotations, runAction, type ActionName, type ActionRun } from '../helpers/run-action.js';
import {
  newKeyPair,
  publishInputs,
  registerNewKey,
  startScene,
  writeTestFile,
  type Scene,
  type TestFile,
} from './scene.js';

let scene: Scene;
let file: TestFile;

beforeAll(async () => {
  scene = await startScene();
  file = await writeTestFile(scene.dir, 'fw.img', 4096);
});
afterAll(async () => {
  await scene?.stop();
});

async function fails(
  name: ActionName,
  inputs: Record<string, string>,
  env: Record<string, string> = {},
): Promise<string> {
  const run: ActionRun = await runAction(name, inputs, { env });
  expect(run.code, run.stdout + run.stderr).toBe(1);
  const annotations = errorAnnotations(run);
  expect(annotations).toHaveLength(1);
  return annotations[0]!;
}

async function binariesOf(target: string): Promise<{ prn: string; state: string; hash: string }[]> {
  const search = encodeURIComponent(`target:'${target}'`);
  return (
    await scene.api<{ binaries: { prn: string; state: string; hash: string }[] }>(
      'GET',
      `/binaries?search=${search}`,
    )
  ).body.binaries;
}

describe('the file', () => {
  it('missing: names the file input and the path', async () => {
    const message = await fails(
      'publish-binary',
      publishInputs(scene, { ...file, path: 'build/missing.img' }),
    );
    expect(message).toMatch(/^Input 'file': .*build\/missing\.img does not exist/);
  });

  it('unreadable (a directory): names the file input', async () => {
    const dir = join(scene.dir, 'a-directory');
    mkdirSync(dir, { recursive: true });
    const message = await fails('upload-binary', {
      'api-key': scene.registry.apiKey,
      'base-url': scene.registry.baseUrl,
      'artifact-version-prn': await aVersion(),
      target: 'dir-target',
      file: dir,
    });
    expect(message).toMatch(/^Input 'file': .* is a directory/);
    expect(await binariesOf('dir-target')).toEqual([]);
  });
});

describe('the signing key', () => {
  it('empty: names signing-key-private', async () => {
    const message = await fails('publish-binary', publishInputs(scene, file, { 'signing-key-private': '' }));
    expect(message).toMatch(/^Input 'signing-key-private': is empty/);
  });

  it('malformed: names signing-key-private without echoing it', async () => {
    const garbage = 'MC4CAQAwBQYDK2VwBCIEI-not-really-a-key';
    const message = await fails(
      'publish-binary',
      publishInputs(scene, file, { 'signing-key-private': garbage }),
    );
    expect(message).toMatch(/^Input 'signing-key-private': /);
    expect(message).not.toContain(garbage);
  });

  it('an RSA key: says Peridio needs Ed25519', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      format: 'pem',
      type: 'pkcs8',
    });
    const message = await fails('sign-binary', {
      'api-key': scene.registry.apiKey,
      'base-url': scene.registry.baseUrl,
      'binary-prn': 'prn:1:00000000-0000-4000-8000-000000000000:binary:00000000-0000-4000-8000-000000000001',
      'signing-key-private': rsa.toString(),
    });
    expect(message).toMatch(/^Input 'signing-key-private': .*RSA.*Ed25519/);
  });

  it('not registered: fails before anything is uploaded, naming the public key to register', async () => {
    const stranger = newKeyPair();
    const message = await fails(
      'publish-binary',
      publishInputs(scene, file, { target: 'unregistered-key', 'signing-key-private': stranger.privatePem }),
    );
    expect(message).toMatch(/^Input 'signing-key-private': .*is not registered/);
    expect(message).toContain(stranger.publicValue);
    expect(await binariesOf('unregistered-key')).toEqual([]);
  });

  it('not the key of signing-key-prn: names signing-key-prn', async () => {
    const other = await registerNewKey(scene.api, 'another key');
    const message = await fails(
      'publish-binary',
      publishInputs(scene, file, { target: 'wrong-prn', 'signing-key-prn': other.prn }),
    );
    expect(message).toMatch(/^Input 'signing-key-prn': .*another public key/);
    expect(await binariesOf('wrong-prn')).toEqual([]);
  });
});

describe('the registry', () => {
  it('a wrong API key (401): names api-key', async () => {
    const message = await fails('publish-binary', publishInputs(scene, file, { 'api-key': 'prk_wrong' }));
    expect(message).toMatch(/^Input 'api-key': .*rejected the API key \(HTTP 401\)/);
  });

  it('a base URL that does not answer: names base-url, within seconds', async () => {
    const port = await closedPort();
    const started = Date.now();
    const message = await fails('create-artifact-version', {
      'api-key': scene.registry.apiKey,
      'base-url': `http://127.0.0.1:${port}`,
      artifact: 'firmware',
    });
    expect(message).toMatch(
      new RegExp(`^Input 'base-url': the registry at http://127.0.0.1:${port} does not answer`),
    );
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('a base URL that is not a URL: names base-url', async () => {
    const message = await fails(
      'publish-binary',
      publishInputs(scene, file, { 'base-url': 'api.example.com' }),
    );
    expect(message).toMatch(/^Input 'base-url': 'api.example.com' is not a URL/);
  });
});

describe('what is already published', () => {
  it('a target already signed with other content by another commit: says so, with both hashes, and changes nothing', async () => {
    const inputs = publishInputs(scene, file, { target: 'signed-target', version: '5.0.0' });
    const published = await runAction('publish-binary', inputs);
    expect(published.code, published.stdout).toBe(0);

    const other = await writeTestFile(scene.dir, 'other.img', 4096);
    const message = await fails(
      'publish-binary',
      { ...inputs, file: other.path },
      { GITHUB_SHA: 'fedcba9876543210fedcba9876543210fedcba98' },
    );
    expect(message).toContain("target 'signed-target'");
    expect(message).toContain('already signed with other content');
    expect(message).toContain('destroy the old binary');
    expect(message).toContain(file.sha256);
    expect(message).toContain(other.sha256);
    const binaries = (await binariesOf('signed-target')).map(({ prn, state, hash }) => ({
      prn,
      state,
      hash,
    }));
    expect(binaries).toEqual([{ prn: published.outputs['binary-prn'], state: 'signed', hash: file.sha256 }]);
  });

  it('a destroyed binary: publish and sign both say it was destroyed', async () => {
    const inputs = publishInputs(scene, file, { target: 'destroyed-target', version: '5.0.0' });
    const published = await runAction('publish-binary', inputs);
    expect(published.code, published.stdout).toBe(0);
    const prn = published.outputs['binary-prn']!;
    const destroyed = await scene.api('PATCH', `/binaries/${prn}`, { state: 'destroyed' });
    expect(destroyed.status).toBe(200);

    expect(await fails('publish-binary', inputs)).toMatch(/destroyed/);
    const signMessage = await fails('sign-binary', {
      'api-key': scene.registry.apiKey,
      'base-url': scene.registry.baseUrl,
      'binary-prn': prn,
      'signing-key-private': scene.key.privatePem,
    });
    expect(signMessage).toMatch(/destroyed/);
  });
});

describe('the version', () => {
  it('not given, on a run that is not for a tag: names version', async () => {
    const message = await fails('publish-binary', publishInputs(scene, file), {
      GITHUB_REF: 'refs/heads/main',
    });
    expect(message).toMatch(/^Input 'version': .*refs\/heads\/main, which is not a tag/);
  });

  it('too long: names version', async () => {
    const message = await fails('publish-binary', publishInputs(scene, file, { version: '1'.repeat(129) }));
    expect(message).toMatch(/^Input 'version': must be at most 128 characters/);
  });
});

describe('other inputs', () => {
  it.each([
    ['part-size', '1MiB', /^Input 'part-size': must be from 5 MiB \(5242880 bytes\)/],
    ['concurrency', '0', /^Input 'concurrency': must be from 1 to/],
    ['hashing-timeout', 'soon', /^Input 'hashing-timeout': must be seconds/],
    ['custom-metadata', '[1, 2]', /^Input 'custom-metadata': must be a JSON object/],
    ['custom-metadata', '{oops', /^Input 'custom-metadata': is not valid JSON/],
    ['signing-key-prn', 'prn:1:nope', /^Input 'signing-key-prn': /],
  ])('%s = %j: names the input', async (input, value, expected) => {
    expect(await fails('publish-binary', publishInputs(scene, file, { [input]: value }))).toMatch(expected);
  });
});

async function aVersion(): Promise<string> {
  const run = await runAction('create-artifact-version', {
    'api-key': scene.registry.apiKey,
    'base-url': scene.registry.baseUrl,
    artifact: 'firmware',
    version: '9.9.9',
  });
  expect(run.code, run.stdout).toBe(0);
  return run.outputs['artifact-version-prn']!;
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
