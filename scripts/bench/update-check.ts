/**
 * The update check under a fleet: one product, one cohort of 10,000 devices, 50 releases in it (one
 * signed binary and bundle each), the latest phased to a device count. `wrk` (Debian) then sends
 * `POST /devices/{prn}/update` for random devices of the cohort for a while; checks/s and the latency
 * percentiles are wrk's own. Claims must stay exact under that load: afterwards every device checks
 * once more, and the number offered the phased release must equal its phase count exactly.
 * Skipped (with the reason printed) when the registry has no release routes yet, or wrk is missing.
 */
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runTimed } from './proc.js';
import { api, presignSinglePart, startRegistry, type BenchRegistry } from './registry.js';
import type { BenchContext } from './publish.js';
import type { Check } from './report.js';

export interface FleetOptions {
  devices: number;
  releases: number;
  /** The latest release's phase_value: a device count. */
  phaseCount: number;
  seconds: number;
  connections: number;
}

export interface FleetResult {
  options: FleetOptions;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number };
  errors: string;
  offeredPhased: number;
  skipped?: string;
}

const DEFAULT_FLEET: FleetOptions = {
  devices: 10_000,
  releases: 50,
  phaseCount: 2_500,
  seconds: 20,
  connections: 64,
};

type Reg = Pick<BenchRegistry, 'baseUrl' | 'apiKey'>;

