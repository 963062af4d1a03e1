import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runAction, tail, type ActionRun } from './action.js';
import { formatSize, type BenchFile } from './files.js';
import { phasesOf, type Phases } from './phases.js';
import { runTimed } from './proc.js';
import {
  presignSinglePart,
  registerSigningKey,
  startRegistry,
  type BenchRegistry,
  type SigningKey,
} from './registry.js';

export interface BenchContext {
  root: string;
  tmp: string;
  partSize: number;
  concurrency: number;
  /** Registries still running, stopped by the cleanup on failure. */
  registries: Set<BenchRegistry>;
}

export interface PublishOptions {
  target: string;
  partSize: number;
  concurrency: number;
  onSpawn?: (pid: number) => void;
  baseUrl?: string;
}

/** The bundled publish-binary action, run as a runner runs it, against `registry`. */
export async function publish(
  ctx: BenchContext,
  registry: BenchRegistry,
  key: SigningKey,
  file: BenchFile,
  options: PublishOptions,
): Promise<ActionRun> {
  const run = await runAction(
    ctx.root,
    'publish-binary',
    {
      'base-url': options.baseUrl ?? registry.baseUrl,
      'api-key': registry.apiKey,
      artifact: 'bench',
      version: '1.0.0',
      target: options.target,
      file: file.path,
      'part-size': String(options.partSize),
      concurrency: String(options.concurrency),
      'signing-key-private': key.privatePem,
      'signing-key-prn': key.prn,
    },
    { tmpRoot: ctx.tmp, onSpawn: options.onSpawn },
  );
  return run;
}

export function requireSuccess(run: ActionRun, what: string, file: BenchFile): void {
  if (run.code !== 0)
    throw new Error(`${what}: publish-binary exited with ${run.code ?? run.signal}\n${tail(run)}`);
  const hash = run.outputs['hash'];
  if (hash !== undefined && hash !== file.sha256Hex) {
    throw new Error(`${what}: publish-binary reported hash ${hash}, the file's is ${file.sha256Hex}`);
  }
}

export async function withRegistry<T>(
  ctx: BenchContext,
  name: string,
  body: (registry: BenchRegistry, key: SigningKey) => Promise<T>,
): Promise<T> {
  const dataDir = join(ctx.tmp, `registry-${name}`);
  const registry = await startRegistry(ctx.root, dataDir);
  ctx.registries.add(registry);
  try {
    return await body(registry, await registerSigningKey(registry));
  } finally {
    await registry.stop();
    ctx.registries.delete(registry);
    await rm(dataDir, { recursive: true, force: true });
  }
}

interface CurlFloor {
  durationMs: number;
  peakRssBytes: number;
}

/**
 * The floor: the same bytes into the same registry with one `curl -T` to a presigned URL of a
 * single-part binary. No hashing, API calls or signing in the timed section: the checksum header comes
 * from the hash computed while the file was written.
 */
async function curlFloor(registry: BenchRegistry, file: BenchFile, name: string): Promise<CurlFloor> {
  const { url } = await presignSinglePart(registry, file, name);
  const checksum = Buffer.from(file.sha256Hex, 'hex').toString('base64');
  const run = await runTimed('curl', [
    '-sS',
    '-T',
    file.path,
    '-H',
    'content-type: application/octet-stream',
    '-H',
    `x-amz-checksum-sha256: ${checksum}`,
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    url,
  ]);
  if (run.code !== 0 || !/^20[01]$/.test(run.stdout.trim())) {
    // The URL is a capability; only the status goes into the message.
    throw new Error(`curl floor for ${formatSize(file.size)}: exit ${run.code}, HTTP ${run.stdout.trim()}`);
  }
  return { durationMs: run.durationMs, peakRssBytes: run.peakRssBytes };
}

interface PairedRun {
  publishMs: number;
  curlMs: number;
  clientPeakRss: number;
  phases: Phases;
}

