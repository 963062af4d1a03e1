import { setTimeout as sleep } from 'node:timers/promises';
import { startFaultProxy } from '../../test/helpers/fault-proxy.js';
import type { BenchFile } from './files.js';
import { publish, requireSuccess, withRegistry, type BenchContext } from './publish.js';
import { findBinaryPrn, listParts } from './registry.js';

export interface ResumeResult {
  size: number;
  partSize: number;
  concurrency: number;
  parts: number;
  /** Parts `valid` in the registry after the client was killed. */
  validAtFault: number;
  /** Bytes of the parts that were not valid at the fault: what a resume must send. */
  missingBytes: number;
  /** Part-upload body bytes the proxy saw in the first run, the killed one. */
  firstRunBytes: number;
  /** Part-upload body bytes the proxy saw in the resumed run: the figure the target is about. */
  resumedBytes: number;
  /** The target: missing parts plus the one that was in flight. */
  boundBytes: number;
  outputs: Record<string, string>;
}

const PART_PUT = /^\/_presigned\/parts\//;

function partBodyBytes(requests: { method: string; path: string; bytesIn: number }[]): number {
  return requests
    .filter((r) => r.method === 'PUT' && PART_PUT.test(r.path))
    .reduce((sum, r) => sum + r.bytesIn, 0);
}

/**
 * A fault at 80 %: the uploads of the last 20 % of the parts hang, and the action's process is killed
 * (SIGKILL, as when a runner dies) once the first 80 % are `valid`; then the same publish runs again.
 * Both runs go through the fault proxy, which counts the bytes each sends to presigned part URLs.
 */
export async function benchResume(ctx: BenchContext, file: BenchFile): Promise<ResumeResult> {
  const { partSize, concurrency } = ctx;
  const partCount = Math.max(1, Math.ceil(file.size / partSize));
  const partBytes = (index: number): number => Math.min(partSize, file.size - (index - 1) * partSize);
  return withRegistry(ctx, 'resume', async (registry, key) => {
    const proxy = await startFaultProxy({ target: registry.baseUrl });
    try {
      const target = 'bench-resume';
      // The fault: parts beyond 80 % hang in the proxy, as on a link that died, so the registry holds
      // exactly the first 80 % when the runner is killed and the parts in flight are lost with it.
      const threshold = Math.ceil(partCount * 0.8);
      const beyond = Array.from({ length: partCount - threshold }, (_, i) => threshold + 1 + i);
      const hang = proxy.addRule({
        method: 'PUT',
        path: new RegExp(`^/_presigned/parts/[^/]+/(${beyond.join('|') || '0'})\\?`),
        times: Infinity,
        action: { kind: 'delay', ms: 600_000 },
      });
      let pid: number | undefined;
      let killed = false;
      const first = publish(ctx, registry, key, file, {
        target,
        partSize,
        concurrency,
        baseUrl: proxy.url,
        onSpawn: (p) => (pid = p),
      });
      let done = false;
      void first.finally(() => (done = true));
      let binaryPrn: string | undefined;
      while (!done && !killed) {
        binaryPrn ??= await findBinaryPrn(registry, target);
        if (binaryPrn) {
          const valid = (await listParts(registry, binaryPrn)).filter((p) => p.state === 'valid').length;
          if (valid >= threshold && pid !== undefined) {
            process.kill(pid, 'SIGKILL');
            killed = true;
          }
        }
        if (!killed) await sleep(20);
      }
      const firstRun = await first;
      if (!killed)
        throw new Error(
          `resume: the first run ended (code ${firstRun.code}) before 80 % of the parts were valid`,
        );
      // A part whose body had fully arrived may still be committing; let the registry settle.
      await sleep(500);
      const listed = await listParts(registry, binaryPrn!);
      const validIndexes = new Set(listed.filter((p) => p.state === 'valid').map((p) => p.index));
      let missingBytes = 0;
      for (let index = 1; index <= partCount; index++)
        if (!validIndexes.has(index)) missingBytes += partBytes(index);
      const firstRunBytes = partBodyBytes(proxy.stats.requests);

      hang.remove();
      const before = proxy.stats.requests.length;
      const second = await publish(ctx, registry, key, file, {
        target,
        partSize,
        concurrency,
        baseUrl: proxy.url,
      });
      requireSuccess(second, 'resumed publish', file);
      return {
        size: file.size,
        partSize,
        concurrency,
        parts: partCount,
        validAtFault: validIndexes.size,
        missingBytes,
        firstRunBytes,
        resumedBytes: partBodyBytes(proxy.stats.requests.slice(before)),
        boundBytes: missingBytes + partSize,
        outputs: second.outputs,
      };
    } finally {
      await proxy.close();
    }
  });
}
