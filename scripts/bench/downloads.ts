/**
 * Downloads: one 64 MiB binary fetched by 100 clients at once through its presigned URL, against the same
 * file served by nginx (Debian's, started here on a free loopback port with sendfile) on this machine.
 * Both are fetched by one `curl --parallel` process with 100 transfers in flight, so the client side is
 * the same; rounds alternate registry, nginx, registry, nginx, … and the ratio is the median of the pairs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { formatSize, MiB, type BenchFile } from './files.js';
import { median, publish, requireSuccess, withRegistry, type BenchContext } from './publish.js';
import { runTimed } from './proc.js';
import { api } from './registry.js';
import type { Check } from './report.js';

export interface DownloadResult {
  fileSize: number;
  clients: number;
  registryMs: number[];
  nginxMs: number[];
  registryPeakRss: number;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function nginxAvailable(): string | undefined {
  return spawnSync('nginx', ['-v']).error ? 'nginx not installed (apt-get install nginx)' : undefined;
}

/** 100 GETs of `url` at once in one curl process; fails unless every transfer got the whole file. */
async function fetchAll(url: string, clients: number, size: number): Promise<number> {
  const args = [
    '-sS',
    '--parallel',
    '--parallel-max',
    String(clients),
    '-w',
    '%{http_code} %{size_download}\n',
  ];
  for (let i = 0; i < clients; i++) args.push('-o', '/dev/null', url);
  const run = await runTimed('curl', args);
  const lines = run.stdout.trim().split('\n');
  const ok = lines.filter((l) => l === `200 ${size}`).length;
  if (run.code !== 0 || ok !== clients) {
    throw new Error(
      `downloads: ${ok}/${clients} complete (curl exit ${run.code}, first: ${lines[0] ?? 'none'}) from ${new URL(url).host}`,
    );
  }
  return run.durationMs;
}

async function startNginx(dir: string, file: string): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  await mkdir(join(dir, 'www'), { recursive: true });
  await copyFile(file, join(dir, 'www', 'binary.bin'));
  await writeFile(
    join(dir, 'nginx.conf'),
    `daemon off; worker_processes auto; ${process.getuid?.() === 0 ? 'user root root;' : ''} pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 1024; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_timeout 5;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp;
  uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  server { listen 127.0.0.1:${port}; root ${dir}/www; } }
`,
  );
  await mkdir(join(dir, 'tmp'), { recursive: true });
  const child = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/binary.bin`;
  for (let i = 0; i < 100; i++) {
    const r = await fetch(url, { method: 'HEAD' }).catch(() => undefined);
    if (r?.ok) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    stop: async () => {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGQUIT');
      await exited;
    },
  };
}

export async function benchDownloads(
  ctx: BenchContext,
  file: BenchFile,
  clients = 100,
  rounds = 3,
): Promise<DownloadResult> {
  return withRegistry(ctx, 'downloads', async (registry, key) => {
    const run = await publish(ctx, registry, key, file, {
      target: 'downloads',
      partSize: ctx.partSize,
      concurrency: ctx.concurrency,
    });
    requireSuccess(run, 'publish for the download bench', file);
    const prn = run.outputs['binary-prn'] ?? run.outputs['prn'];
    if (!prn)
      throw new Error(
        `downloads: the publish gave no binary-prn output (${Object.keys(run.outputs).join(', ')})`,
      );
    const { download_url: url } = await api<{ download_url: string }>(
      registry,
      'GET',
      `/binaries/${prn}/download_url`,
    );
    const dir = join(ctx.tmp, 'nginx');
    const nginx = await startNginx(dir, file.path);
    const result: DownloadResult = {
      fileSize: file.size,
      clients,
      registryMs: [],
      nginxMs: [],
      registryPeakRss: 0,
    };
    try {
      for (let i = 0; i < rounds; i++) {
        result.registryMs.push(await fetchAll(url, clients, file.size));
        result.nginxMs.push(await fetchAll(nginx.url, clients, file.size));
      }
      result.registryPeakRss = registry.peakRss();
    } finally {
      await nginx.stop();
      await rm(dir, { recursive: true, force: true });
    }
    return result;
  });
}

export function downloadsReport(r: DownloadResult): { section: string; checks: Check[] } {
  const rate = (ms: number): number => (r.clients * r.fileSize) / MiB / (ms / 1000);
  const ratios = r.registryMs.map((ms, i) => r.nginxMs[i]! / ms);
  const ratio = median(ratios);
  const row = (name: string, ms: number[]): string =>
    `| ${name} | ${(median(ms) / 1000).toFixed(2)} s (${(Math.min(...ms) / 1000).toFixed(2)}–${(Math.max(...ms) / 1000).toFixed(2)}) | ${rate(median(ms)).toFixed(0)} MiB/s |`;
  const section =
    `### Downloads: ${r.clients} clients at once, one ${formatSize(r.fileSize)} binary, ${r.registryMs.length} rounds in turn\n\n` +
    '| server | all done in, median (min–max) | aggregate |\n|---|---|---|\n' +
    `${row('registry, presigned URL', r.registryMs)}\n${row('nginx, same file', r.nginxMs)}\n\n` +
    `Registry peak RSS during the downloads: ${(r.registryPeakRss / MiB).toFixed(0)} MiB.`;
  return {
    section,
    checks: [
      {
        measure: `${r.clients} downloads of ${formatSize(r.fileSize)} at once: registry vs nginx, aggregate (median of pairs)`,
        figure: `${rate(median(r.registryMs)).toFixed(0)} vs ${rate(median(r.nginxMs)).toFixed(0)} MiB/s`,
        ratio: `${ratio.toFixed(2)}×`,
        target: '≥ 0.80×',
        pass: ratio >= 0.8,
      },
    ],
  };
}