export interface SizeResult {
  size: number;
  partSize: number;
  concurrency: number;
  parts: number;
  /** Publish and curl in turn (A B A B …) on one registry, so drift in the machine's speed hits both. */
  runs: PairedRun[];
  /** Medians over the runs; the ratio is the median of the per-pair ratios. */
  publishMs: number;
  curlMs: number;
  ratio: number;
  clientPeakRss: number;
  registryPeakRss: number;
  /** The registry's VmHWM right after start, before any upload. */
  registryIdleRss: number;
  phases: Phases;
  outputs: Record<string, string>;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Publish vs the curl floor for one file, `runs` times in turn on a registry started fresh for it. Each
 * publish is a new binary (its own target), each floor a new single-part binary.
 */
export async function benchSize(
  ctx: BenchContext,
  file: BenchFile,
  label: string,
  runs = 1,
): Promise<SizeResult> {
  return withRegistry(ctx, label, async (registry, key) => {
    const registryIdleRss = registry.peakRss();
    const pairs: PairedRun[] = [];
    let registryPeakRss = 0;
    let outputs: Record<string, string> = {};
    for (let i = 0; i < runs; i++) {
      const run = await publish(ctx, registry, key, file, {
        target: `bench-${label}-${i}`,
        partSize: ctx.partSize,
        concurrency: ctx.concurrency,
      });
      requireSuccess(run, `publish ${label} (run ${i + 1})`, file);
      outputs = run.outputs;
      // The first publish's high-water mark, before any curl floor's single-part upload adds to it.
      if (i === 0) registryPeakRss = registry.peakRss();
      const floor = await curlFloor(registry, file, `curl-${label}-${i}`);
      pairs.push({
        publishMs: run.durationMs,
        curlMs: floor.durationMs,
        clientPeakRss: run.peakRssBytes,
        phases: phasesOf(run.lines),
      });
    }
    const mid = (pick: (r: PairedRun) => number | undefined): number | undefined => {
      const values = pairs.map(pick).filter((v): v is number => v !== undefined);
      return values.length ? median(values) : undefined;
    };
    return {
      size: file.size,
      partSize: ctx.partSize,
      concurrency: ctx.concurrency,
      parts: Math.max(1, Math.ceil(file.size / ctx.partSize)),
      runs: pairs,
      publishMs: median(pairs.map((r) => r.publishMs)),
      curlMs: median(pairs.map((r) => r.curlMs)),
      ratio: median(pairs.map((r) => r.publishMs / r.curlMs)),
      clientPeakRss: Math.max(...pairs.map((r) => r.clientPeakRss)),
      registryPeakRss,
      registryIdleRss,
      phases: {
        hashMs: mid((r) => r.phases.hashMs),
        uploadMs: mid((r) => r.phases.uploadMs),
        verifyMs: mid((r) => r.phases.verifyMs),
      },
      outputs,
    };
  });
}

export interface SweepResult {
  partSize: number;
  concurrency: number;
  parts: number;
  publishMs: number;
  uploadMs: number | undefined;
  clientPeakRss: number;
  registryPeakRss: number;
}

/** One publish of `file` with the given part size and concurrency, on a fresh registry. */
export async function benchConfig(
  ctx: BenchContext,
  file: BenchFile,
  partSize: number,
  concurrency: number,
): Promise<SweepResult> {
  const label = `sweep-${partSize}-${concurrency}`;
  return withRegistry(ctx, label, async (registry, key) => {
    const run = await publish(ctx, registry, key, file, { target: label, partSize, concurrency });
    requireSuccess(run, label, file);
    return {
      partSize,
      concurrency,
      parts: Math.max(1, Math.ceil(file.size / partSize)),
      publishMs: run.durationMs,
      uploadMs: phasesOf(run.lines).uploadMs,
      clientPeakRss: run.peakRssBytes,
      registryPeakRss: registry.peakRss(),
    };
  });
}
