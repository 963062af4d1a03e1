/**
 * publish-binary and sign-binary, bundled and run as the runner runs them, signing inside a SoftHSM2
 * token whose keys pkcs11-tool generated there: an Ed25519 key and an RSA-3072 key. openssl verifies the
 * signatures over the content downloaded from the registry. Bad token inputs fail before anything is
 * created, and the PIN appears in no output.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorAnnotations, runAction, type ActionRun } from '../helpers/run-action.js';
import { getBinary, startScene, writeTestFile, type Scene } from './scene.js';
import {
  createToken,
  download,
  HAVE_TOKEN_TOOLS,
  opensslVerifies,
  printed,
  registerKey,
  type Token,
} from './signing-scene.js';

describe.skipIf(!HAVE_TOKEN_TOOLS)('signing with a PKCS#11 token (SoftHSM2 + pkcs11-tool)', () => {
  let scene: Scene;
  let token: Token;
  let dir: string;
  const publicPems: Record<string, string> = {};

  beforeAll(async () => {
    scene = await startScene();
    dir = mkdtempSync(join(tmpdir(), 'p11-e2e-'));
    token = createToken(dir, [
      { label: 'ed-release', type: 'EC:edwards25519' },
      { label: 'rsa-release', type: 'rsa:3072' },
      { label: 'unregistered', type: 'EC:prime256v1' },
    ]);
    for (const label of ['ed-release', 'rsa-release']) {
      publicPems[label] = token.publicPem(label);
      await registerKey(scene, label, publicPems[label]);
    }
  }, 60_000);
  afterAll(() => scene?.stop());

  const tokenInputs = (keyLabel: string, extra: Record<string, string> = {}) => ({
    'api-key': scene.registry.apiKey,
    'base-url': scene.registry.baseUrl,
    target: 'aarch64-linux-gnu',
    'pkcs11-module': token.module,
    'pkcs11-token-label': token.label,
    'pkcs11-key-label': keyLabel,
    'pkcs11-pin': token.pin,
    ...extra,
  });

  const artifacts = async () =>
    ((await scene.api<{ artifacts: unknown[] }>('GET', '/artifacts?limit=100')).body.artifacts ?? []).length;

  function expectNoPin(run: ActionRun, pin = token.pin) {
    expect(run.stdout).toContain(`::add-mask::${pin}`);
    expect(printed(run)).not.toContain(pin);
  }

  for (const label of ['ed-release', 'rsa-release']) {
    it(`publishes with ${label} inside the token; openssl verifies the signature over the downloaded file`, async () => {
      const file = await writeTestFile(dir, `${label}.img`, 300_000);
      const run = await runAction(
        'publish-binary',
        { ...tokenInputs(label), artifact: `fw-${label}`, file: file.path },
        { env: token.env },
      );
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expectNoPin(run);
      const binary = await getBinary(scene, run.outputs['binary-prn']!);
      expect(binary.state).toBe('signed');
      const downloaded = join(dir, `${label}.downloaded`);
      await download(scene, binary.prn, downloaded);
      expect(opensslVerifies(dir, downloaded, run.outputs.signature!, publicPems[label]!)).toBe(true);
      // And the check can fail: the other key's public half does not verify it.
      const other = label === 'ed-release' ? 'rsa-release' : 'ed-release';
      expect(opensslVerifies(dir, downloaded, run.outputs.signature!, publicPems[other]!)).toBe(false);
    });
  }

  const bad: [string, Record<string, string>, string, RegExp][] = [
    ['a wrong PIN', { 'pkcs11-pin': '0000' }, 'pkcs11-pin', /refused the PIN/],
    [
      'a token label that does not exist',
      { 'pkcs11-token-label': 'no-such-token' },
      'pkcs11-token-label',
      /no token labelled 'no-such-token'/,
    ],
    [
      'a key label that does not exist',
      { 'pkcs11-key-label': 'no-such-key' },
      'pkcs11-key-label',
      /no public key 'no-such-key' on the token; it holds .*'ed-release' \(id 01\)/,
    ],
    [
      'a key that is on the token but not registered',
      { 'pkcs11-key-label': 'unregistered' },
      'pkcs11-key-label',
      /is not registered as a signing key/,
    ],
  ];
  for (const [what, override, input, message] of bad) {
    it(`fails on ${what}, naming ${input}, before anything is created`, async () => {
      const before = await artifacts();
      const file = await writeTestFile(dir, 'bad.img', 1000);
      const run = await runAction(
        'publish-binary',
        { ...tokenInputs('ed-release'), ...override, artifact: `fw-bad-${input}`, file: file.path },
        { env: token.env },
      );
      expect(run.code).toBe(1);
      const errors = errorAnnotations(run).join('\n');
      expect(errors).toContain(`Input '${input}'`);
      expect(errors).toMatch(message);
      expect(await artifacts()).toBe(before);
      expectNoPin(run, override['pkcs11-pin']);
    });
  }

  it('fails on a module path that is not a PKCS#11 library, naming pkcs11-module', async () => {
    const notALibrary = join(dir, 'not-a-library.so');
    writeFileSync(notALibrary, 'just text\n');
    const before = await artifacts();
    const file = await writeTestFile(dir, 'bad-module.img', 1000);
    const run = await runAction(
      'publish-binary',
      {
        ...tokenInputs('ed-release'),
        'pkcs11-module': notALibrary,
        artifact: 'fw-bad-module',
        file: file.path,
      },
      { env: token.env },
    );
    expect(run.code).toBe(1);
    expect(errorAnnotations(run).join('\n')).toMatch(/Input 'pkcs11-module': .*not a PKCS#11 library/);
    expect(await artifacts()).toBe(before);
    expectNoPin(run);
  });

  it('refuses two signers in one step, naming their inputs', async () => {
    const file = await writeTestFile(dir, 'two.img', 1000);
    const run = await runAction(
      'publish-binary',
      {
        ...tokenInputs('ed-release'),
        'signing-key-private': scene.key.privatePem,
        artifact: 'fw-two',
        file: file.path,
      },
      { env: token.env },
    );
    expect(run.code).toBe(1);
    const errors = errorAnnotations(run).join('\n');
    expect(errors).toContain('signing-key-private');
    expect(errors).toContain('pkcs11-module');
    expect(errors).toMatch(/exactly one/);
    expectNoPin(run);
  });
});
