/**
 * The update check under a fleet: one product, one cohort of 10,000 devices, 50 releases in it (one
 * signed binary and bundle each), the latest phased to a device count, on SQLite and on PostgreSQL (+ S3).
 * `wrk` (Debian) sends `POST /devices/{prn}/update` for random devices of the cohort twice: as fast as 64
 * connections go (the registry's capacity), then paced to 2,000 checks/s (what 10,000 devices checking every
 * 5 s offer: the latency they see). Claims must stay exact under that load: afterwards every device checks
 * once more, and the number offered the phased release must equal its phase count exactly.
 * Skipped (with the reason printed) when wrk is missing, or for PostgreSQL when the services do not start.
 */
import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { servicesEnv } from './fleet.js';
import { api, presignSinglePart, startRegistry, type BenchRegistry } from './registry.js';
import type { BenchContext } from './publish.js';
import type { Check } from './report.js';
import { runWrk, wrkMissing, type WrkFigures } from './wrk.js';

export type FleetBackend = 'SQLite' | 'PostgreSQL';

export interface FleetOptions {
  devices: number;
  releases: number;
  /** The latest release's phase_value: a device count. */
  phaseCount: number;
  seconds: number;
  connections: number;
  /** The paced run's offered checks per second. */
  rate: number;
  /** Also the run as fast as the connections go (off for the growth curve, which compares latency). */
  saturate?: boolean;
}

export interface FleetResult {
  backend: FleetBackend;
  options: FleetOptions;
  saturated?: WrkFigures;
  paced?: WrkFigures;
  offeredPhased: number;
  skipped?: string;
}

const DEFAULT_FLEET: FleetOptions = {
  devices: 10_000,
  releases: 50,
  phaseCount: 2_500,
  seconds: 20,
  connections: 64,
  rate: 2_000,
};

type Reg = Pick<BenchRegistry, 'baseUrl' | 'apiKey'>;

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

/** A PostgreSQL database of its own on the services' server, dropped afterwards; content in their S3. */
async function postgresPlacement(): Promise<{ env: Record<string, string>; down(): Promise<void> }> {
  const services = servicesEnv(256 * 1024 * 1024);
  const admin = new pg.Client({ connectionString: services.env.PERIDIO_REGISTRY_DATABASE_URL });
  await admin.connect();
  const name = `bench_fleet_${randomUUID().replaceAll('-', '')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(services.env.PERIDIO_REGISTRY_DATABASE_URL!);
  url.pathname = `/${name}`;
  return {
    env: { ...services.env, PERIDIO_REGISTRY_DATABASE_URL: url.toString() },
    async down() {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await admin.end();
      services.down();
    },
  };
}

export async function benchFleet(
  ctx: BenchContext,
  backend: FleetBackend,
  options: FleetOptions = DEFAULT_FLEET,
): Promise<FleetResult> {
  const result: FleetResult = { backend, options, offeredPhased: 0 };
  const missing = wrkMissing();
  if (missing) return { ...result, skipped: missing };
  let placement: Awaited<ReturnType<typeof postgresPlacement>> | undefined;
  if (backend === 'PostgreSQL') {
    try {
      placement = await postgresPlacement();
    } catch (err) {
      return { ...result, skipped: `the services did not start: ${(err as Error).message.split('\n')[0]}` };
    }
  }
  const dataDir = join(ctx.tmp, `registry-fleet-${backend}`);
  const registry = await startRegistry(ctx.root, dataDir, { env: placement?.env });
  ctx.registries.add(registry);
  try {
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
    const request = {
      paths: devices.map((prn) => `/devices/${prn}/update`),
      body: JSON.stringify(checkBody),
      headers: { 'content-type': 'application/json', authorization: `Token ${registry.apiKey}` },
    };
    const script = join(ctx.tmp, 'fleet.lua');
    const load = { connections: options.connections, seconds: options.seconds };
    if (options.saturate !== false) result.saturated = await runWrk(script, registry.baseUrl, request, load);
    result.paced = await runWrk(script, registry.baseUrl, request, { ...load, rate: options.rate });
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
    result.offeredPhased = offers.reduce<number>((sum, o) => sum + o, 0);
    return result;
  } finally {
    await registry.stop();
    ctx.registries.delete(registry);
    await rm(dataDir, { recursive: true, force: true });
    await placement?.down();
  }
}

const row = (what: string, f: WrkFigures) =>
  `| ${what} | ${f.rps.toFixed(0)} | ${f.p50.toFixed(1)} ms | ${f.p90.toFixed(1)} ms | ${f.p99.toFixed(1)} ms | ${f.errors} |`;

export function fleetReport(r: FleetResult): { section: string; checks: Check[] } {
  const o = r.options;
  const title = `### Update check on ${r.backend}: ${o.devices.toLocaleString('en-US')} devices in one cohort, ${o.releases} releases, the latest phased to ${o.phaseCount.toLocaleString('en-US')}`;
  if (r.skipped || !r.saturated || !r.paced)
    return { section: `${title}\n\nNot measured: ${r.skipped ?? 'no figures'}.`, checks: [] };
  const rate = o.rate.toLocaleString('en-US');
  const section =
    `${title}\n\nwrk, 2 threads, ${o.connections} connections, ${o.seconds} s each, random devices; then every device ` +
    `checks once more to count the offers of the phased release: ${r.offeredPhased} of ${o.devices}.\n\n` +
    '| load | checks/s | p50 | p90 | p99 | errors |\n|---|---|---|---|---|---|\n' +
    `${row('as fast as the connections go', r.saturated)}\n${row(`paced to ${rate} checks/s`, r.paced)}`;
  const at = `${r.backend}, ${rate}/s offered`;
  return {
    section,
    checks: [
      {
        measure: `update checks per second, ${r.backend} (most the registry answers)`,
        figure: `${r.saturated.rps.toFixed(0)}/s (p99 ${r.saturated.p99.toFixed(1)} ms at ${o.connections} connections)`,
        ratio: `${(r.saturated.rps / o.rate).toFixed(2)}×`,
        target: `≥ ${rate}/s`,
        pass: r.saturated.rps >= o.rate,
      },
      {
        measure: `update check p99, ${at}`,
        figure: `${r.paced.p99.toFixed(1)} ms at ${r.paced.rps.toFixed(0)}/s`,
        ratio: `${(r.paced.p99 / 50).toFixed(2)}×`,
        target: '≤ 50 ms',
        pass: r.paced.p99 <= 50 && r.paced.rps >= o.rate * 0.98,
      },
      {
        measure: `claims of the phased release after the load, ${r.backend}`,
        figure: `${r.offeredPhased}`,
        ratio: '–',
        target: `exactly ${o.phaseCount}`,
        pass: r.offeredPhased === o.phaseCount,
      },
    ],
  };
}

