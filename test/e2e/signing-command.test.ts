/**
 * Signers that are not a token: `signing-command` (here a shell script wrapping openssl, as a KMS or
 * HSM wrapper would be) with `signing-public-key`, and RSA / ECDSA private keys in `signing-key-private`.
 * Each bad signer fails naming its input before anything is created, and its output stays out of the log.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorAnnotations, runAction } from '../helpers/run-action.js';
import { getBinary, startScene, writeTestFile, type Scene } from './scene.js';
import { download, printed, opensslVerifies, registerKey } from './signing-scene.js';

describe('signing with an external command or an RSA/ECDSA key', () => {
  let scene: Scene;
  let dir: string;
  let script: string;
  let rsaKey: string;
  let rsaPub: string;

  beforeAll(async () => {
    scene = await startScene();
    dir = mkdtempSync(join(tmpdir(), 'cmd-e2e-'));
    rsaKey = join(dir, 'rsa.pem');
    execFileSync('openssl', [
      'genpkey',
      '-algorithm',
      'rsa',
      '-pkeyopt',
      'rsa_keygen_bits:2048',
      '-out',
      rsaKey,
    ]);
    rsaPub = execFileSync('openssl', ['pkey', '-in', rsaKey, '-pubout']).toString();
    await registerKey(scene, 'rsa via command', rsaPub);
    // The digest arrives on stdin; pkeyutl with digest:sha256 signs it as `openssl dgst -sha256 -sign` would.
    script = join(dir, 'sign.sh');
    writeFileSync(
      script,
      '#!/bin/sh\nset -e\nopenssl pkeyutl -sign -inkey "$1" -pkeyopt digest:sha256 | base64 | tr -d "\\n"\n',
    );
  }, 60_000);
  afterAll(() => scene?.stop());

  const base = (extra: Record<string, string>) => ({
    'api-key': scene.registry.apiKey,
    'base-url': scene.registry.baseUrl,
    target: 'x86_64-linux-gnu',
    ...extra,
  });
  const artifacts = async () =>
    ((await scene.api<{ artifacts: unknown[] }>('GET', '/artifacts?limit=100')).body.artifacts ?? []).length;

  it('publishes with signing-command; openssl verifies the signature over the downloaded file', async () => {
    const file = await writeTestFile(dir, 'cmd.img', 200_000);
    const run = await runAction(
      'publish-binary',
      base({
        artifact: 'fw-cmd',
        file: file.path,
        'signing-command': `sh ${script} ${rsaKey}`,
        'signing-public-key': rsaPub,
      }),
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const binary = await getBinary(scene, run.outputs['binary-prn']!);
    expect(binary.state).toBe('signed');
    const downloaded = join(dir, 'cmd.downloaded');
    await download(scene, binary.prn, downloaded);
    expect(opensslVerifies(dir, downloaded, run.outputs.signature!, rsaPub)).toBe(true);
    // The signature is not in the log as the command printed it (base64), only as the output (hex).
    expect(run.stdout).not.toContain(Buffer.from(run.outputs.signature!, 'hex').toString('base64'));
  });

  it('publishes with an ECDSA P-256 key in signing-key-private', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pub = ec.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    await registerKey(scene, 'p256', pub);
    const file = await writeTestFile(dir, 'ec.img', 50_000);
    const run = await runAction(
      'publish-binary',
      base({
        artifact: 'fw-ec',
        file: file.path,
        'signing-key-private': ec.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      }),
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const downloaded = join(dir, 'ec.downloaded');
    await download(scene, run.outputs['binary-prn']!, downloaded);
    expect(opensslVerifies(dir, downloaded, run.outputs.signature!, pub)).toBe(true);
  });

  const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .publicKey.export({ format: 'pem', type: 'spki' })
    .toString();
  const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 })
    .privateKey.export({ format: 'pem', type: 'pkcs8' })
    .toString();
  const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
    .privateKey.export({ format: 'pem', type: 'pkcs8' })
    .toString();
  const cases: [string, () => Record<string, string>, string, RegExp, string?][] = [
    [
      'a command that exits non-zero',
      () => ({
        'signing-command': 'echo "token=SECRET-IN-STDERR" >&2; exit 3',
        'signing-public-key': rsaPub,
      }),
      'signing-command',
      /exited with code 3/,
      'SECRET-IN-STDERR',
    ],
    [
      'a command that prints garbage',
      () => ({ 'signing-command': 'echo "GARBAGE-OUTPUT not a signature!"', 'signing-public-key': rsaPub }),
      'signing-command',
      /not a signature in hex or base64/,
      'GARBAGE-OUTPUT',
    ],
    [
      'a public key that does not match the command',
      () => ({ 'signing-command': `sh ${script} ${rsaKey}`, 'signing-public-key': otherRsa }),
      'signing-command',
      /does not verify against its public key/,
    ],
    [
      'an RSA key under 2048 bits',
      () => ({ 'signing-key-private': rsa1024 }),
      'signing-key-private',
      /RSA key of 1024 bits/,
    ],
    ['a P-384 key', () => ({ 'signing-key-private': p384 }), 'signing-key-private', /P-384/],
    ['no signer at all', () => ({}), 'signing-key-private', /is empty and no other signer is given/],
  ];
  for (const [what, inputs, input, message, secret] of cases) {
    it(`fails on ${what}, naming ${input}, before anything is created`, async () => {
      const before = await artifacts();
      const file = await writeTestFile(dir, 'bad.img', 1000);
      const run = await runAction(
        'publish-binary',
        base({ artifact: `fw-bad`, file: file.path, ...inputs() }),
      );
      expect(run.code).toBe(1);
      const errors = errorAnnotations(run).join('\n');
      expect(errors).toContain(`Input '${input}'`);
      expect(errors).toMatch(message);
      expect(await artifacts()).toBe(before);
      if (secret) expect(printed(run)).not.toContain(secret);
      const key = inputs()['signing-key-private'];
      if (key)
        for (const line of key.split('\n').filter((l) => l.length > 20))
          expect(printed(run)).not.toContain(line);
    });
  }
});
