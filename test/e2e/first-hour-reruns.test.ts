/**
 * Re-runs and the outputs a workflow relies on, through the bundled actions against a real registry:
 * a re-run that rebuilt a non-reproducible file keeps the signed binary of the same commit, a split
 * signing job refuses a binary the build did not produce, one version rule for tags and explicit
 * versions, dry runs that create nothing, and `summary: false`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorAnnotations, runAction } from '../helpers/run-action.js';
import { getBinary, publishInputs, startScene, writeTestFile, type Scene, type TestFile } from './scene.js';

let scene: Scene;
let file: TestFile;

beforeAll(async () => {
  scene = await startScene();
  file = await writeTestFile(scene.dir, 'fw.img', 4096);
});
afterAll(async () => {
  await scene?.stop();
});

const OTHER_COMMIT = 'fedcba9876543210fedcba9876543210fedcba98';

describe('a re-run that rebuilt the file (not byte-reproducible)', () => {
  it('same repository and commit: succeeds, keeps the signed binary, outputs point to it, warns', async () => {
    const inputs = publishInputs(scene, file, { target: 'rebuilt', version: '3.0.0' });
    const first = await runAction('publish-binary', inputs);
    expect(first.code, first.stdout).toBe(0);

    const rebuilt = await writeTestFile(scene.dir, 'rebuilt.img', 4096);
    const again = await runAction('publish-binary', { ...inputs, file: rebuilt.path });
    expect(again.code, again.stdout).toBe(0);
    expect(again.outputs.outcome).toBe('kept-existing');
    expect(again.outputs['binary-prn']).toBe(first.outputs['binary-prn']);
    expect(again.outputs.hash).toBe(file.sha256);
    expect(again.outputs.signature).toBe(first.outputs.signature);
    expect(again.stdout).toMatch(
      /^::warning::.*rebuilt file differs \(sha256 [0-9a-f]{64}.*was not published/m,
    );
    expect(again.stdout).toContain(rebuilt.sha256);
    const binary = await getBinary(scene, first.outputs['binary-prn']!);
    expect(binary).toMatchObject({ state: 'signed', hash: file.sha256 });
  });

  it('another commit: fails as before, naming the deliberate way out', async () => {
    const inputs = publishInputs(scene, file, { target: 'rebuilt-other', version: '3.0.0' });
    expect((await runAction('publish-binary', inputs)).code).toBe(0);
    const rebuilt = await writeTestFile(scene.dir, 'rebuilt-other.img', 4096);
    const run = await runAction(
      'publish-binary',
      { ...inputs, file: rebuilt.path },
      { env: { GITHUB_SHA: OTHER_COMMIT } },
    );
    expect(run.code).toBe(1);
    const [message] = errorAnnotations(run);
    expect(message).toContain('already signed with other content');
    expect(message).toContain('destroy the old binary');
    // The failure summary: how far the step got, and what a re-run does.
    expect(run.summary).toContain('publish-binary failed');
    expect(run.summary).toContain(
      'Phases started: Signing key → Artifact version 3.0.0 → Hash rebuilt-other.img',
    );
    expect(run.summary).toContain('A re-run of this job continues from what the registry holds');
  });

  it('if-signed-differs: fail refuses even the same commit', async () => {
    const inputs = publishInputs(scene, file, { target: 'rebuilt-strict', version: '3.0.0' });
    expect((await runAction('publish-binary', inputs)).code).toBe(0);
    const rebuilt = await writeTestFile(scene.dir, 'rebuilt-strict.img', 4096);
    const run = await runAction('publish-binary', {
      ...inputs,
      file: rebuilt.path,
      'if-signed-differs': 'fail',
    });
    expect(run.code).toBe(1);
    expect(errorAnnotations(run)[0]).toContain('already signed with other content');
  });
});

describe('sign-binary expected-hash', () => {
  async function uploaded(target: string) {
    const version = await runAction('create-artifact-version', {
      'api-key': scene.registry.apiKey,
      'base-url': scene.registry.baseUrl,
      artifact: 'split',
      version: '1.0.0',
    });
    const upload = await runAction('upload-binary', {
      'api-key': scene.registry.apiKey,
      'base-url': scene.registry.baseUrl,
      'artifact-version-prn': version.outputs['artifact-version-prn']!,
      target,
      file: file.path,
    });
    expect(upload.code, upload.stdout).toBe(0);
    return upload.outputs;
  }

  it('refuses to sign a binary whose hash is not the expected one, and signs nothing', async () => {
    const upload = await uploaded('expected-wrong');
    const other = 'ab'.repeat(32);
    const run = await runAction('sign-binary', {
      'api-key': scene.registry.apiKey,
      'base-url': scene.registry.baseUrl,
      'binary-prn': upload['binary-prn']!,
      'signing-key-private': scene.key.privatePem,
      'expected-hash': other,
    });
    expect(run.code).toBe(1);
    expect(errorAnnotations(run)).toEqual([
      expect.stringMatching(
        new RegExp(`^Input 'expected-hash': .*holds sha256 ${file.sha256}, not the expected ${other}`),
      ),
    ]);
    expect(await getBinary(scene, upload['binary-prn']!)).toMatchObject({
      state: 'signable',
      signatures: [],
    });
  });

  it('signs when the hash is the expected one', async () => {
    const upload = await uploaded('expected-right');
    const run = await runAction('sign-binary', {
      'api-key': scene.registry.apiKey,
      'base-url': scene.registry.baseUrl,
      'binary-prn': upload['binary-prn']!,
      'signing-key-private': scene.key.privatePem,
      'expected-hash': upload.hash!,
    });
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs).toMatchObject({ state: 'signed', outcome: 'created' });
  });
});

describe('versions', () => {
  const create = (env: Record<string, string>, version = '') =>
    runAction(
      'create-artifact-version',
      { 'api-key': scene.registry.apiKey, 'base-url': scene.registry.baseUrl, artifact: 'versions', version },
      { env },
    );

  it.each([
    ['refs/tags/v1.2', '1.2'],
    ['refs/tags/v2024.06.1', '2024.06.1'],
    ['refs/tags/nightly', 'nightly'],
  ])('the tag %s gives the version %s', async (ref, version) => {
    const run = await create({ GITHUB_REF: ref });
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs.version).toBe(version);
  });

  it('an explicit v2.0.0 and the tag v2.0.0 give one version, with a notice', async () => {
    const explicit = await create({ GITHUB_REF: 'refs/heads/main' }, 'v2.0.0');
    expect(explicit.code, explicit.stdout).toBe(0);
    expect(explicit.stdout).toMatch(
      /^::notice::version: using '2\.0\.0' \(the leading 'v' of 'v2\.0\.0' is dropped\)/m,
    );
    const tagged = await create({ GITHUB_REF: 'refs/tags/v2.0.0' });
    expect(tagged.outputs['artifact-version-prn']).toBe(explicit.outputs['artifact-version-prn']);
    expect([explicit.outputs.version, tagged.outputs.outcome]).toEqual(['2.0.0', 'unchanged']);
  });
});

describe('dry-run and summary', () => {
  it('dry-run checks the registry and the key, says what would be created, and creates nothing', async () => {
    const run = await runAction(
      'publish-binary',
      publishInputs(scene, file, { artifact: 'dry-only', 'dry-run': 'true' }),
    );
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs.outcome).toBe('dry-run');
    expect(run.stdout).toContain(`dry-run: signing key ${scene.key.prn} is registered`);
    expect(run.stdout).toContain('dry-run: would create artifact dry-only');
    expect(run.stdout).toContain('dry-run: would create the binary for target');
    const search = encodeURIComponent("name:'dry-only'");
    expect(
      (await scene.api<{ artifacts: unknown[] }>('GET', `/artifacts?search=${search}`)).body.artifacts,
    ).toEqual([]);
  });

  it('dry-run fails on a wrong API key, as a real run would', async () => {
    const run = await runAction(
      'publish-binary',
      publishInputs(scene, file, { 'api-key': 'wrong', 'dry-run': 'true' }),
    );
    expect(run.code).toBe(1);
    expect(errorAnnotations(run)[0]).toMatch(/^Input 'api-key': .*HTTP 401/);
  });

  it('summary: false writes no job summary; result holds every output', async () => {
    const run = await runAction(
      'publish-binary',
      publishInputs(scene, file, { target: 'no-summary', version: '9.0.0', summary: 'false' }),
    );
    expect(run.code, run.stdout).toBe(0);
    expect(run.summary).toBe('');
    const result = JSON.parse(run.outputs.result!) as Record<string, unknown>;
    for (const [name, value] of Object.entries(run.outputs)) {
      if (name !== 'result') expect(String(result[name])).toBe(value);
    }
    expect(result.outcome).toBe('created');
  });
});
