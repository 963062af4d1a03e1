/**
 * Files over 32 MiB hash their parts in a worker thread; every other e2e file is smaller and takes the
 * inline path. This publishes one above the threshold through the bundled action, as a runner would, and
 * checks that the worker path ran and that what it computed is what the registry holds.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction, type ActionRun } from '../helpers/run-action.js';
import {
  downloadSha256,
  getBinary,
  publishInputs,
  startScene,
  writeTestFile,
  type Scene,
  type TestFile,
} from './scene.js';

const MIB = 1024 * 1024;
const PART_SIZE = 8 * MIB;

async function rangeSha256(path: string, start: number, size: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { start, end: start + size - 1 }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe('publish-binary with a file above the worker threshold', () => {
  let scene: Scene;
  let file: TestFile;
  let run: ActionRun;

  beforeAll(async () => {
    scene = await startScene();
    // 36 MiB and a bit: four full 8 MiB parts and a short fifth, just over the 32 MiB inline limit.
    file = await writeTestFile(scene.dir, 'large.img', 36 * MIB + 4321);
    run = await runAction('publish-binary', publishInputs(scene, file, { 'part-size': String(PART_SIZE) }));
  }, 180_000);

  afterAll(async () => {
    await scene?.stop();
  });

  it('hashes the parts in a worker thread', () => {
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^::debug::hashing 5 parts in a worker thread \(file over 33554432 bytes\)$/m);
    expect(run.stdout).not.toContain('parts in this thread');
  });

  it('publishes the right hash, and each part the registry holds has the SHA-256 of its byte range', async () => {
    expect(run.outputs).toMatchObject({
      hash: file.sha256,
      size: String(file.size),
      state: 'signed',
      'parts-uploaded': '5',
    });
    const binary = await getBinary(scene, run.outputs['binary-prn']!);
    expect(binary).toMatchObject({ state: 'signed', hash: file.sha256, size: file.size });
    expect(await downloadSha256(scene, binary.prn)).toBe(file.sha256);

    const { body } = await scene.api<{ binary_parts: { index: number; hash: string; size: number }[] }>(
      'GET',
      `/binaries/${binary.prn}/parts`,
    );
    const parts = [...body.binary_parts].sort((a, b) => a.index - b.index);
    expect(parts.map((p) => p.size)).toEqual([PART_SIZE, PART_SIZE, PART_SIZE, PART_SIZE, 4 * MIB + 4321]);
    for (const part of parts) {
      expect(part.hash, `part ${part.index}`).toBe(
        await rangeSha256(file.path, (part.index - 1) * PART_SIZE, part.size),
      );
    }
  });
});