export interface FleetGrowthResult {
  points: FleetResult[];
}

/**
 * The update check's latency as the fleet grows: at each scale a fresh SQLite registry with 1,000 × scale
 * devices and 5 × scale releases (the latest phased to a quarter of the devices), paced to the same rate.
 */
export async function benchFleetGrowth(
  ctx: BenchContext,
  scales: number[],
  rate = 1_000,
): Promise<FleetGrowthResult> {
  const points: FleetResult[] = [];
  for (const scale of scales) {
    points.push(
      await benchFleet(ctx, 'SQLite', {
        devices: 1_000 * scale,
        releases: 5 * scale,
        phaseCount: 250 * scale,
        seconds: 10,
        connections: 64,
        rate,
        saturate: false,
      }),
    );
  }
  return { points };
}

export function fleetGrowthReport(r: FleetGrowthResult): { section: string; checks: Check[] } {
  const title = '### Growth: the update check as the fleet grows (SQLite, paced)';
  const done = r.points.filter((p) => p.paced);
  if (done.length === 0)
    return { section: `${title}\n\nNot measured: ${r.points[0]?.skipped ?? 'no scales'}.`, checks: [] };
  const rate = done[0]!.options.rate.toLocaleString('en-US');
  const rows = done.map(
    (p) =>
      `| ${p.options.devices.toLocaleString('en-US')} | ${p.options.releases} | ${p.paced!.rps.toFixed(0)} | ${p.paced!.p50.toFixed(1)} ms | ${p.paced!.p99.toFixed(1)} ms | ${p.offeredPhased} of ${p.options.phaseCount} |`,
  );
  const first = done[0]!;
  const last = done.at(-1)!;
  const growth = last.options.devices / first.options.devices;
  const ratio = last.paced!.p99 / first.paced!.p99;
  return {
    section:
      `${title}\n\nwrk, 64 connections, 10 s paced to ${rate} checks/s, at each scale; claims counted afterwards.\n\n` +
      '| devices | releases | checks/s | p50 | p99 | offered the phased release |\n|---|---|---|---|---|---|\n' +
      rows.join('\n'),
    checks: [
      {
        measure: `update check p99 at ${growth}× the devices and releases (${rate}/s offered)`,
        figure: `${last.paced!.p99.toFixed(1)} ms vs ${first.paced!.p99.toFixed(1)} ms`,
        ratio: `${ratio.toFixed(2)}×`,
        target: `no faster than linear (≤ ${growth}×); flat wanted`,
        pass: ratio <= growth && done.every((p) => p.offeredPhased === p.options.phaseCount),
      },
    ],
  };
}
