/**
 * A WAN inside this machine: the registry runs in a network namespace the bench creates, reached over a
 * veth pair whose two ends are shaped with `tbf` (bandwidth), through a proxy on loopback that adds the
 * round trip (see delay-proxy.ts). Needs root (`ip netns`, `tc`); everything is removed afterwards.
 * On each link it runs, in turn and for several rounds: the publish action at its defaults and at other
 * part sizes / concurrencies, a Peridio-CLI-like uploader (peridio-cli-like.ts), and one `curl -T`.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startDelayProxy } from './delay-proxy.js';
import { formatSize, MiB, type BenchFile } from './files.js';
import { phasesOf } from './phases.js';
import { median, publish, requireSuccess, type BenchContext } from './publish.js';
import { runTimed } from './proc.js';
import { presignSinglePart, registerSigningKey, startRegistry } from './registry.js';
import type { Check } from './report.js';

export interface Link {
  mbit: number;
  rttMs: number;
  file: BenchFile;
}

interface Contender {
  name: string;
  partSize?: number;
  concurrency?: number;
  kind: 'publish' | 'cli-like' | 'curl';
}

export interface LinkResult {
  link: { mbit: number; rttMs: number; fileSize: number };
  /** `uploadMs`: the publish's upload phase from its log (transfer only; publishes only). */
  rows: { name: string; kind: Contender['kind']; ms: number[]; uploadMs: number[]; peakRss: number[] }[];
}

function sh(args: string[], allowFail = false): void {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0 && !allowFail) throw new Error(`${args.join(' ')}: ${r.stderr || r.error?.message}`);
}

