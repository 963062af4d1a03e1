/**
 * Scoped API keys as a user meets them: keys made with `peridio-registry api-keys` against the data dir
 * of a running registry, the bundled actions run with them, and the audit export afterwards.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryBundle } from '../helpers/registry-process.js';
import { runAction } from '../helpers/run-action.js';
import { startScene, writeTestFile, type Scene, type TestFile } from './scene.js';

function registryCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [registryBundle, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

let scene: Scene;
let workspace: string;
let file: TestFile;
const keys: Record<string, { prn: string; key: string }> = {};

async function createKey(name: string, role: string, extra: string[] = []) {
  const run = await registryCli([
    'api-keys',
    'create',
    '--name',
    name,
    '--role',
    role,
    ...extra,
    '--data-dir',
    scene.registry.dataDir,
  ]);
  expect(run.code, run.stderr).toBe(0);
  expect(run.stderr).toContain('shown only once');
  return JSON.parse(run.stdout) as { prn: string; key: string; role: string };
}

beforeAll(async () => {
  scene = await startScene();
  workspace = join(scene.dir, 'workspace');
  mkdirSync(workspace, { recursive: true });
  file = await writeTestFile(workspace, 'fw.img', 300_000);
  keys.publisher = await createKey('ci', 'publisher', ['--expires', '90d']);
  keys.signer = await createKey('signing-job', 'signer');
}, 60_000);
afterAll(() => scene?.stop());

const api = (key: string) => ({ 'api-key': key, 'base-url': scene.registry.baseUrl });

describe('api keys with roles, end to end', () => {
  let version: string;
  let binary: string;

  it('a publisher key creates the version and uploads the binary', async () => {
    const v = await runAction(
      'create-artifact-version',
      { ...api(keys.publisher!.key), artifact: 'gadget' },
      { env: { GITHUB_REF: 'refs/tags/v2.0.0' } },
    );
    expect(v.code, v.stdout).toBe(0);
    version = v.outputs['artifact-version-prn']!;
    const up = await runAction(
      'upload-binary',
      { ...api(keys.publisher!.key), 'artifact-version-prn': version, target: 'arm64', file: 'fw.img' },
      { cwd: workspace },
    );
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(up.outputs).toMatchObject({ state: 'signable', hash: file.sha256 });
    binary = up.outputs['binary-prn']!;
  });

  it('the publisher key gets a clear 403 from sign-binary, naming the role the step needs', async () => {
    const sign = await runAction('sign-binary', {
      ...api(keys.publisher!.key),
      'binary-prn': binary,
      'signing-key-private': scene.key.privatePem,
      'signing-key-prn': scene.key.prn,
    });
    expect(sign.code).not.toBe(0);
    const error = /^::error::(.*)$/m.exec(sign.stdout)?.[1];
    expect(error).toMatch(
      /^Input 'api-key': the API key may not do this \(HTTP 403 on POST \/binary_signatures/,
    );
    expect(error).toContain("needs an API key with role signer (or admin); the key 'ci' has role publisher");
    expect(error).toMatch(/sign-binary needs an API key with role signer \(or admin\)$/);
    // The runner masks the key (::add-mask:: is how an action asks it to); nothing else carries it.
    const shown = sign.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::'));
    expect(shown.join('\n')).not.toContain(keys.publisher!.key);
  });

  it('a signer key signs', async () => {
    const sign = await runAction('sign-binary', {
      ...api(keys.signer!.key),
      'binary-prn': binary,
      'signing-key-private': scene.key.privatePem,
      'signing-key-prn': scene.key.prn,
    });
    expect(sign.code, sign.stdout).toBe(0);
    expect(sign.outputs.state).toBe('signed');
  });

  it('lists keys without secrets, and a key revoked by the CLI is refused at once', async () => {
    const list = await registryCli(['api-keys', 'list', '--data-dir', scene.registry.dataDir]);
    expect(list.code).toBe(0);
    const listed = list.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(listed.map((k) => k.name)).toEqual(['signing-job', 'ci']);
    expect(list.stdout).not.toContain(keys.publisher!.key.slice(37));
    const revoke = await registryCli([
      'api-keys',
      'revoke',
      keys.publisher!.prn,
      '--data-dir',
      scene.registry.dataDir,
    ]);
    expect(revoke.code, revoke.stderr).toBe(0);
    const res = await fetch(`${scene.registry.baseUrl}/artifacts`, {
      headers: { authorization: `Token ${keys.publisher!.key}` },
    });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain("the API key 'ci' was revoked");
    const up = await runAction(
      'upload-binary',
      { ...api(keys.publisher!.key), 'artifact-version-prn': version, target: 'x86', file: 'fw.img' },
      { cwd: workspace },
    );
    expect(up.code).not.toBe(0);
    expect(up.stdout, up.stdout).toMatch(
      /::error::Input 'api-key': the registry at \S+ rejected the API key \(HTTP 401\)/,
    );
  });

  it('an expired key is refused', async () => {
    const soon = await createKey('short', 'reader', ['--expires', new Date(Date.now() + 1500).toISOString()]);
    await new Promise((r) => setTimeout(r, 1600));
    const res = await fetch(`${scene.registry.baseUrl}/artifacts`, {
      headers: { authorization: `Token ${soon.key}` },
    });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain("the API key 'short' expired at");
  });

  it('the CLI refuses a bad role or expiry, naming the option', async () => {
    const role = await registryCli([
      'api-keys',
      'create',
      '--name',
      'x',
      '--role',
      'owner',
      '--data-dir',
      scene.registry.dataDir,
    ]);
    expect(role.code).toBe(2);
    expect(role.stderr).toContain(
      '--role is invalid: must be one of admin, publisher, signer, releaser, reader, device-check',
    );
    const expiry = await registryCli([
      'api-keys',
      'create',
      '--name',
      'x',
      '--role',
      'reader',
      '--expires',
      'soon',
      '--data-dir',
      scene.registry.dataDir,
    ]);
    expect(expiry.code).toBe(2);
    expect(expiry.stderr).toContain("--expires is invalid: must be a duration like '90d'");
  });

  it('audit export writes the events with their actors as JSON lines and CSV', async () => {
    const jsonl = await registryCli([
      'audit',
      'export',
      '--since',
      '1h',
      '--format',
      'jsonl',
      '--data-dir',
      scene.registry.dataDir,
    ]);
    expect(jsonl.code, jsonl.stderr).toBe(0);
    const events = jsonl.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const signature = events.find((e) => e.type === 'binary_signature' && e.event_subtype === 'created');
    expect(signature.actor_prn).toBe(keys.signer!.prn);
    expect(signature.data.data.signature).toMatchObject({
      hash: file.sha256,
      signing_key_prn: scene.key.prn,
    });
    expect(signature.data.data.signature.provenance).toHaveProperty('repository');
    // Keys made and revoked with the CLI are audited too.
    const byCli = events.filter((e) => e.type === 'api_key');
    expect(byCli.map((e) => e.event_subtype)).toEqual(['created', 'created', 'revoked', 'created']);
    expect(byCli[0].data.data.actor.name).toBe('peridio-registry CLI');
    expect(jsonl.stdout).not.toContain(keys.signer!.key.slice(37));
    const csv = await registryCli([
      'audit',
      'export',
      '--since',
      '2000-01-01T00:00:00Z',
      '--format',
      'csv',
      '--data-dir',
      scene.registry.dataDir,
    ]);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe(
      'prn,inserted_at,type,subtype,resource_prn,actor_prn,actor_name,remote_address,data',
    );
    expect(lines.some((l) => l.includes(',binary_signature,created,') && l.includes(',signing-job,'))).toBe(
      true,
    );
    const bad = await registryCli([
      'audit',
      'export',
      '--format',
      'xml',
      '--data-dir',
      scene.registry.dataDir,
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--format must be jsonl or csv');
  });
});
