/**
 * Memory and durability costs: the client's peak RSS for every file size (the paired table's sizes plus
 * any larger one, published once), the registry's peak RSS while 8 publishes run at once, and what one
 * fsync of a part costs on this disk (the registry fsyncs each part's file and its directory before the
 * part is `valid`).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { formatSize, MiB, type BenchFile } from './files.js';
import { median, publish, requireSuccess, withRegistry, type BenchContext } from './publish.js';
import type { Check } from './report.js';

const LIMIT = 128 * MiB;
const mib = (bytes: number): string => `${(bytes / MiB).toFixed(0)} MiB`;

export interface MemoryResult {
  clientBySize: { size: number; peakRss: number; publishMs: number }[];
  concurrentUploads: number;
  concurrentFileSize: number;
  registryPeakRss: number;
  registryIdleRss: number;
  concurrentMs: number;
  fsync: { partBytes: number; fileMs: number; dirMs: number; rounds: number };
}

/** One publish per size not measured already (`known`), each on a fresh registry. */
export async function benchMemory(
  ctx: BenchContext,
  files: BenchFile[],
  known: { size: number; clientPeakRss: number; publishMs: number }[],
  concurrentFile: BenchFile | undefined,
  concurrentUploads = 8,
): Promise<MemoryResult> {
  const clientBySize = known.map((k) => ({ size: k.size, peakRss: k.clientPeakRss, publishMs: k.publishMs }));
  for (const file of files) {
    if (clientBySize.some((c) => c.size === file.size)) continue;
    const label = `mem-${file.size}`;
    const run = await withRegistry(ctx, label, (registry, key) =>
      publish(ctx, registry, key, file, {
        target: label,
        partSize: ctx.partSize,
        concurrency: ctx.concurrency,
      }),
    );
    requireSuccess(run, label, file);
    clientBySize.push({ size: file.size, peakRss: run.peakRssBytes, publishMs: run.durationMs });
  }
  clientBySize.sort((a, b) => a.size - b.size);

  let registryPeakRss = 0;
  let registryIdleRss = 0;
  let concurrentMs = 0;
  if (concurrentFile) {
    await withRegistry(ctx, 'concurrent', async (registry, key) => {
      registryIdleRss = registry.peakRss();
      const started = performance.now();
      const runs = await Promise.all(
        Array.from({ length: concurrentUploads }, (_, i) =>
          publish(ctx, registry, key, concurrentFile, {
            target: `concurrent-${i}`,
            partSize: ctx.partSize,
            concurrency: ctx.concurrency,
          }),
        ),
      );
      concurrentMs = performance.now() - started;
      runs.forEach((run, i) => requireSuccess(run, `concurrent publish ${i + 1}`, concurrentFile));
      registryPeakRss = registry.peakRss();
    });
  }
  return {
    clientBySize,
    concurrentUploads,
    concurrentFileSize: concurrentFile?.size ?? 0,
    registryPeakRss,
    registryIdleRss,
    concurrentMs,
    fsync: await fsyncCost(ctx.tmp, ctx.partSize),
  };
}

/** Writes a part-sized file and times its fsync, then a directory fsync, `rounds` times; medians. */
async function fsyncCost(tmp: string, partBytes: number, rounds = 5) {
  const dir = join(tmp, 'fsync-probe');
  await mkdir(dir, { recursive: true });
  const data = randomBytes(partBytes);
  const fileMs: number[] = [];
  const dirMs: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const handle = await open(join(dir, `part-${i}`), 'w');
      await handle.write(data);
      let t = performance.now();
      await handle.sync();
      fileMs.push(performance.now() - t);
      await handle.close();
      const dirHandle = await open(dir, 'r');
      t = performance.now();
      await dirHandle.sync();
      dirMs.push(performance.now() - t);
      await dirHandle.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { partBytes, fileMs: median(fileMs), dirMs: median(dirMs), rounds };
}

export function memoryReport(r: MemoryResult): { section: string; checks: Check[] } {
  const rows = r.clientBySize.map(
    (c) =>
      `| ${formatSize(c.size)} | ${mib(c.peakRss)} | ${(c.publishMs / 1000).toFixed(2)} s | ${c.peakRss <= LIMIT ? 'PASS' : 'FAIL'} |`,
  );
  const partsPerGiB = 1024 / (r.fsync.partBytes / MiB);
  const perPart = r.fsync.fileMs + r.fsync.dirMs;
  const section = [
    "### Client peak RSS by file size (one publish each; the paired table's first run where it has the size)",
    '',
    '| size | client peak RSS | publish | ≤ 128 MiB |',
    '|---|---|---|---|',
    ...rows,
    '',
    `### Registry while ${r.concurrentUploads} publishes of ${formatSize(r.concurrentFileSize)} run at once`,
    '',
    '| uploads at once | all done in | registry peak RSS | idle |',
    '|---|---|---|---|',
    `| ${r.concurrentUploads} | ${(r.concurrentMs / 1000).toFixed(2)} s | ${mib(r.registryPeakRss)} | ${mib(r.registryIdleRss)} |`,
    '',
    `### What durability costs per part (${mib(r.fsync.partBytes)} written, then fsync; median of ${r.fsync.rounds})`,
    '',
    '| fsync of the part file | fsync of its directory | per part | per GiB at this part size |',
    '|---|---|---|---|',
    `| ${r.fsync.fileMs.toFixed(1)} ms | ${r.fsync.dirMs.toFixed(1)} ms | ${perPart.toFixed(1)} ms | ${((perPart * partsPerGiB) / 1000).toFixed(2)} s (${partsPerGiB} parts, spread over the parts in flight) |`,
  ].join('\n');
  const checks: Check[] = r.clientBySize.map((c) => ({
    measure: `client peak RSS, ${formatSize(c.size)} at ${mib(16 * MiB)} × 4`,
    figure: mib(c.peakRss),
    ratio: `${(c.peakRss / LIMIT).toFixed(2)}×`,
    target: '≤ 128 MiB',
    pass: c.peakRss <= LIMIT,
  }));
  if (r.concurrentUploads > 0 && r.registryPeakRss > 0) {
    checks.push({
      measure: `registry peak RSS, ${r.concurrentUploads} publishes at once`,
      figure: mib(r.registryPeakRss),
      ratio: `${(r.registryPeakRss / LIMIT).toFixed(2)}×`,
      target: '≤ 128 MiB',
      pass: r.registryPeakRss <= LIMIT,
    });
  }
  return { section, checks };
}
