/**
 * The registry in S3 mode (PostgreSQL + S3) against S3 alone, on the same server, file, part size and
 * concurrency:
 *   1. publish-binary through the registry (parts go straight to S3 on presigned URLs; the registry checks
 *      the SHA-256 of the object once), vs `@aws-sdk/lib-storage`'s Upload of the file: target ≤ 1.15×.
 *   2. the registry's CPU time per GiB uploaded (read from /proc: user + system of its process).
 * Needs the services' variables (`npm run services`), else starts them itself for the run.
 *   npx tsx scripts/bench/fleet.ts [--size 1G] [--part-size 16M] [--concurrency 4]
 */
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runAction } from './action.js';
import { formatSize, GiB, makeFile, parseSize } from './files.js';
import type { Check } from './report.js';

const root = new URL('../..', import.meta.url).pathname;
const log = (m: string) => console.error(`bench: ${m}`);

/** user + system CPU seconds of a process so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

export function servicesEnv(bytes: number): { env: Record<string, string>; down(): void } {
  if (process.env.PERIDIO_REGISTRY_DATABASE_URL && process.env.PERIDIO_REGISTRY_BLOB_STORE)
    return { env: process.env as Record<string, string>, down: () => undefined };
  const dir = join(tmpdir(), `peridio-bench-services-${process.pid}`);
  const env = { ...process.env, PERIDIO_SERVICES_DIR: dir, PERIDIO_SERVICES_S3_BYTES: String(bytes) };
  const script = join(root, 'scripts/services.sh');
  const out = execFileSync('bash', [script, 'up'], { env, encoding: 'utf8' });
  const vars = Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
  return {
    env: { ...(process.env as Record<string, string>), ...vars },
    down: () => execFileSync('bash', [script, 'down'], { env }),
  };
}

export interface S3PublishOptions {
  size: number;
  partSize: number;
  concurrency: number;
  /** lib-storage and publish in turn, this many pairs. */
  runs: number;
}

export interface S3PublishResult {
  options: S3PublishOptions;
  s3Ms: number[];
  publishMs: number[];
  /** Registry CPU seconds (user + system) per GiB uploaded, per publish. */
  cpuPerGiB: number[];
  /** Files of content the registry left on its own disk (none expected: the bytes go to S3). */
  localContentFiles: number;
  skipped?: string;
}

async function countFiles(dir: string): Promise<number> {
  const { readdir } = await import('node:fs/promises');
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && !/\.db(-wal|-shm)?$/.test(e.name)).length;
}

/**
 * The registry on PostgreSQL + S3 against S3 alone, paired in turn (lib-storage, publish, lib-storage, …) on
 * one S3 server and one registry, each publish a new binary.
 */
