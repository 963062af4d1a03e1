/**
 * Races between matrix jobs, as a release workflow runs them: bundled publish-binary processes started at
 * the same moment against one real registry process. The registry and the flow together must end with
 * one artifact, one version and one binary per target, each signed over the content that won.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry } from '../helpers/registry-process.js';
import { errorAnnotations, runAction } from '../helpers/run-action.js';
import {
  call,
  createArtifactVersion,
  listAll,
  makeKey,
  measurement,
  ok,
  registerKey,
  sha256,
  uploadParts,
  waitForState,
  type Registry,
  type TestKey,
} from './registry-api.js';

let dir: string;
let registry: Registry;
let key: TestKey;
let keyPrn: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'peridio-races-'));
  registry = await startRegistry({ dataDir: join(dir, 'registry') });
  key = makeKey();
  keyPrn = await registerKey(registry, key, 'races');
});

afterAll(async () => {
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function makeFile(name: string, size = 1024): Promise<{ path: string; hash: string }> {
  const bytes = randomBytes(size);
  const path = join(dir, name);
  await writeFile(path, bytes);
  return { path, hash: sha256(bytes) };
}

async function publish(artifact: string, target: string, file: string) {
  const started = performance.now();
  const run = await runAction(
    'publish-binary',
    {
      'api-key': registry.apiKey,
      'base-url': registry.baseUrl,
      artifact,
      version: '1.0.0',
      target,
      file,
      'signing-key-private': key.privatePem,
    },
    { timeoutMs: 90_000 },
  );
  return { ...run, ms: Math.round(performance.now() - started), error: errorAnnotations(run).join('\n') };
}

/** The artifact's versions and their live (not destroyed) binaries. */
async function published(artifact: string) {
  const artifacts = (await listAll(registry, 'artifacts')).filter((a) => a.name === artifact);
  const versions = (await listAll(registry, 'artifact_versions')).filter((v) =>
    artifacts.some((a) => a.prn === v.artifact_prn),
  );
  const binaries = (await listAll(registry, 'binaries')).filter(
    (b) => versions.some((v) => v.prn === b.artifact_version_prn) && b.state !== 'destroyed',
  );
  return { artifacts, versions, binaries };
}

function expectSignedOnce(binary: any, hash: string) {
  expect(binary).toMatchObject({ state: 'signed', hash });
  expect(binary.signatures).toHaveLength(1);
  expect(binary.signatures[0]).toMatchObject({ signing_key_prn: keyPrn, signature: key.signHash(hash) });
}

describe('two jobs publishing the same target and version at once', () => {
  it('with the same content: both succeed, and there is one binary, signed once', async () => {
    const file = await makeFile('same.bin');
    const [a, b] = await Promise.all([
      publish('race-same', 'aarch64-linux-gnu', file.path),
      publish('race-same', 'aarch64-linux-gnu', file.path),
    ]);
    expect(a.code, a.stdout + a.stderr).toBe(0);
    expect(b.code, b.stdout + b.stderr).toBe(0);
    expect(a.outputs['binary-prn']).toBe(b.outputs['binary-prn']);
    const { artifacts, versions, binaries } = await published('race-same');
    expect(artifacts).toHaveLength(1);
    expect(versions).toHaveLength(1);
    expect(binaries).toHaveLength(1);
    expectSignedOnce(binaries[0], file.hash);
    measurement('Races', 'same target, same content, 2 jobs', {
      exitCodes: [a.code, b.code],
      jobMs: [a.ms, b.ms],
      binaries: binaries.length,
      signatures: binaries[0].signatures.length,
    });
  }, 120_000);

  // Depending on timing the loser finds the winner's binary already signed, or is reset under while it
  // uploads (fa1f30c: before it, both jobs could fail and leave the target unsigned).
  it('with different content: one wins, the other fails with a clear message, and the binary is the winner’s', async () => {
    const fileA = await makeFile('a.bin');
    const fileB = await makeFile('b.bin');
    const [a, b] = await Promise.all([
      publish('race-diff', 'x86_64-linux-gnu', fileA.path),
      publish('race-diff', 'x86_64-linux-gnu', fileB.path),
    ]);
    const runs = [
      { run: a, file: fileA },
      { run: b, file: fileB },
    ];
    const winners = runs.filter((r) => r.run.code === 0);
    const losers = runs.filter((r) => r.run.code !== 0);
    expect(
      winners.map((w) => w.run.code),
      runs.map((r) => r.run.stdout).join('\n----\n'),
    ).toHaveLength(1);
    expect(losers).toHaveLength(1);
    const loser = losers[0]!.run;
    // A clear message: names the target and says the content differs from what is published.
    expect(loser.error, loser.stdout).toMatch(/x86_64-linux-gnu/);
    // Every conflict message of the flows says "other content" and quotes this job's own hash.
    expect(loser.error).toContain('other content');
    expect(loser.error).toContain(losers[0]!.file.hash);
    const { versions, binaries } = await published('race-diff');
    expect(versions).toHaveLength(1);
    expect(binaries).toHaveLength(1);
    expectSignedOnce(binaries[0], winners[0]!.file.hash);
    expect(winners[0]!.run.outputs.hash).toBe(winners[0]!.file.hash);
    // The registry serves the winner's bytes.
    const { download_url } = await ok(registry, 'GET', `/binaries/${binaries[0].prn}/download_url`);
    expect(sha256(Buffer.from(await (await fetch(download_url)).arrayBuffer()))).toBe(winners[0]!.file.hash);
    measurement('Races', 'same target, different content, 2 jobs', {
      exitCodes: [a.code, b.code],
      jobMs: [a.ms, b.ms],
      binaries: binaries.length,
      loserMessage: loser.error.split('\n')[0]!.slice(0, 200),
    });
  }, 120_000);
});

