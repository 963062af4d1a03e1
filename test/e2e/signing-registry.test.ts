/**
 * The registry's signing extensions as an operator uses them from a shell: an RSA key and
 * `openssl dgst -sha256 -sign` signatures sent with curl; certificates under `--signing-ca` (an expired
 * one refused, at registration and at signing time); and a key rotation by dual signing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorAnnotations, runAction } from '../helpers/run-action.js';
import { getBinary, registerNewKey, startScene, writeTestFile, type Scene, type TestFile } from './scene.js';
import { download, opensslVerifies } from './signing-scene.js';

const ssl = (dir: string, ...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

function curl(scene: Scene, method: string, path: string, body?: unknown): { status: number; body: any } {
  const out = execFileSync('curl', [
    '-s',
    '-w',
    '\n%{http_code}',
    '-X',
    method,
    '-H',
    `authorization: Token ${scene.registry.apiKey}`,
    '-H',
    'content-type: application/json',
    ...(body === undefined ? [] : ['--data', JSON.stringify(body)]),
    `${scene.registry.baseUrl}${path}`,
  ]).toString();
  const nl = out.lastIndexOf('\n');
  const text = out.slice(0, nl);
  return { status: Number(out.slice(nl + 1)), body: text ? JSON.parse(text) : {} };
}

/** create-artifact-version then upload-binary, bundled: a signable binary without any signer. */
async function uploadSignable(scene: Scene, file: TestFile, artifact: string): Promise<string> {
  const api = { 'api-key': scene.registry.apiKey, 'base-url': scene.registry.baseUrl };
  const version = await runAction('create-artifact-version', { ...api, artifact, version: '1.0.0' });
  expect(version.code, version.stdout).toBe(0);
  const upload = await runAction('upload-binary', {
    ...api,
    'artifact-version-prn': version.outputs['artifact-version-prn']!,
    target: 'riscv64-linux-gnu',
    file: file.path,
  });
  expect(upload.code, upload.stdout).toBe(0);
  return upload.outputs['binary-prn']!;
}

