/**
 * API latency of the list/search calls the actions make, on PostgreSQL vs SQLite, with 100,000 binaries
 * (1 artifact, 100 versions × 1,000 targets). Each call is made 300 times one after another through a
 * registry process; prints p50 and p95 per call and backend.
 *   npx tsx scripts/bench/fleet-list.ts [--binaries 100000]
 * Needs PERIDIO_REGISTRY_DATABASE_URL (`npm run services`), else starts the services itself.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { PgStore } from '../../packages/registry/src/store/pg/pg-store.js';
import { SqliteStore } from '../../packages/registry/src/store/sqlite/sqlite-store.js';
import type { Store } from '../../packages/registry/src/store/store.js';
import { servicesEnv } from './fleet.js';
import type { Check } from './report.js';

const root = new URL('../..', import.meta.url).pathname;
const log = (m: string) => console.error(`bench: ${m}`);
const TARGETS = 1000;
const KEY = 'prk_bench';

async function fill(
  store: Store,
  total: number,
): Promise<{ org: string; artifact: string; versions: string[] }> {
  const org = await store.meta.setIfAbsent('organization', randomUUID());
  const now = '2026-01-01T00:00:00.000000Z';
  const artifact = randomUUID();
  await store.artifacts.insert({
    id: artifact,
    org,
    name: 'bench',
    description: null,
    custom_metadata: null,
    inserted_at: now,
    updated_at: now,
  });
  const versions: string[] = [];
  for (let v = 0; v < Math.ceil(total / TARGETS); v++) {
    const id = randomUUID();
    versions.push(id);
    await store.artifactVersions.insert({
      id,
      org,
      artifact_id: artifact,
      version: `1.0.${v}`,
      description: null,
      custom_metadata: null,
      inserted_at: now,
      updated_at: now,
    });
    await store.transaction(async (tx) => {
      for (let t = 0; t < TARGETS && v * TARGETS + t < total; t++)
        await tx.binaries.insert({
          id: randomUUID(),
          org,
          artifact_version_id: id,
          target: `t${t}`,
          hash: 'a'.repeat(64),
          size: 1000,
          description: null,
          custom_metadata: null,
          inserted_at: now,
          updated_at: now,
        });
    });
    if (v % 10 === 9) log(`${(v + 1) * TARGETS} binaries`);
  }
  return { org, artifact, versions };
}

async function measure(
  baseUrl: string,
  paths: Record<string, string>,
): Promise<Record<string, { p50: number; p95: number }>> {
  const out: Record<string, { p50: number; p95: number }> = {};
  for (const [name, path] of Object.entries(paths)) {
    const ms: number[] = [];
    for (let i = 0; i < 300; i++) {
      const started = performance.now();
      const res = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Token ${KEY}` } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
      ms.push(performance.now() - started);
    }
    ms.sort((a, b) => a - b);
    out[name] = { p50: ms[Math.floor(ms.length * 0.5)]!, p95: ms[Math.floor(ms.length * 0.95)]! };
  }
  return out;
}

async function serve(dataDir: string, env: Record<string, string>): Promise<{ url: string; stop(): void }> {
  const child = spawn(
    process.execPath,
    [join(root, 'dist/registry/index.js'), 'serve', '--port', '0', '--data-dir', dataDir],
    {
      env: { ...env, PERIDIO_REGISTRY_API_KEY: KEY },
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', () => reject(new Error(out)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

export type ListLatency = Record<string, Record<string, { p50: number; p95: number }>>;

export interface ListLatencyResult {
  binaries: number;
  results: ListLatency;
  skipped?: string;
}

/** The actions' list/search calls through a registry process on SQLite, then on PostgreSQL. */
export async function benchListLatency(total: number): Promise<ListLatencyResult> {
  let services: ReturnType<typeof servicesEnv>;
  try {
    services = servicesEnv(256 * 1024 * 1024);
  } catch (err) {
    return {
      binaries: total,
      results: {},
      skipped: `the services did not start: ${(err as Error).message.split('\n')[0]}`,
    };
  }
  const work = await mkdtemp(join(tmpdir(), 'peridio-bench-list-'));
  const dbName = `bench_${randomUUID().replaceAll('-', '')}`;
  const admin = new pg.Client({ connectionString: services.env.PERIDIO_REGISTRY_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const pgUrl = new URL(services.env.PERIDIO_REGISTRY_DATABASE_URL!);
  pgUrl.pathname = `/${dbName}`;
  const results: ListLatency = {};
  try {
    for (const backend of ['SQLite', 'PostgreSQL'] as const) {
      const dataDir = join(work, backend);
      await mkdir(dataDir, { recursive: true });
      const store: Store =
        backend === 'SQLite'
          ? new SqliteStore(join(dataDir, 'registry.db'))
          : await PgStore.open({ url: pgUrl.toString() });
      log(`${backend}: inserting ${total} binaries`);
      const { org, artifact, versions } = await fill(store, total);
      await store.close();
      const env: Record<string, string> = {
        ...(process.env as Record<string, string>),
        PERIDIO_REGISTRY_DATABASE_URL: backend === 'PostgreSQL' ? pgUrl.toString() : '',
        PERIDIO_REGISTRY_BLOB_STORE: '',
      };
      const registry = await serve(backend === 'SQLite' ? dataDir : join(work, 'pg-data'), env);
      const prn = (type: string, id: string) => `prn:1:${org}:${type}:${id}`;
      const q = (s: string) => encodeURIComponent(s);
      const mid = versions[Math.floor(versions.length / 2)]!;
      try {
        results[backend] = await measure(registry.url, {
          'artifact by name': `/artifacts?limit=100&order=asc&search=${q("name:'bench'")}`,
          'version of an artifact': `/artifact_versions?limit=100&order=asc&search=${q(`artifact_prn:'${prn('artifact', artifact)}' and version:'1.0.50'`)}`,
          'binary by version and target': `/binaries?limit=100&search=${q(`target:'t500' and artifact_version_prn:'${prn('artifact_version', mid)}'`)}`,
          'first page of binaries': '/binaries?limit=100',
        });
      } finally {
        registry.stop();
      }
    }
    return { binaries: total, results };
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    await rm(work, { recursive: true, force: true });
    services.down();
  }
}

export function listLatencyReport(r: ListLatencyResult): { section: string; checks: Check[] } {
  const title = `### List and search calls on PostgreSQL vs SQLite, ${r.binaries.toLocaleString('en-US')} binaries, 300 calls each`;
  if (r.skipped) return { section: `${title}\n\nNot measured: ${r.skipped}.`, checks: [] };
  const rows = Object.keys(r.results.SQLite!).map((name) => {
    const s = r.results.SQLite![name]!;
    const p = r.results.PostgreSQL![name]!;
    return { name, s, p };
  });
  const section =
    `${title}\n\n| call | SQLite p50 / p95 | PostgreSQL p50 / p95 | p95 PostgreSQL / SQLite |\n|---|---|---|---|\n` +
    rows
      .map(
        ({ name, s, p }) =>
          `| ${name} | ${s.p50.toFixed(1)} / ${s.p95.toFixed(1)} ms | ${p.p50.toFixed(1)} / ${p.p95.toFixed(1)} ms | ${(p.p95 / s.p95).toFixed(2)}× |`,
      )
      .join('\n');
  return {
    section,
    checks: rows.map(({ name, s, p }) => ({
      measure: `API p95 "${name}" at ${r.binaries.toLocaleString('en-US')} binaries: PostgreSQL vs SQLite`,
      figure: `${p.p95.toFixed(1)} ms vs ${s.p95.toFixed(1)} ms`,
      ratio: `${(p.p95 / s.p95).toFixed(2)}×`,
      target: 'none (printed)',
      pass: undefined,
    })),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { binaries: { type: 'string', default: '100000' } } });
  console.log(listLatencyReport(await benchListLatency(Number(values.binaries))).section);
}
