/**
 * The file is rewritten after the action hashed it, while its first part is being uploaded. The run
 * must fail saying so, leave nothing signed (the registry never verifies mixed content), and a re-run
 * with the new file must publish exactly the new bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, utimes } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorAnnotations } from '../helpers/run-action.js';
import {
  MiB,
  api,
  expectPublished,
  expectSignaturesOverHash,
  findBinary,
  makeFile,
  presignedPart,
  publish,
  reportMeasurement,
  startScene,
  type Scene,
  type TestFile,
} from './faults-harness.js';

/** Overwrites the file in place (same inode, same size) with new random bytes; returns the new hash. */
async function rewriteInPlace(file: TestFile, options: { keepMtime?: number } = {}): Promise<TestFile> {
  const handle = await open(file.path, 'r+');
  const hash = createHash('sha256');
  try {
    for (let offset = 0; offset < file.size; offset += MiB) {
      const chunk = randomBytes(Math.min(MiB, file.size - offset));
      hash.update(chunk);
      await handle.write(chunk, 0, chunk.length, offset);
    }
  } finally {
    await handle.close();
  }
  // A tool that restores timestamps (tar, rsync -t, some caches) defeats any size+mtime check.
  if (options.keepMtime !== undefined) await utimes(file.path, options.keepMtime, options.keepMtime);
  return { ...file, sha256: hash.digest('hex') };
}

// Each test runs the action one to three times; generous under a loaded CI machine.
describe('the file changes between hashing and upload', { timeout: 120_000 }, () => {
  let scene: Scene;
  beforeAll(async () => {
    scene = await startScene();
  });
  afterAll(async () => {
    await scene?.close();
  });
  beforeEach(() => {
    scene.proxy.clearRules();
    scene.proxy.stats.requests.length = 0;
  });

  it.each([
    // The size+mtime check before each part attempt sees it.
    ['rewritten in place', false, /file changed since it was hashed \(size/],
    // Only the storage's per-part SHA-256 check can: the registry refuses the part.
    ['rewritten in place with its mtime restored', true, /storage says the bytes do not match/],
  ])(
    '%s during the first part upload: clear failure, nothing signed; a re-run publishes the new file',
    async (label, keepMtime, message) => {
      const target = keepMtime ? 'changed-mtime-kept' : 'changed';
      const original = await makeFile(scene.dir, `${target}.bin`);
      // Whole seconds, so that restoring the timestamp gives back exactly the mtime the action saw.
      const mtime = Math.floor(Date.now() / 1000) - 60;
      await utimes(original.path, mtime, mtime);
      let changed: TestFile | undefined;
      scene.proxy.addRule({
        method: 'PUT',
        path: presignedPart(1),
        action: { kind: 'pass' },
        onFire: async () => {
          changed = await rewriteInPlace(original, keepMtime ? { keepMtime: mtime } : {});
        },
      });
      // One part at a time: the change lands in the middle of part 1, parts 2 and 3 not yet read.
      const first = await publish(scene, original, { target, inputs: { concurrency: '1' } });
      // The hook ran and the file on disk now holds other bytes of the same size.
      expect(changed?.size).toBe(original.size);
      expect(changed?.sha256).not.toBe(original.sha256);
      expect(first.code).not.toBe(0);
      expect(errorAnnotations(first).join('\n')).toMatch(message);
      expect(`${first.stdout}\n${first.stderr}`).toContain(original.path);

      // Neither the old hash nor the mixed bytes got past the registry: unsigned, never verified.
      const stuck = await findBinary(scene.registry, target);
      expect(stuck).toMatchObject({ hash: original.sha256, state: 'uploadable' });
      expect(stuck!.signatures ?? []).toEqual([]);

      const rerun = await publish(scene, changed!, { target });
      expect(rerun.code, `${rerun.stdout}\n${rerun.stderr}`).toBe(0);
      expect(rerun.outputs.hash).toBe(changed!.sha256);
      const binary = await expectPublished(scene, target, changed!);
      expect(binary.prn).toBe(stuck!.prn);
      await expectSignaturesOverHash(scene, binary, changed!.sha256);
      const { binary_signatures } = await api<{ binary_signatures: { signature: string }[] }>(
        scene.registry,
        'GET',
        `/binary_signatures?search=${encodeURIComponent(`binary_prn:'${binary.prn}'`)}`,
      );
      expect(binary_signatures).toHaveLength(1);
      reportMeasurement(`file ${label} during part 1 upload`, {
        ok: true,
        firstRunFailedWith: errorAnnotations(first)[0]
          ?.replace(/^.*?: /, '')
          .slice(0, 90),
        firstRunMs: first.durationMs,
        rerunMs: rerun.durationMs,
        rerunOutcome: `${rerun.outputs['parts-uploaded']} parts sent, ${rerun.outputs['parts-skipped']} skipped`,
      });
    },
  );
});