export async function benchS3Publish(options: S3PublishOptions): Promise<S3PublishResult> {
  const { size, partSize, concurrency, runs } = options;
  const result: S3PublishResult = { options, s3Ms: [], publishMs: [], cpuPerGiB: [], localContentFiles: 0 };
  let services: ReturnType<typeof servicesEnv>;
  try {
    services = servicesEnv(runs * 2 * size + 512 * 1024 * 1024);
  } catch (err) {
    return { ...result, skipped: `the services did not start: ${(err as Error).message.split('\n')[0]}` };
  }
  const work = await mkdtemp(join(tmpdir(), 'peridio-bench-fleet-'));
  const prefix = `bench-${randomUUID()}`;
  const registryEnv = {
    ...services.env,
    PERIDIO_REGISTRY_BLOB_STORE: `${services.env.PERIDIO_REGISTRY_BLOB_STORE}/${prefix}`,
    PERIDIO_REGISTRY_API_KEY: 'prk_bench',
  };
  const dataDir = join(work, 'data');
  const child = spawn(
    process.execPath,
    [join(root, 'dist/registry/index.js'), 'serve', '--port', '0', '--data-dir', dataDir],
    { env: registryEnv, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  try {
    const baseUrl = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        out += c;
        const m = /listening on (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', () => reject(new Error(`registry exited: ${out}`)));
    });
    log(`making a ${formatSize(size)} file`);
    const file = await makeFile(work, 'bench.img', size);
    const s3 = new S3Client({
      region: services.env.AWS_REGION,
      endpoint: services.env.AWS_ENDPOINT_URL_S3,
      forcePathStyle: true,
      credentials: {
        accessKeyId: services.env.AWS_ACCESS_KEY_ID!,
        secretAccessKey: services.env.AWS_SECRET_ACCESS_KEY!,
      },
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    const bucket = /^s3:\/\/([^/]+)/.exec(services.env.PERIDIO_REGISTRY_BLOB_STORE!)![1]!;
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const publicValue = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
    const reg = await fetch(`${baseUrl}/signing_keys`, {
      method: 'POST',
      headers: { authorization: 'Token prk_bench', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench', value: publicValue }),
    });
    if (reg.status !== 201) throw new Error(`signing key: ${reg.status}`);
    for (let i = 0; i < runs; i++) {
      let started = performance.now();
      await new Upload({
        client: s3,
        params: { Bucket: bucket, Key: `${prefix}/lib-storage-${i}.img`, Body: createReadStream(file.path) },
        partSize,
        queueSize: concurrency,
      }).done();
      result.s3Ms.push(performance.now() - started);
      const cpuBefore = cpuSeconds(child.pid!);
      started = performance.now();
      const run = await runAction(
        root,
        'publish-binary',
        {
          'api-key': 'prk_bench',
          'base-url': baseUrl,
          artifact: 'bench',
          version: '1.0.0',
          target: `bench-${i}`,
          file: file.path,
          'signing-key-private': pem,
          'part-size': String(partSize),
          concurrency: String(concurrency),
        },
        { tmpRoot: work },
      );
      result.publishMs.push(performance.now() - started);
      result.cpuPerGiB.push((cpuSeconds(child.pid!) - cpuBefore) / (size / GiB));
      if (run.code !== 0) throw new Error(`publish failed: ${run.stderr.slice(-2000)}`);
      log(
        `S3 pair ${i + 1}: lib-storage ${(result.s3Ms[i]! / 1000).toFixed(2)} s, publish ${(result.publishMs[i]! / 1000).toFixed(2)} s`,
      );
    }
    result.localContentFiles = await countFiles(dataDir);
    return result;
  } finally {
    child.kill('SIGTERM');
    await rm(work, { recursive: true, force: true });
    services.down();
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export function s3Report(r: S3PublishResult): { section: string; checks: Check[] } {
  const o = r.options;
  const title = `### Registry on PostgreSQL + S3 (Ceph RGW): publish ${formatSize(o.size)} vs lib-storage, parts ${formatSize(o.partSize)} × ${o.concurrency}, ${r.s3Ms.length} pairs in turn`;
  if (r.skipped) return { section: `${title}\n\nNot measured: ${r.skipped}.`, checks: [] };
  const ratios = r.publishMs.map((ms, i) => ms / r.s3Ms[i]!);
  const s = (ms: number[]) =>
    `${(median(ms) / 1000).toFixed(2)} s (${(Math.min(...ms) / 1000).toFixed(2)}–${(Math.max(...ms) / 1000).toFixed(2)})`;
  const section =
    `${title}\n\n| what | median (min–max) |\n|---|---|\n` +
    `| \`@aws-sdk/lib-storage\` Upload straight to S3 | ${s(r.s3Ms)} |\n` +
    `| publish-binary through registry + S3 (hash, upload, server check, sign) | ${s(r.publishMs)} |\n` +
    `| registry CPU per GiB uploaded (its SHA-256 check of the object included) | ${median(r.cpuPerGiB).toFixed(2)} s |\n` +
    `| files of content on the registry's disk afterwards | ${r.localContentFiles} |`;
  const ratio = median(ratios);
  return {
    section,
    checks: [
      {
        measure: `publish ${formatSize(o.size)} via registry + S3 vs lib-storage Upload, median of ${ratios.length} pairs`,
        figure: `${(median(r.publishMs) / 1000).toFixed(2)} s vs ${(median(r.s3Ms) / 1000).toFixed(2)} s`,
        ratio: `${ratio.toFixed(2)}× (${Math.min(...ratios).toFixed(2)}×–${Math.max(...ratios).toFixed(2)}×)`,
        target: '≤ 1.15×',
        pass: ratio <= 1.15,
      },
      {
        measure: 'registry CPU per GiB uploaded in S3 mode (user + system)',
        figure: `${median(r.cpuPerGiB).toFixed(2)} s`,
        ratio: '–',
        target: 'near zero apart from the SHA-256 check (printed)',
        pass: undefined,
      },
    ],
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: '1G' },
      'part-size': { type: 'string', default: '16M' },
      concurrency: { type: 'string', default: '4' },
      runs: { type: 'string', default: '1' },
    },
  });
  const size = parseSize(values.size);
  const partSize = parseSize(values['part-size']);
  const concurrency = Number(values.concurrency);
  const r = await benchS3Publish({ size, partSize, concurrency, runs: Number(values.runs) });
  console.log(s3Report(r).section);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