/** A namespace and a shaped veth pair; `teardown` removes both (deleting the namespace deletes the pair). */
function createLink(mbit: number): { ns: string; hostIp: string; nsIp: string; teardown(): void } {
  const tag = randomBytes(3).toString('hex');
  const ns = `pbench-${tag}`;
  const [hostIf, nsIf] = [`pbh${tag}`, `pbn${tag}`];
  const net = `10.${200 + (parseInt(tag.slice(0, 2), 16) % 50)}.${parseInt(tag.slice(2, 4), 16)}`;
  const [hostIp, nsIp] = [`${net}.1`, `${net}.2`];
  // A burst of a few ms of traffic at the rate, the usual sizing for tbf; 50 ms of queue at most.
  const burst = `${Math.max(16, Math.round((mbit * 1000) / 8 / 250))}kb`;
  const shape = ['root', 'tbf', 'rate', `${mbit}mbit`, 'burst', burst, 'latency', '50ms'];
  const teardown = (): void => {
    sh(['ip', 'netns', 'del', ns], true);
    sh(['ip', 'link', 'del', hostIf], true);
  };
  try {
    sh(['ip', 'netns', 'add', ns]);
    sh(['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
    sh(['ip', 'link', 'set', nsIf, 'netns', ns]);
    sh(['ip', 'addr', 'add', `${hostIp}/30`, 'dev', hostIf]);
    sh(['ip', 'link', 'set', hostIf, 'up']);
    sh(['ip', 'netns', 'exec', ns, 'ip', 'addr', 'add', `${nsIp}/30`, 'dev', nsIf]);
    sh(['ip', 'netns', 'exec', ns, 'ip', 'link', 'set', nsIf, 'up']);
    sh(['ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    sh(['tc', 'qdisc', 'add', 'dev', hostIf, ...shape]);
    sh(['ip', 'netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', nsIf, ...shape]);
  } catch (err) {
    teardown();
    throw err;
  }
  return { ns, hostIp, nsIp, teardown };
}

export function wanAvailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for ip netns and tc';
  const probe = spawnSync('tc', ['qdisc', 'help'], { encoding: 'utf8' });
  if (probe.error) return 'tc not found';
  return undefined;
}

export async function benchLink(
  ctx: BenchContext,
  link: Link,
  contenders: Contender[],
  rounds: number,
): Promise<LinkResult> {
  const net = createLink(link.mbit);
  const proxy = await startDelayProxy(link.rttMs);
  const dataDir = join(ctx.tmp, `registry-wan-${link.mbit}`);
  const registry = await startRegistry(ctx.root, dataDir, {
    wrap: ['ip', 'netns', 'exec', net.ns],
    host: net.nsIp,
    publicUrl: `http://127.0.0.1:${proxy.port}`,
  }).catch((err: unknown) => {
    net.teardown();
    throw err;
  });
  ctx.registries.add(registry);
  const result: LinkResult = {
    link: { mbit: link.mbit, rttMs: link.rttMs, fileSize: link.file.size },
    rows: contenders.map((c) => ({ name: c.name, kind: c.kind, ms: [], uploadMs: [], peakRss: [] })),
  };
  try {
    const direct = new URL(registry.baseUrl);
    proxy.setUpstream(direct.hostname, Number(direct.port));
    const viaProxy = { baseUrl: `http://127.0.0.1:${proxy.port}`, apiKey: registry.apiKey };
    const key = await registerSigningKey({ ...registry, baseUrl: viaProxy.baseUrl });
    let n = 0;
    for (let round = 0; round < rounds; round++) {
      for (const [i, c] of contenders.entries()) {
        const target = `wan-${n++}`;
        let ms: number;
        let rss: number;
        if (c.kind === 'publish') {
          const run = await publish(ctx, { ...registry, baseUrl: viaProxy.baseUrl }, key, link.file, {
            target,
            partSize: c.partSize!,
            concurrency: c.concurrency!,
          });
          requireSuccess(run, `${c.name} over ${link.mbit} Mbit/s`, link.file);
          [ms, rss] = [run.durationMs, run.peakRssBytes];
          const uploadMs = phasesOf(run.lines).uploadMs;
          if (uploadMs !== undefined) result.rows[i]!.uploadMs.push(uploadMs);
        } else if (c.kind === 'cli-like') {
          const run = await runTimed(
            process.execPath,
            [
              '--import',
              'tsx',
              join(ctx.root, 'scripts/bench/peridio-cli-like.ts'),
              viaProxy.baseUrl,
              link.file.path,
              target,
            ],
            { env: { ...process.env, PERIDIO_API_KEY: registry.apiKey } },
          );
          if (run.code !== 0) throw new Error(`${c.name}: exit ${run.code}\n${run.stderr.slice(-800)}`);
          [ms, rss] = [run.durationMs, run.peakRssBytes];
        } else {
          const { url } = await presignSinglePart(viaProxy, link.file, target);
          const checksum = Buffer.from(link.file.sha256Hex, 'hex').toString('base64');
          const run = await runTimed('curl', [
            '-sS',
            '-T',
            link.file.path,
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
          if (run.code !== 0 || !/^20[01]$/.test(run.stdout.trim()))
            throw new Error(`curl over ${link.mbit} Mbit/s: exit ${run.code}, HTTP ${run.stdout.trim()}`);
          [ms, rss] = [run.durationMs, run.peakRssBytes];
        }
        result.rows[i]!.ms.push(ms);
        result.rows[i]!.peakRss.push(rss);
      }
    }
  } finally {
    await registry.stop();
    ctx.registries.delete(registry);
    await proxy.close();
    net.teardown();
    await rm(dataDir, { recursive: true, force: true });
  }
  return result;
}

export function wanReport(results: LinkResult[], defaults: string): { section: string; checks: Check[] } {
  const parts: string[] = [];
  const checks: Check[] = [];
  for (const r of results) {
    const linkBytesPerS = (r.link.mbit * 1e6) / 8;
    const curl = r.rows.find((row) => row.kind === 'curl');
    parts.push(
      `### WAN: ${r.link.mbit} Mbit/s (tbf), ${r.link.rttMs} ms RTT (delaying proxy), ${formatSize(r.link.fileSize)} file, ${r.rows[0]?.ms.length ?? 0} rounds in turn\n\n` +
        '| client | median (min–max) | goodput | of link rate | upload phase: goodput, of link rate | vs curl -T | peak RSS |\n|---|---|---|---|---|---|---|\n' +
        r.rows
          .map((row) => {
            const ms = median(row.ms);
            const rate = r.link.fileSize / (ms / 1000);
            const upload = row.uploadMs.length ? r.link.fileSize / (median(row.uploadMs) / 1000) : undefined;
            const uploadCell = upload
              ? `${((upload * 8) / 1e6).toFixed(1)} Mbit/s, ${((100 * upload) / linkBytesPerS).toFixed(0)} %`
              : '–';
            return `| ${row.name} | ${(ms / 1000).toFixed(2)} s (${(Math.min(...row.ms) / 1000).toFixed(2)}–${(Math.max(...row.ms) / 1000).toFixed(2)}) | ${((rate * 8) / 1e6).toFixed(1)} Mbit/s | ${((100 * rate) / linkBytesPerS).toFixed(0)} % | ${uploadCell} | ${curl ? `${(ms / median(curl.ms)).toFixed(2)}×` : '–'} | ${(Math.max(...row.peakRss) / MiB).toFixed(0)} MiB |`;
          })
          .join('\n'),
    );
    const ours = r.rows.find((row) => row.name === defaults);
    if (ours) {
      const rate = r.link.fileSize / (median(ours.ms) / 1000);
      const share = rate / linkBytesPerS;
      const main = r.link.mbit === 200;
      // The upload phase is what the link limits; the whole publish adds the hash pass and the registry's
      // check, which no link speed changes. Both are printed; the target is the transfer's.
      if (ours.uploadMs.length) {
        const upload = r.link.fileSize / (median(ours.uploadMs) / 1000);
        checks.push({
          measure: `publish at the defaults over ${r.link.mbit} Mbit/s, ${r.link.rttMs} ms RTT: upload phase`,
          figure: `${((upload * 8) / 1e6).toFixed(1)} Mbit/s`,
          ratio: `${((100 * upload) / linkBytesPerS).toFixed(0)} %`,
          target: main ? '≥ 90 % of the link rate' : 'none (informs the default)',
          pass: main ? upload / linkBytesPerS >= 0.9 : undefined,
        });
      }
      checks.push({
        measure: `publish at the defaults over ${r.link.mbit} Mbit/s, ${r.link.rttMs} ms RTT (whole publish: hash, API, upload, check, sign)`,
        figure: `${((rate * 8) / 1e6).toFixed(1)} Mbit/s`,
        ratio: `${(100 * share).toFixed(0)} %`,
        target: 'none (the hash pass and the registry check are not link-bound)',
        pass: undefined,
      });
    }
  }
  return { section: parts.join('\n\n'), checks };
}