describe('RSA with openssl and curl, and rotation', () => {
  let scene: Scene;
  let dir: string;
  beforeAll(async () => {
    scene = await startScene();
    dir = mkdtempSync(join(tmpdir(), 'reg-e2e-'));
    ssl(dir, 'genpkey', '-algorithm', 'rsa', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'private_key.pem');
    ssl(dir, 'pkey', '-in', 'private_key.pem', '-pubout', '-out', 'public_key.pem');
  }, 60_000);
  afterAll(() => scene?.stop());

  it('registers an RSA PEM key and accepts `openssl dgst -sha256 -sign` output in base64', async () => {
    const file = await writeTestFile(dir, 'firmware.bin', 120_000);
    const binaryPrn = await uploadSignable(scene, file, 'fw-openssl');
    const key = curl(scene, 'POST', '/signing_keys', {
      name: 'rsa-openssl',
      value: readFileSync(join(dir, 'public_key.pem'), 'utf8'),
    });
    expect(key.status).toBe(201);
    ssl(dir, 'dgst', '-sha256', '-sign', 'private_key.pem', '-out', 'firmware.sig', 'firmware.bin');
    const signature = readFileSync(join(dir, 'firmware.sig')).toString('base64');
    const res = curl(scene, 'POST', '/binary_signatures', {
      binary_prn: binaryPrn,
      signing_key_prn: key.body.signing_key.prn,
      signature,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect((await getBinary(scene, binaryPrn)).state).toBe('signed');
    const downloaded = join(dir, 'firmware.downloaded');
    await download(scene, binaryPrn, downloaded);
    expect(
      opensslVerifies(
        dir,
        downloaded,
        res.body.binary_signature.signature,
        readFileSync(join(dir, 'public_key.pem'), 'utf8'),
      ),
    ).toBe(true);
  });

  it('rotates: old key signs, new key adds a signature with also-sign, then the old key is retired', async () => {
    const oldKey = scene.key;
    const newKey = await registerNewKey(scene.api, 'new release key');
    const file = await writeTestFile(dir, 'rotate.img', 80_000);
    const api = { 'api-key': scene.registry.apiKey, 'base-url': scene.registry.baseUrl };
    const published = await runAction('publish-binary', {
      ...api,
      artifact: 'fw-rotate',
      target: 'aarch64-linux-gnu',
      file: file.path,
      'signing-key-private': oldKey.privatePem,
    });
    expect(published.code, published.stdout).toBe(0);
    const binaryPrn = published.outputs['binary-prn']!;

    // While it is the only signer, the old key cannot be retired; the refusal names the binary.
    const early = await scene.api<any>('DELETE', `/signing_keys/${oldKey.prn}`);
    expect(early.status).toBe(422);
    expect(early.body.errors.signing_key[0]).toContain(binaryPrn);

    const refused = await runAction('sign-binary', {
      ...api,
      'binary-prn': binaryPrn,
      'signing-key-private': newKey.privatePem,
    });
    expect(refused.code).toBe(1);
    expect(errorAnnotations(refused).join('\n')).toMatch(/Input 'also-sign': .*already signed by/);

    const dual = await runAction('sign-binary', {
      ...api,
      'binary-prn': binaryPrn,
      'signing-key-private': newKey.privatePem,
      'also-sign': 'true',
    });
    expect(dual.code, dual.stdout).toBe(0);
    const binary = await getBinary(scene, binaryPrn);
    expect(binary.signatures?.map((s) => s.signing_key_prn).sort()).toEqual([oldKey.prn, newKey.prn].sort());
    const downloaded = join(dir, 'rotate.downloaded');
    await download(scene, binaryPrn, downloaded);
    for (const s of binary.signatures!) {
      const pem = s.signing_key_prn === oldKey.prn ? oldKey.publicPem : newKey.publicPem;
      expect(opensslVerifies(dir, downloaded, s.signature, pem)).toBe(true);
    }

    expect((await scene.api('DELETE', `/signing_keys/${oldKey.prn}`)).status).toBe(204);
    const after = await getBinary(scene, binaryPrn);
    expect(after.signatures?.map((s) => s.signing_key_prn)).toEqual([newKey.prn]);
    expect(after.state).toBe('signed');
  });
});

describe('certificates under --signing-ca', () => {
  let scene: Scene;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ca-e2e-'));
    ssl(
      dir,
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-subj',
      '/CN=release-ca',
      '-days',
      '30',
    );
    ssl(dir, 'genpkey', '-algorithm', 'rsa', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'leaf.key');
    ssl(dir, 'req', '-new', '-key', 'leaf.key', '-subj', '/CN=release-signer', '-out', 'leaf.csr');
    ssl(
      dir,
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-days',
      '-1',
      '-out',
      'expired.pem',
    );
    // A certificate valid for a few seconds: registered while valid, refused once expired.
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'serial'), '01\n');
    writeFileSync(
      join(dir, 'ca.cnf'),
      '[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n',
    );
    const stamp = (ms: number) =>
      new Date(Date.now() + ms).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
    ssl(
      dir,
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-cert',
      'ca.pem',
      '-keyfile',
      'ca.key',
      '-in',
      'leaf.csr',
      '-out',
      'short.pem',
      '-startdate',
      stamp(-60_000),
      '-enddate',
      stamp(4_000),
    );
    scene = await startScene({ args: ['--signing-ca', join(dir, 'ca.pem')] });
  }, 60_000);
  afterAll(() => scene?.stop());

  it('refuses an expired certificate at registration, naming its notAfter date', () => {
    const res = curl(scene, 'POST', '/signing_keys', {
      name: 'expired',
      value: readFileSync(join(dir, 'expired.pem'), 'utf8'),
    });
    expect(res.status).toBe(422);
    expect(res.body.errors.value[0]).toMatch(/certificate expired on \d{4}-.*\(notAfter\)/);
  });

  it('refuses a signature by a certificate that expired since it was registered', async () => {
    const res = curl(scene, 'POST', '/signing_keys', {
      name: 'short',
      value: readFileSync(join(dir, 'short.pem'), 'utf8'),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const file = await writeTestFile(dir, 'late.bin', 10_000);
    const binaryPrn = await uploadSignable(scene, file, 'fw-late');
    const notAfter = new Date(
      execFileSync('openssl', ['x509', '-in', join(dir, 'short.pem'), '-noout', '-enddate'])
        .toString()
        .split('=')[1]!
        .trim(),
    );
    await sleep(Math.max(0, notAfter.getTime() - Date.now()) + 1_500);
    ssl(dir, 'dgst', '-sha256', '-sign', 'leaf.key', '-out', 'late.sig', 'late.bin');
    const signed = curl(scene, 'POST', '/binary_signatures', {
      binary_prn: binaryPrn,
      signing_key_prn: res.body.signing_key.prn,
      signature: readFileSync(join(dir, 'late.sig')).toString('base64'),
    });
    expect(signed.status).toBe(422);
    expect(signed.body.errors.signing_key[0]).toContain(`expired on ${notAfter.toISOString()}`);
  }, 30_000);
});
