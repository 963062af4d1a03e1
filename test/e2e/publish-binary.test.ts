/**
 * publish-binary, bundled, run as a runner runs it against a real registry process: the happy path of a
 * release job, what it leaves behind in the registry, and what a re-run of the finished job does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { errorAnnotations, runAction, type ActionRun } from '../helpers/run-action.js';
import {
  downloadSha256,
  getBinary,
  publishInputs,
  signatureVerifies,
  startScene,
  writeTestFile,
  type Scene,
  type TestFile,
} from './scene.js';

const PART_SIZE = 5_242_880;

describe('publish-binary', () => {
  let scene: Scene;
  let proxy: FaultProxy;
  let file: TestFile;
  let first: ActionRun;
  let inputs: Record<string, string>;

  beforeAll(async () => {
    scene = await startScene();
    proxy = await startFaultProxy({ target: scene.registry.baseUrl });
    // Three parts: two full 5 MiB parts and a short last one.
    file = await writeTestFile(scene.dir, 'firmware.img', 11 * 1024 * 1024 + 123);
    inputs = publishInputs(scene, file, {
      'base-url': proxy.url,
      'part-size': String(PART_SIZE),
      'custom-metadata': JSON.stringify({ board: 'rev-b', commit: 'user-set' }),
    });
    first = await runAction('publish-binary', inputs, { env: { GITHUB_REF: 'refs/tags/v2.3.4-rc.1' } });
  });

  afterAll(async () => {
    await proxy?.close();
    await scene?.stop();
  });

  it('publishes a signed binary: the signature verifies over the hash and the download has the file SHA-256', async () => {
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.outputs).toMatchObject({
      version: '2.3.4-rc.1',
      created: 'true',
      hash: file.sha256,
      size: String(file.size),
      state: 'signed',
      'parts-uploaded': '3',
      'parts-skipped': '0',
      'signing-key-prn': scene.key.prn,
    });
    for (const name of ['artifact-prn', 'artifact-version-prn', 'binary-prn', 'binary-signature-prn']) {
      expect(first.outputs[name]).toMatch(/^prn:1:/);
    }
    expect(first.outputs.signature).toMatch(/^[0-9A-F]{128}$/);
    expect(signatureVerifies(file.sha256, first.outputs.signature!, scene.key.publicPem)).toBe(true);

    const binary = await getBinary(scene, first.outputs['binary-prn']!);
    expect(binary).toMatchObject({
      state: 'signed',
      hash: file.sha256,
      size: file.size,
      target: 'aarch64-linux-gnu',
    });
    expect(await downloadSha256(scene, binary.prn)).toBe(file.sha256);
  });

  it('records provenance in the custom metadata under the user’s own keys', async () => {
    const binary = await getBinary(scene, first.outputs['binary-prn']!);
    expect(binary.custom_metadata).toEqual({
      board: 'rev-b',
      commit: 'user-set', // the user's key wins over the recorded commit
      repository: 'example/firmware',
      ref: 'refs/tags/v2.3.4-rc.1',
      workflow_run_url: 'https://github.com/example/firmware/actions/runs/4242',
    });
  });

  it('logs one group per phase, and a job summary table with what a release manager needs', () => {
    const groups = [...first.stdout.matchAll(/^::group::(.*)$/gm)].map((m) => m[1]);
    expect(groups).toEqual([
      'Signing key',
      'Artifact version 2.3.4-rc.1',
      'Hash firmware.img',
      'Binary record for target aarch64-linux-gnu',
      expect.stringMatching(/^Upload 11\.0 MiB to prn:1:/),
      'Registry verification',
      `Sign ${first.outputs['binary-prn']}`,
    ]);
    expect(first.summary).toContain('<table>');
    for (const cell of [
      'aarch64-linux-gnu',
      '2.3.4-rc.1',
      `${file.size} bytes`,
      file.sha256,
      '3 / 0',
      'MiB/s',
      first.outputs['binary-prn']!,
      first.outputs['artifact-version-prn']!,
      scene.key.prn,
    ]) {
      expect(first.summary).toContain(cell);
    }
    expect(first.summary).toMatch(/Key id<\/th><td><code>[0-9a-f]{64}</);
  });

  it('masks the API key and the private key, and never prints them', () => {
    const masks = [...first.stdout.matchAll(/^::add-mask::(.*)$/gm)].map((m) => m[1]);
    expect(masks).toContain(scene.registry.apiKey);
    const pemBody = scene.key.privatePem.split('\n').find((line) => line && !line.startsWith('-----'))!;
    expect(masks).toContain(pemBody);
    const printed = first.stdout.replace(/^::add-mask::.*$/gm, '') + first.stderr + first.summary;
    expect(printed).not.toContain(scene.registry.apiKey);
    expect(printed).not.toContain(pemBody);
    expect(JSON.stringify(first.outputs)).not.toContain(pemBody);
  });

  it('a re-run of the finished job succeeds, sends nothing, and gives the same outputs', async () => {
    const before = proxy.stats.requests.length;
    const again = await runAction('publish-binary', inputs, { env: { GITHUB_REF: 'refs/tags/v2.3.4-rc.1' } });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    const requests = proxy.stats.requests.slice(before);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`)).toEqual([]);
    expect(requests.reduce((sum, r) => sum + r.bytesIn, 0)).toBe(0);

    // What this run did differs by design: it created nothing and sent no part.
    const differs = ['created', 'parts-uploaded', 'parts-skipped', 'outcome', 'result'];
    const same = (outputs: Record<string, string>) =>
      Object.fromEntries(Object.entries(outputs).filter(([name]) => !differs.includes(name)));
    expect(same(again.outputs)).toEqual(same(first.outputs));
    expect(differs.slice(0, 4).map((name) => again.outputs[name])).toEqual(['false', '0', '3', 'unchanged']);
    expect(first.outputs.outcome).toBe('created');
    expect(JSON.parse(again.outputs.result!)).toEqual({ ...same(again.outputs), ...pick(again.outputs) });
    expect(errorAnnotations(again)).toEqual([]);
  });
});

/** The outputs that `result` holds besides the stable ones, as the JSON types the action wrote. */
function pick(outputs: Record<string, string>): Record<string, unknown> {
  return {
    created: outputs.created === 'true',
    size: Number(outputs.size),
    'parts-uploaded': Number(outputs['parts-uploaded']),
    'parts-skipped': Number(outputs['parts-skipped']),
    outcome: outputs.outcome,
  };
}