describe('a matrix of 16 targets of one version', () => {
  it('all 16 jobs succeed at once: one artifact, one version, 16 signed binaries', async () => {
    const targets = Array.from({ length: 16 }, (_, i) => `target-${String(i).padStart(2, '0')}`);
    const files = await Promise.all(targets.map((t) => makeFile(`${t}.bin`)));
    const started = performance.now();
    const runs = await Promise.all(targets.map((t, i) => publish('race-matrix', t, files[i]!.path)));
    const wallMs = Math.round(performance.now() - started);
    for (const [i, run] of runs.entries())
      expect(run.code, `${targets[i]}: ${run.stdout}\n${run.stderr}`).toBe(0);
    const { artifacts, versions, binaries } = await published('race-matrix');
    expect(artifacts).toHaveLength(1);
    expect(versions).toHaveLength(1);
    expect(new Set(runs.map((r) => r.outputs['artifact-version-prn']))).toEqual(new Set([versions[0].prn]));
    expect(runs.filter((r) => r.outputs.created === 'true')).toHaveLength(1);
    expect(binaries).toHaveLength(16);
    for (const [i, target] of targets.entries()) {
      const binary = binaries.find((b) => b.target === target);
      expectSignedOnce(binary, files[i]!.hash);
    }
    measurement('Races', '16 targets of one version, 16 jobs', {
      jobs: runs.length,
      failures: runs.filter((r) => r.code !== 0).length,
      artifacts: artifacts.length,
      versions: versions.length,
      signedBinaries: binaries.filter((b) => b.state === 'signed').length,
      wallMs,
      jobMsMax: Math.max(...runs.map((r) => r.ms)),
    });
  }, 180_000);
});

describe('racing Admin API calls', () => {
  it('20 creates of one artifact name, and of one target, at once: exactly one wins, the rest are 422', async () => {
    const names = await Promise.all(
      Array.from({ length: 20 }, () => call(registry, 'POST', '/artifacts', { body: { name: 'same-name' } })),
    );
    const { versionPrn } = await createArtifactVersion(registry, 'same-target');
    const targets = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call(registry, 'POST', '/binaries', {
          body: { artifact_version_prn: versionPrn, target: 'one', hash: sha256(String(i)), size: 1 },
        }),
      ),
    );
    for (const replies of [names, targets]) {
      expect(replies.filter((r) => r.status === 201)).toHaveLength(1);
      expect(replies.filter((r) => r.status === 422)).toHaveLength(19);
    }
    for (const refused of targets.filter((r) => r.status === 422))
      expect(refused.json).toEqual({ errors: { target: ['has already been taken'] } });
    for (const refused of names.filter((r) => r.status === 422))
      expect(Object.keys(refused.json.errors)).toEqual(['name']);
    expect((await listAll(registry, 'artifacts')).filter((a) => a.name === 'same-name')).toHaveLength(1);
    expect(
      (await listAll(registry, 'binaries')).filter((b) => b.artifact_version_prn === versionPrn),
    ).toHaveLength(1);
    measurement('Races', '20 concurrent creates of one name / one target', {
      artifactCreates: { created: 1, refused422: names.filter((r) => r.status === 422).length },
      binaryCreates: { created: 1, refused422: targets.filter((r) => r.status === 422).length },
    });
  });

  it("a reset while the server's hash check is pending never makes the old content signable", async () => {
    const slow = await startRegistry({ env: { PERIDIO_REGISTRY_HASHING_DELAY_MS: '400' } });
    try {
      const { versionPrn } = await createArtifactVersion(slow, 'reset-while-hashing');
      const [first, second] = [randomBytes(2048), randomBytes(3000)];
      const { binary } = await ok(slow, 'POST', '/binaries', {
        artifact_version_prn: versionPrn,
        target: 'reset',
        hash: sha256(first),
        size: first.length,
      });
      await uploadParts(slow, binary.prn, first);
      await ok(slow, 'PATCH', `/binaries/${binary.prn}`, { state: 'hashable' });
      await ok(slow, 'PATCH', `/binaries/${binary.prn}`, { state: 'hashing' });
      // Another job takes the record over before the check runs.
      await ok(slow, 'PATCH', `/binaries/${binary.prn}`, { state: 'uploadable' });
      await ok(slow, 'PATCH', `/binaries/${binary.prn}`, { hash: sha256(second), size: second.length });
      await new Promise((resolve) => setTimeout(resolve, 800));
      const after = (await ok(slow, 'GET', `/binaries/${binary.prn}`)).binary;
      expect(after).toMatchObject({ state: 'uploadable', hash: sha256(second), size: second.length });
      expect((await ok(slow, 'GET', `/binaries/${binary.prn}/parts`)).binary_parts).toEqual([]);

      await uploadParts(slow, binary.prn, second);
      await ok(slow, 'PATCH', `/binaries/${binary.prn}`, { state: 'hashable' });
      await ok(slow, 'PATCH', `/binaries/${binary.prn}`, { state: 'hashing' });
      await waitForState(slow, binary.prn, 'signable');
      const { download_url } = await ok(slow, 'GET', `/binaries/${binary.prn}/download_url`);
      expect(sha256(Buffer.from(await (await fetch(download_url)).arrayBuffer()))).toBe(sha256(second));
      measurement('Races', 'reset while the hash check is pending', {
        stateAfterReset: after.state,
        partsAfterReset: 0,
        finalContent: 'the second upload',
      });
    } finally {
      await slow.stop();
    }
  });
});
