import { hashFile } from '../../packages/core/src/hash.js';
import { planParts } from '../../packages/core/src/parts.js';
import type { BenchFile } from './files.js';
import { runTimed } from './proc.js';

export interface HashingResult {
  size: number;
  rounds: number;
  /** Best time of each tool over the rounds, in ms. */
  coreMs: number;
  opensslMs: number;
  sha256sumMs: number;
}

/**
 * The core's one-pass hashFile (whole file + every part at the default part size) against `openssl dgst
 * -sha256` and `sha256sum` on the same file, interleaved round by round so that a burst of load from
 * elsewhere hits every tool alike; the best round of each counts. The file was just written, so all
 * three read it from the page cache.
 */
export async function benchHashing(
  file: BenchFile,
  partSize: number,
  rounds: number,
): Promise<HashingResult> {
  const best = { core: Infinity, openssl: Infinity, sha256sum: Infinity };
  const plan = planParts(file.size, { partSize });
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    const digest = await hashFile(file.path, plan);
    best.core = Math.min(best.core, performance.now() - started);
    if (digest.sha256Hex !== file.sha256Hex) throw new Error(`core hashFile gave ${digest.sha256Hex}`);

    for (const [tool, command, args] of [
      ['openssl', 'openssl', ['dgst', '-sha256', file.path]],
      ['sha256sum', 'sha256sum', [file.path]],
    ] as const) {
      const run = await runTimed(command, [...args]);
      if (run.code !== 0 || !run.stdout.includes(file.sha256Hex)) {
        throw new Error(`${command} failed: ${run.stderr.trim() || run.stdout.trim()}`);
      }
      best[tool] = Math.min(best[tool], run.durationMs);
    }
  }
  return { size: file.size, rounds, coreMs: best.core, opensslMs: best.openssl, sha256sumMs: best.sha256sum };
}
