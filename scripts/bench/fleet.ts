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

const root = new URL('../..', import.meta.url).pathname;
const log = (m: string) => console.error(`bench: ${m}`);

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1G' },
    'part-size': { type: 'string', default: '16M' },
    concurrency: { type: 'string', default: '4' },
  },
});
const size = parseSize(values.size);
const partSize = parseSize(values['part-size']);
const concurrency = Number(values.concurrency);

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

async function main(): Promise<void> {
  const services = servicesEnv(3 * size + 512 * 1024 * 1024);
  const work = await mkdtemp(join(tmpdir(), 'peridio-bench-fleet-'));
  const prefix = `bench-${randomUUID()}`;
  const registryEnv = {
    ...services.env,
    PERIDIO_REGISTRY_BLOB_STORE: `${services.env.PERIDIO_REGISTRY_BLOB_STORE}/${prefix}`,
    PERIDIO_REGISTRY_API_KEY: 'prk_bench',
  };
  const child = spawn(
    process.execPath,
    [join(root, 'dist/registry/index.js'), 'serve', '--port', '0', '--data-dir', join(work, 'data')],
    {
      env: registryEnv,
      stdio: ['ignore', 'pipe', 'ignore'],
    },
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

    // S3 alone first (warms the server the same way for both).
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
    let started = performance.now();
    await new Upload({
      client: s3,
      params: { Bucket: bucket, Key: `${prefix}/lib-storage.img`, Body: createReadStream(file.path) },
      partSize,
      queueSize: concurrency,
    }).done();
    const s3Ms = performance.now() - started;
    log(`lib-storage Upload: ${(s3Ms / 1000).toFixed(2)} s`);

    const { privateKey } = await import('node:crypto').then((c) => c.generateKeyPairSync('ed25519'));
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    // The action signs with the private key; the registry knows the public half.
    const publicValue = (await import('node:crypto'))
      .createPublicKey(pem)
      .export({ format: 'der', type: 'spki' })
      .subarray(-32)
      .toString('base64');
    const reg = await fetch(`${baseUrl}/signing_keys`, {
      method: 'POST',
      headers: { authorization: 'Token prk_bench', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench', value: publicValue }),
    });
    if (reg.status !== 201) throw new Error(`signing key: ${reg.status}`);
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
        target: 'bench',
        file: file.path,
        'signing-key-private': pem,
        'part-size': String(partSize),
        concurrency: String(concurrency),
      },
      { tmpRoot: work },
    );
    const publishMs = performance.now() - started;
    const cpu = cpuSeconds(child.pid!) - cpuBefore;
    if (run.code !== 0) throw new Error(`publish failed: ${run.stderr.slice(-2000)}`);
    const ratio = publishMs / s3Ms;
    console.log(`| what | ${formatSize(size)}, parts ${formatSize(partSize)} × ${concurrency} |`);
    console.log('| --- | --- |');
    console.log(`| lib-storage Upload straight to S3 | ${(s3Ms / 1000).toFixed(2)} s |`);
    console.log(
      `| publish-binary through registry + S3 (hash, upload, server check, sign) | ${(publishMs / 1000).toFixed(2)} s |`,
    );
    console.log(`| ratio (target ≤ 1.15) | ${ratio.toFixed(2)} ${ratio <= 1.15 ? 'PASS' : 'FAIL'} |`);
    console.log(
      `| registry CPU per GiB uploaded (its SHA-256 check of the object included) | ${(cpu / (size / GiB)).toFixed(2)} s |`,
    );
  } finally {
    child.kill('SIGTERM');
    await rm(work, { recursive: true, force: true });
    services.down();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
