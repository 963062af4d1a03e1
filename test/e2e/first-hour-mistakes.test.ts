/**
 * A new user's mistakes, through the bundled actions against a real registry: all of a step's bad inputs
 * in one annotation, a bad `file` caught before anything is created, a wrong `base-url` blamed as such
 * (without pasting a web page), decimal units refused, empty secrets and `\n`-mangled PEMs explained.
 */
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorAnnotations, runAction, type ActionName } from '../helpers/run-action.js';
import { publishInputs, startScene, writeTestFile, type Scene, type TestFile } from './scene.js';

let scene: Scene;
let file: TestFile;
let web: Server;
let webUrl: string;

beforeAll(async () => {
  scene = await startScene();
  file = await writeTestFile(scene.dir, 'fw.img', 4096);
  // A plain web server: an HTML 404 page, except under /ok/, where every path is a 200 HTML page.
  web = createServer((req, res) => {
    const ok = req.url?.startsWith('/ok/') ?? false;
    res.writeHead(ok ? 200 : 404, { 'content-type': 'text/html' });
    res.end(
      `<!DOCTYPE html><html><head><title>${ok ? 'Welcome' : '404 Not Found'}</title></head>` +
        `<body><h1>Not Found</h1><p>${'padding '.repeat(200)}</p></body></html>`,
    );
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  const address = web.address();
  webUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(async () => {
  await scene?.stop();
  await new Promise((resolve) => web?.close(resolve));
});

async function failure(name: ActionName, inputs: Record<string, string>, env: Record<string, string> = {}) {
  const run = await runAction(name, inputs, { env });
  expect(run.code, run.stdout + run.stderr).toBe(1);
  const annotations = errorAnnotations(run);
  expect(annotations).toHaveLength(1);
  return { message: annotations[0]!, run };
}

async function artifactsNamed(name: string): Promise<unknown[]> {
  const search = encodeURIComponent(`name:'${name}'`);
  return (await scene.api<{ artifacts: unknown[] }>('GET', `/artifacts?search=${search}`)).body.artifacts;
}

describe('all mistakes at once', () => {
  it('four bad inputs: one annotation naming all four, in action.yml order', async () => {
    const { message } = await failure(
      'publish-binary',
      publishInputs(scene, file, {
        'base-url': 'ftp://registry.example.com',
        target: '',
        'part-size': '16MB',
        concurrency: '99',
      }),
    );
    const named = [...message.matchAll(/Input '([a-z-]+)'/g)].map((m) => m[1]);
    expect(named).toEqual(['base-url', 'target', 'part-size', 'concurrency']);
    expect(message).toMatch(/^4 inputs need fixing:/);
    expect(message).toContain('write 16MiB (16777216 bytes)');
  });

  it.each([
    [
      'upload-binary' as const,
      {
        'artifact-version-prn': 'nope',
        target: 't',
        file: 'missing.img',
        'part-size': '8MB',
        concurrency: '0',
      },
      ['artifact-version-prn', 'file', 'part-size', 'concurrency'],
    ],
    [
      'sign-binary' as const,
      { 'binary-prn': 'nope', 'signing-key-private': 'not a key', 'expected-hash': 'abc' },
      ['binary-prn', 'signing-key-private', 'expected-hash'],
    ],
    [
      'create-artifact-version' as const,
      { artifact: '', version: 'v1', description: 'd'.repeat(300), 'custom-metadata': '[1]' },
      ['artifact', 'description', 'custom-metadata'],
    ],
  ])('%s: every bad input in one annotation, in action.yml order', async (name, bad, expected) => {
    const { message } = await failure(name, {
      'api-key': scene.registry.apiKey,
      'base-url': scene.registry.baseUrl,
      ...bad,
    });
    expect([...message.matchAll(/Input '([a-z-]+)'/g)].map((m) => m[1])).toEqual(expected);
  });

  it('a missing file fails before anything is created', async () => {
    const { message } = await failure(
      'publish-binary',
      publishInputs(
        scene,
        { ...file, path: join(scene.dir, 'build/missing.img') },
        { artifact: 'never-made' },
      ),
    );
    expect(message).toMatch(/^Input 'file': .*build\/missing\.img does not exist/);
    expect(await artifactsNamed('never-made')).toEqual([]);
  });

  it('an empty file is refused unless allow-empty: true', async () => {
    const empty = join(scene.dir, 'empty.img');
    writeFileSync(empty, '');
    const inputs = publishInputs(scene, { ...file, path: empty }, { artifact: 'empty-fw', target: 'empty' });
    const { message } = await failure('publish-binary', inputs);
    expect(message).toMatch(/^Input 'file': .*empty\.img is empty \(0 bytes\).*allow-empty: true/);
    expect(await artifactsNamed('empty-fw')).toEqual([]);

    const allowed = await runAction('publish-binary', { ...inputs, 'allow-empty': 'true' });
    expect(allowed.code, allowed.stdout).toBe(0);
    expect(allowed.outputs.size).toBe('0');
  });

  it('the failure summary says nothing was created and what to fix', async () => {
    const { run } = await failure('publish-binary', publishInputs(scene, file, { concurrency: 'x' }));
    expect(run.summary).toContain('publish-binary failed');
    expect(run.summary).toContain('nothing was created');
  });
});

describe('base-url blamed when wrong', () => {
  it('a path that is not the API (…/api/v2): publish-binary and upload-binary name base-url and the 404', async () => {
    const wrong = `${scene.registry.baseUrl}/api/v2`;
    const publish = await failure('publish-binary', publishInputs(scene, file, { 'base-url': wrong }));
    expect(publish.message).toMatch(/^Input 'base-url': .*\/api\/v2 answered GET \/artifacts with HTTP 404/);

    const upload = await failure('upload-binary', {
      'api-key': scene.registry.apiKey,
      'base-url': wrong,
      'artifact-version-prn':
        'prn:1:11111111-1111-4111-8111-111111111111:artifact_version:22222222-2222-4222-8222-222222222222',
      target: 'x',
      file: file.path,
    });
    expect(upload.message).toMatch(/^Input 'base-url': .*HTTP 404/);
    expect(upload.message).not.toContain('artifact-version-prn');
  });

  it("a web server's HTML 404 page: status and title, never the page", async () => {
    const { message } = await failure(
      'publish-binary',
      publishInputs(scene, file, { 'base-url': `${webUrl}/x` }),
    );
    expect(message).toMatch(
      /^Input 'base-url': .* HTTP 404 \(Not Found \(an HTML page titled "404 Not Found"\)\)/,
    );
    expect(message).not.toMatch(/<|padding/);
  });

  it('a 200 HTML page: not JSON, so not the Admin API', async () => {
    const { message } = await failure('create-artifact-version', {
      'api-key': 'k',
      'base-url': `${webUrl}/ok`,
      artifact: 'a',
      version: '1.0.0',
    });
    expect(message).toMatch(/^Input 'base-url': .* HTTP 200 and an HTML page, so it is not the Admin API/);
    expect(message).not.toContain('<');
  });

  it('https:// to a plain-HTTP registry: says the server speaks plain HTTP', async () => {
    const https = scene.registry.baseUrl.replace(/^http:/, 'https:');
    const { message } = await failure('publish-binary', publishInputs(scene, file, { 'base-url': https }));
    expect(message).toMatch(/^Input 'base-url': the TLS handshake with 127\.0\.0\.1:\d+ failed .*plain HTTP/);
    expect(message).toContain(scene.registry.baseUrl);
  });
});

describe('units', () => {
  it.each([
    ['16MB', '16MiB (16777216 bytes)'],
    ['1GB', '1GiB (1073741824 bytes)'],
  ])('part-size %s is refused, naming %s', async (value, meant) => {
    const { message } = await failure('publish-binary', publishInputs(scene, file, { 'part-size': value }));
    expect(message).toMatch(/^Input 'part-size': .* decimal unit/);
    expect(message).toContain(meant);
  });

  it('part-size 8MiB is taken, and the log speaks IEC units only', async () => {
    const big = await writeTestFile(scene.dir, 'units.img', 9 * 1024 * 1024);
    const run = await runAction(
      'publish-binary',
      publishInputs(scene, big, { 'part-size': '8MiB', target: 'units', version: '7.0.0' }),
    );
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toContain('2 part(s) of 8.00 MiB');
    expect(run.stdout).not.toMatch(/\d (kB|MB|GB)\b|MB\/s/);
  });
});

describe('secrets and keys', () => {
  it('an empty signing key says secrets are withheld from forks and other environments', async () => {
    const { message } = await failure(
      'publish-binary',
      publishInputs(scene, file, { 'signing-key-private': '' }),
    );
    expect(message).toMatch(/^Input 'signing-key-private': is empty/);
    expect(message).toMatch(/pull requests from forks/);
    expect(message).toMatch(/environment/);
  });

  it('a PEM pasted with literal \\n is read, with a notice', async () => {
    const flat = scene.key.privatePem.trim().replace(/\n/g, '\\n');
    const run = await runAction(
      'publish-binary',
      publishInputs(scene, file, { 'signing-key-private': flat, target: 'flat-pem', version: '7.1.0' }),
    );
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/^::notice::signing-key-private: the PEM had literal \\n/m);
    // The key's body is masked (the runner hides it in everything but the mask commands themselves).
    const body = scene.key.privatePem.split('\n')[1]!;
    expect(run.stdout).toContain(`::add-mask::${body}`);
    const shown = run.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::'));
    expect(shown.join('\n')).not.toContain(body);
  });

  it('an unregistered key names the registry and the key id', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const { message } = await failure(
      'publish-binary',
      publishInputs(scene, file, { 'signing-key-private': pem }),
    );
    expect(message).toMatch(
      /keyid [0-9a-f]{64}\) is not registered as a signing key in the registry at http:\/\/127/,
    );
  });
});
