/**
 * `npm run bench`: hashing throughput, publish vs a `curl -T` floor, peak RSS of client and registry,
 * parts per second at the minimum part size, and the bytes a resume sends again, all in one run on the
 * same files. Prints Markdown tables (copied into BENCHMARKS.md) and PASS/FAIL per target.
 * Flags: --sizes 16M,256M,1G,4G  --quick (16M,256M)  --keep  --part-size N  --concurrency N
 *        --runs 5 (paired publish/curl runs per size)  --large-runs 3 (for sizes over 1 GiB)
 *        --memory-sizes 8G (more sizes, one publish each, for the RSS table)  --no-memory
 *        --wan-rounds 2  --no-wan  --no-downloads  --no-fleet  --growth-scales 1000,10000,100000  --no-growth
 *        --no-s3 (registry on PostgreSQL + S3 vs lib-storage; list latency PG vs SQLite)  --s3-runs 3  --list-binaries 100000
 *        --hash-rounds N  --sweep-size 1G  --no-sweep  --no-resume  --json FILE
 *        --console (off by default: the web console's in-browser hashing and upload rates in the system
 *        Chromium, on the 1 GiB file, beside core's and publish-binary's)  --console-rounds 2
 * The console scenario alone, with the figures it is compared to:
 *   npx tsx scripts/bench.ts --sizes 1G --runs 1 --hash-rounds 1 --console --no-sweep --no-resume \
 *     --no-memory --no-wan --no-downloads --no-fleet --no-s3 --no-growth
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PART_SIZE, MIN_PART_SIZE } from '../packages/core/src/parts.js';
import { DEFAULT_UPLOAD_CONCURRENCY } from '../packages/core/src/upload/engine.js';
import { formatSize, makeFile, MiB, parseSize, type BenchFile } from './bench/files.js';
import { benchHashing } from './bench/hashing.js';
import { liveChildren, machineInfo } from './bench/proc.js';
import { benchConfig, benchSize, type BenchContext } from './bench/publish.js';
import { checks, renderReport, type BenchResults } from './bench/report.js';
import { benchResume } from './bench/resume.js';
import { benchMemory, memoryReport } from './bench/memory.js';
import { benchLink, wanAvailable, wanReport, type LinkResult } from './bench/wan.js';
import { machineTop } from './bench/proc.js';
import { benchGrowth, growthReport } from './bench/growth.js';
import { benchDownloads, downloadsReport, nginxAvailable } from './bench/downloads.js';
import { benchFleet, benchFleetGrowth, fleetGrowthReport, fleetReport } from './bench/update-check.js';
import { benchS3Publish, s3Report } from './bench/fleet.js';
import { benchListLatency, listLatencyReport } from './bench/fleet-list.js';
import { benchConsole, consoleReport } from './bench/console-hashing.js';

const root = new URL('..', import.meta.url).pathname;

const { values: flags } = parseArgs({
  allowNegative: true,
  options: {
    sizes: { type: 'string', default: '16M,256M,1G,4G' },
    quick: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'part-size': { type: 'string' },
    concurrency: { type: 'string' },
    'hash-rounds': { type: 'string', default: '3' },
    sweep: { type: 'boolean', default: true },
    'sweep-size': { type: 'string' },
    resume: { type: 'boolean', default: true },
    json: { type: 'string' },
    runs: { type: 'string', default: '5' },
    'large-runs': { type: 'string', default: '3' },
    'memory-sizes': { type: 'string', default: '8G' },
    memory: { type: 'boolean', default: true },
    wan: { type: 'boolean', default: true },
    'wan-rounds': { type: 'string', default: '2' },
    growth: { type: 'boolean', default: true },
    downloads: { type: 'boolean', default: true },
    fleet: { type: 'boolean', default: true },
    s3: { type: 'boolean', default: true },
    's3-runs': { type: 'string', default: '3' },
    'list-binaries': { type: 'string', default: '100000' },
    'growth-scales': { type: 'string', default: '1000,10000,100000' },
    console: { type: 'boolean', default: false },
    'console-rounds': { type: 'string', default: '2' },
  },
});

const sizes = (flags.quick ? '16M,256M' : flags.sizes).split(',').map(parseSize);
const log = (message: string): void => console.error(`bench: ${message}`);

async function main(): Promise<number> {
  const tmp = await mkdtemp(join(tmpdir(), 'peridio-bench-'));
  const ctx: BenchContext = {
    root,
    tmp,
    partSize: flags['part-size'] ? parseSize(flags['part-size']) : DEFAULT_PART_SIZE,
    concurrency: flags.concurrency ? Number(flags.concurrency) : DEFAULT_UPLOAD_CONCURRENCY,
    registries: new Set(),
  };
  // Ctrl-C or a kill must not leave gigabytes in /tmp or registries running.
  const cleanup = async (): Promise<void> => {
    for (const child of liveChildren) child.kill('SIGKILL');
    await Promise.allSettled([...ctx.registries].map((r) => r.stop()));
    if (flags.keep) log(`kept ${tmp}`);
    else await rm(tmp, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void cleanup().finally(() => process.exit(130)));
  }

  try {
    const results: BenchResults = {
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      startedAt: new Date().toISOString(),
      machine: await machineInfo(),
      partSize: ctx.partSize,
      concurrency: ctx.concurrency,
      sizes: [],
      sweep: [],
      extra: [],
    };
    log(`part size ${formatSize(ctx.partSize)}, concurrency ${ctx.concurrency}, files in ${tmp}`);

    const memorySizes = flags.memory && !flags.quick ? flags['memory-sizes'].split(',').map(parseSize) : [];
    const files = new Map<number, BenchFile>();
    for (const size of [...new Set([...sizes, ...memorySizes])]) {
      log(`writing a ${formatSize(size)} file`);
      files.set(size, await makeFile(tmp, `bench-${size}.bin`, size));
    }
    // The 1 GiB publish file, so hashing and publish figures come from the same bytes.
    const hashFileChoice = files.get(1024 * MiB) ?? files.get(Math.max(...sizes))!;
    log(`hashing ${formatSize(hashFileChoice.size)}`);
    results.hashing = await benchHashing(hashFileChoice, ctx.partSize, Number(flags['hash-rounds']));

    for (const size of sizes) {
      log(`publish vs curl floor, ${formatSize(size)}`);
      const runs = Number(size > 1024 * MiB ? flags['large-runs'] : flags.runs);
      results.sizes.push(await benchSize(ctx, files.get(size)!, formatSize(size).replace(' ', ''), runs));
    }

    if (flags.console) {
      log(`console: in-browser hashing and upload, ${formatSize(hashFileChoice.size)}`);
      results.extra.push(
        consoleReport(await benchConsole(ctx, hashFileChoice, Number(flags['console-rounds']))),
      );
    }

    // The sweep runs on the 1 GiB file when there is one (fixed costs matter less, and at the minimum
    // part size it is 205 parts); the resume on 256 MiB (16 parts at the default part size).
    const pick = (preferred: number): BenchFile | undefined =>
      files.get(preferred) ?? files.get(Math.max(...sizes.filter((s) => s >= 32 * MiB && s <= preferred)));
    const sweepFile = flags['sweep-size'] ? files.get(parseSize(flags['sweep-size'])) : pick(1024 * MiB);
    const mid = pick(256 * MiB);
    if (flags.sweep && sweepFile) {
      results.sweepFileSize = sweepFile.size;
      const configs: [number, number][] = [
        [MIN_PART_SIZE, ctx.concurrency],
        ...[8, 16, 32, 64].map((m): [number, number] => [m * MiB, ctx.concurrency]),
        ...[1, 2, 8].map((c): [number, number] => [ctx.partSize, c]),
      ];
      for (const [partSize, concurrency] of configs) {
        log(
          `sweep: ${formatSize(sweepFile.size)}, part size ${formatSize(partSize)}, concurrency ${concurrency}`,
        );
        results.sweep.push(await benchConfig(ctx, sweepFile, partSize, concurrency));
      }
    }

    if (flags.memory) {
      log('memory: client RSS by size, registry RSS under 8 publishes at once, fsync cost');
      const memory = await benchMemory(
        ctx,
        [...files.values()],
        results.sizes.map((s) => ({
          size: s.size,
          clientPeakRss: s.runs[0]!.clientPeakRss,
          publishMs: s.runs[0]!.publishMs,
        })),
        mid,
      );
      results.extra.push(memoryReport(memory));
    }

    const noWan = wanAvailable();
    if (flags.wan && noWan) log(`WAN: skipped (${noWan})`);
    if (flags.wan && !noWan) {
      const wan: LinkResult[] = [];
      const def = `publish, ${formatSize(ctx.partSize)} × ${ctx.concurrency} (defaults)`;
      const contenders = [
        { name: def, kind: 'publish' as const, partSize: ctx.partSize, concurrency: ctx.concurrency },
        {
          name: `publish, ${formatSize(ctx.partSize)} × 8`,
          kind: 'publish' as const,
          partSize: ctx.partSize,
          concurrency: 8,
        },
        { name: 'publish, 64 MiB × 4', kind: 'publish' as const, partSize: 64 * MiB, concurrency: 4 },
        { name: 'publish, 5 MiB × 4', kind: 'publish' as const, partSize: MIN_PART_SIZE, concurrency: 4 },
        { name: 'Peridio-CLI-like: 5 MiB × 2·cores, file in memory', kind: 'cli-like' as const },
        { name: 'curl -T, one PUT', kind: 'curl' as const },
      ];
      for (const [mbit, rttMs, size] of [
        [200, 40, 256 * MiB],
        [20, 150, 32 * MiB],
      ] as const) {
        let file = files.get(size);
        if (!file) {
          log(`writing a ${formatSize(size)} file`);
          file = await makeFile(tmp, `bench-wan-${size}.bin`, size);
          files.set(size, file);
        }
        log(`WAN: ${mbit} Mbit/s, ${rttMs} ms RTT, ${formatSize(size)}`);
        wan.push(await benchLink(ctx, { mbit, rttMs, file }, contenders, Number(flags['wan-rounds'])));
      }
      results.extra.push(wanReport(wan, def));
    }

    const noNginx = nginxAvailable();
    if (flags.downloads && noNginx) log(`downloads: skipped (${noNginx})`);
    if (flags.downloads && !noNginx) {
      let binary = files.get(64 * MiB);
      if (!binary) {
        binary = await makeFile(tmp, 'bench-download.bin', 64 * MiB);
        files.set(64 * MiB, binary);
      }
      log('downloads: 100 clients at once, registry vs nginx');
      results.extra.push(downloadsReport(await benchDownloads(ctx, binary)));
    }

    if (flags.fleet) {
      for (const backend of ['SQLite', 'PostgreSQL'] as const) {
        log(`fleet on ${backend}: 10,000 devices, 50 releases, update checks under wrk`);
        results.extra.push(fleetReport(await benchFleet(ctx, backend)));
      }
    }

    if (flags.s3) {
      const size = files.has(1024 * MiB) ? 1024 * MiB : Math.max(...sizes);
      log(`S3: publish ${formatSize(size)} via registry on PostgreSQL + S3 vs lib-storage`);
      results.extra.push(
        s3Report(
          await benchS3Publish({
            size,
            partSize: ctx.partSize,
            concurrency: ctx.concurrency,
            runs: Number(flags['s3-runs']),
          }),
        ),
      );
      log(`S3: list and search calls on PostgreSQL vs SQLite, ${flags['list-binaries']} binaries`);
      results.extra.push(listLatencyReport(await benchListLatency(Number(flags['list-binaries']))));
    }

    if (flags.growth) {
      let small = files.get(16 * MiB);
      if (!small) {
        small = await makeFile(tmp, 'bench-growth.bin', 16 * MiB);
        files.set(16 * MiB, small);
      }
      const scales = flags['growth-scales'].split(',').map(Number);
      log(`growth: ${scales.join(' / ')} binaries`);
      results.extra.push(growthReport(await benchGrowth(ctx, small, scales)));
      if (flags.fleet) {
        log('growth: the update check at 1,000 / 10,000 / 100,000 devices');
        results.extra.push(fleetGrowthReport(await benchFleetGrowth(ctx, [1, 10, 100])));
      }
    }

    if (flags.resume && mid) {
      log(`resume after a fault at 80 %, ${formatSize(mid.size)}`);
      results.resume = await benchResume(ctx, mid);
    }

    results.topAtEnd = await machineTop();
    const report = renderReport(results);
    console.log(report);
    if (flags.json) await writeFile(flags.json, JSON.stringify(results, null, 2));
    const failed = checks(results).filter((c) => c.pass === false).length;
    log(failed === 0 ? 'all targets met' : `${failed} target(s) missed`);
    return 0;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
