/**
 * The three actions one after another, as the split-signing example workflow runs them: the version, then
 * the upload (no signing key in that job), then the signature in a job of its own. Each step's outputs feed
 * the next, and re-running any step changes nothing.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runAction, type ActionRun } from '../helpers/run-action.js';
import {
  getBinary,
  signatureVerifies,
  startScene,
  writeTestFile,
  type Scene,
  type TestFile,
} from './scene.js';

let scene: Scene;
let workspace: string;
let file: TestFile;
let api: Record<string, string>;
let version: ActionRun;
let upload: ActionRun;
let sign: ActionRun;

beforeAll(async () => {
  scene = await startScene();
  workspace = join(scene.dir, 'workspace');
  mkdirSync(join(workspace, 'out'), { recursive: true });
  file = await writeTestFile(join(workspace, 'out'), 'rootfs.img', 6 * 1024 * 1024);
  api = { 'api-key': scene.registry.apiKey, 'base-url': scene.registry.baseUrl };
});
afterAll(async () => {
  await scene?.stop();
});

it('create-artifact-version takes the version from the tag and creates it once', async () => {
  version = await runAction(
    'create-artifact-version',
    { ...api, artifact: 'rootfs', description: 'Spring release', 'custom-metadata': '{"channel":"beta"}' },
    { env: { GITHUB_REF: 'refs/tags/v4.1.0' } },
  );
  expect(version.code, version.stdout).toBe(0);
  expect(version.outputs).toMatchObject({ version: '4.1.0', created: 'true' });
  const stored = await scene.api<{ artifact_version: Record<string, unknown> }>(
    'GET',
    `/artifact_versions/${version.outputs['artifact-version-prn']}`,
  );
  expect(stored.body.artifact_version).toMatchObject({
    description: 'Spring release',
    custom_metadata: { channel: 'beta' },
  });

  const again = await runAction(
    'create-artifact-version',
    { ...api, artifact: 'rootfs' },
    { env: { GITHUB_REF: 'refs/tags/v4.1.0' } },
  );
  expect(version.outputs.outcome).toBe('created');
  expect(withoutOutcome(again.outputs)).toEqual({ ...withoutOutcome(version.outputs), created: 'false' });
  expect(again.outputs.outcome).toBe('unchanged');
});

it('upload-binary uploads a workspace-relative file and leaves the binary signable', async () => {
  const inputs = {
    ...api,
    'artifact-version-prn': version.outputs['artifact-version-prn']!,
    target: 'armv7-linux-gnueabihf',
    file: 'out/rootfs.img',
    'part-size': '5MiB',
    'hashing-timeout': '2m',
  };
  upload = await runAction('upload-binary', inputs, { cwd: workspace });
  expect(upload.code, upload.stdout + upload.stderr).toBe(0);
  expect(upload.outputs).toMatchObject({
    hash: file.sha256,
    size: String(file.size),
    state: 'signable',
    'parts-uploaded': '2',
    'parts-skipped': '0',
  });
  expect(upload.summary).toContain('2 / 0');
  const binary = await getBinary(scene, upload.outputs['binary-prn']!);
  expect(binary.custom_metadata).toMatchObject({ repository: 'example/firmware', ref: 'refs/tags/v1.0.0' });

  const again = await runAction('upload-binary', inputs, { cwd: workspace });
  expect(again.code).toBe(0);
  expect(withoutOutcome(again.outputs)).toEqual({
    ...withoutOutcome(upload.outputs),
    'parts-uploaded': '0',
    'parts-skipped': '2',
  });
  expect([upload.outputs.outcome, again.outputs.outcome]).toEqual(['created', 'unchanged']);
});

it('sign-binary finds the registered key from a base64 PEM and signs', async () => {
  const key64 = Buffer.from(scene.key.privatePem).toString('base64');
  sign = await runAction('sign-binary', {
    ...api,
    'binary-prn': upload.outputs['binary-prn']!,
    'signing-key-private': key64,
  });
  expect(sign.code, sign.stdout + sign.stderr).toBe(0);
  expect(sign.outputs).toMatchObject({ state: 'signed', 'signing-key-prn': scene.key.prn });
  expect(signatureVerifies(file.sha256, sign.outputs.signature!, scene.key.publicPem)).toBe(true);
  expect(sign.stdout).toContain(`::add-mask::${key64}`);
  expect(sign.summary).toContain('by this run');
});

it('sign-binary again, with the key PRN given: success, nothing sent, same outputs', async () => {
  const again = await runAction('sign-binary', {
    ...api,
    'binary-prn': upload.outputs['binary-prn']!,
    'signing-key-private': scene.key.privatePem,
    'signing-key-prn': scene.key.prn,
  });
  expect(again.code, again.stdout).toBe(0);
  expect(withoutOutcome(again.outputs)).toEqual(withoutOutcome(sign.outputs));
  expect([sign.outputs.outcome, again.outputs.outcome]).toEqual(['created', 'unchanged']);
  expect(again.stdout).not.toMatch(/POST \/binary_signatures/);
  expect(again.summary).toContain('already, by this key (nothing sent)');
});

/** `outcome` (and `result`, which contains it) say what a run did, so they differ between a run and its re-run. */
function withoutOutcome(outputs: Record<string, string>): Record<string, string> {
  const { outcome: _outcome, result, ...rest } = outputs;
  expect(JSON.parse(result!)).toMatchObject({ outcome: _outcome });
  return rest;
}