async function status(reg: Reg, method: string, path: string, body?: unknown): Promise<number> {
  const r = await fetch(`${reg.baseUrl}${path}`, {
    method,
    headers: { authorization: `Token ${reg.apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await r.arrayBuffer();
  return r.status;
}

/** A small signed binary through the Admin API: create, one presigned PUT, the registry's check, a signature. */
async function signedBinary(
  reg: Reg,
  key: { prn: string; privateKey: ReturnType<typeof generateKeyPairSync>['privateKey'] },
  n: number,
) {
  const content = Buffer.concat([Buffer.from(`fleet firmware ${n}\n`), randomBytes(1024)]);
  const file = { size: content.length, sha256Hex: createHash('sha256').update(content).digest('hex') };
  const { binaryPrn, url } = await presignSinglePart(reg, file, `fleet-${n}`);
  const put = await fetch(url, {
    method: 'PUT',
    headers: { 'x-amz-checksum-sha256': Buffer.from(file.sha256Hex, 'hex').toString('base64') },
    body: content,
  });
  if (!put.ok) throw new Error(`fleet: part upload HTTP ${put.status}`);
  for (const state of ['hashable', 'hashing']) await api(reg, 'PATCH', `/binaries/${binaryPrn}`, { state });
  for (let i = 0; ; i++) {
    const { binary } = await api<{ binary: { state: string } }>(reg, 'GET', `/binaries/${binaryPrn}`);
    if (binary.state === 'signable') break;
    if (i > 200) throw new Error(`fleet: binary stuck in ${binary.state}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  await api(reg, 'POST', '/binary_signatures', {
    binary_prn: binaryPrn,
    signing_key_prn: key.prn,
    signature: sign(null, Buffer.from(file.sha256Hex), key.privateKey).toString('hex').toUpperCase(),
  });
  return binaryPrn;
}

async function inParallel<T>(count: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

function parseWrk(text: string): { rps: number; p50: number; p90: number; p99: number; errors: string } {
  const ms = (v: string, unit: string): number => Number(v) * ({ us: 0.001, ms: 1, s: 1000 }[unit] ?? NaN);
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(text);
    return m ? ms(m[1]!, m[2]!) : NaN;
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const errors = [/Socket errors:.*$/m.exec(text)?.[0], /Non-2xx or 3xx responses: \d+/.exec(text)?.[0]]
    .filter(Boolean)
    .join('; ');
  return { rps, p50: pct('50'), p90: pct('90'), p99: pct('99'), errors: errors || 'none' };
}

export async function benchFleet(
  ctx: BenchContext,
  options: FleetOptions = DEFAULT_FLEET,
): Promise<FleetResult> {
  const empty = {
    options,
    requestsPerSecond: 0,
    latencyMs: { p50: 0, p90: 0, p99: 0 },
    errors: '',
    offeredPhased: 0,
  };
  if (spawnSync('wrk', ['--version']).error)
    return { ...empty, skipped: 'wrk is not installed (apt-get install wrk)' };
  const dataDir = join(ctx.tmp, 'registry-fleet');
  const registry = await startRegistry(ctx.root, dataDir);
  ctx.registries.add(registry);
  try {
    if ((await status(registry, 'GET', '/products')) === 404)
      return { ...empty, skipped: 'this registry has no release routes yet (POST /devices/{prn}/update)' };
    const pair = generateKeyPairSync('ed25519');
    const spki = pair.publicKey.export({ format: 'der', type: 'spki' });
    const { signing_key } = await api<{ signing_key: { prn: string } }>(registry, 'POST', '/signing_keys', {
      name: 'fleet',
      value: spki.subarray(spki.length - 32).toString('base64'),
    });
    const key = { prn: signing_key.prn, privateKey: pair.privateKey };
    const { product } = await api<{ product: { prn: string } }>(registry, 'POST', '/products', {
      name: 'fleet',
    });
    const { cohort } = await api<{ cohort: { prn: string } }>(registry, 'POST', '/cohorts', {
      name: 'fleet',
      product_prn: product.prn,
    });
    let latestBundle = '';
    let firstRelease = '';
    for (let i = 0; i < options.releases; i++) {
      const binary = await signedBinary(registry, key, i);
      const { bundle } = await api<{ bundle: { prn: string } }>(registry, 'POST', '/bundles', {
        binaries: [{ prn: binary, custom_metadata: null }],
      });
      const last = i === options.releases - 1;
      const { release } = await api<{ release: { prn: string } }>(registry, 'POST', '/releases', {
        bundle_prn: bundle.prn,
        cohort_prn: cohort.prn,
        name: `fleet-${i}`,
        required: false,
        schedule_date: '2026-01-01T00:00:00Z',
        phase_value: last ? options.phaseCount : 1,
        version: `1.${i}.0`,
      });
      latestBundle = bundle.prn;
      firstRelease ||= release.prn;
    }
    // Every device reports the first release, as one installed with it does: its update is the latest
    // release for the devices the phase admits, the one before it for the others. A device that reports
    // nothing is offered nothing, so a body of {} measured only the refusal.
    const checkBody = { release_prn: firstRelease };
    const devices = await inParallel(options.devices, 16, async (i) => {
      const { device } = await api<{ device: { prn: string } }>(registry, 'POST', '/devices', {
        identifier: `fleet-device-${i}`,
        product_prn: product.prn,
        cohort_prn: cohort.prn,
      });
      return device.prn;
    });
    const script = join(ctx.tmp, 'fleet.lua');
    await writeFile(
      script,
      `local prns = {${devices.map((p) => `"${p}"`).join(',')}}\n` +
        `wrk.method = "POST"\nwrk.body = [[${JSON.stringify(checkBody)}]]\n` +
        `wrk.headers["content-type"] = "application/json"\nwrk.headers["authorization"] = "Token ${registry.apiKey}"\n` +
        `request = function() return wrk.format(nil, "/devices/" .. prns[math.random(#prns)] .. "/update") end\n`,
    );
    const run = await runTimed('wrk', [
      '-t2',
      `-c${options.connections}`,
      `-d${options.seconds}s`,
      '--latency',
      '-s',
      script,
      registry.baseUrl,
    ]);
    await rm(script, { force: true });
    const figures = parseWrk(run.stdout);
    // Every device once more, in turn: the phased release must be offered to exactly its phase count.
    const offers = await inParallel(devices.length, 16, async (i) => {
      const body = await api<{ bundle_prn: string | null }>(
        registry,
        'POST',
        `/devices/${devices[i]}/update`,
        checkBody,
      );
      return body.bundle_prn === latestBundle ? 1 : 0;
    });
    return {
      options,
      requestsPerSecond: figures.rps,
      latencyMs: { p50: figures.p50, p90: figures.p90, p99: figures.p99 },
      errors: figures.errors,
      offeredPhased: offers.reduce<number>((a, b) => a + b, 0),
    };
  } finally {
    await registry.stop();
    ctx.registries.delete(registry);
    await rm(dataDir, { recursive: true, force: true });
  }
}

export function fleetReport(r: FleetResult): { section: string; checks: Check[] } {
  const o = r.options;
  const title = `### Update check: ${o.devices.toLocaleString('en-US')} devices in one cohort, ${o.releases} releases, the latest phased to ${o.phaseCount.toLocaleString('en-US')}`;
  if (r.skipped) return { section: `${title}\n\nNot measured: ${r.skipped}.`, checks: [] };
  const section =
    `${title}\n\nwrk, 2 threads, ${o.connections} connections, ${o.seconds} s, random devices.\n\n` +
    '| checks/s | p50 | p90 | p99 | errors | offered the phased release afterwards |\n|---|---|---|---|---|---|\n' +
    `| ${r.requestsPerSecond.toFixed(0)} | ${r.latencyMs.p50.toFixed(1)} ms | ${r.latencyMs.p90.toFixed(1)} ms | ${r.latencyMs.p99.toFixed(1)} ms | ${r.errors} | ${r.offeredPhased} of ${o.devices} |`;
  return {
    section,
    checks: [
      {
        measure: 'update checks per second (SQLite)',
        figure: `${r.requestsPerSecond.toFixed(0)}/s`,
        ratio: `${(r.requestsPerSecond / 2000).toFixed(2)}×`,
        target: '≥ 2,000/s',
        pass: r.requestsPerSecond >= 2000,
      },
      {
        measure: 'update check p99 under that load',
        figure: `${r.latencyMs.p99.toFixed(1)} ms`,
        ratio: `${(r.latencyMs.p99 / 50).toFixed(2)}×`,
        target: '≤ 50 ms',
        pass: r.latencyMs.p99 <= 50,
      },
      {
        measure: 'claims of the phased release after the load',
        figure: `${r.offeredPhased}`,
        ratio: '–',
        target: `exactly ${o.phaseCount}`,
        pass: r.offeredPhased === o.phaseCount,
      },
    ],
  };
}
