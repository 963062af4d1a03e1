/**
 * Growth: the registry holding 1×, 10× and 100× the binaries (default 1,000 / 10,000 / 100,000, ten
 * targets per artifact version), seeded through the registry's own Store between two starts. At each
 * scale: the searches the actions make (find the artifact, the version, the binary by version and target,
 * the signature by binary and key, the key by value), each timed 30 times over HTTP, and one publish.
 * The query plan of each search is printed too, so an index that is not used shows.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { formatPrn } from '../../packages/core/src/prn.js';
import { searchQuery } from '../../packages/core/src/client/search.js';
import { SqliteStore } from '../../packages/registry/src/store/sqlite/sqlite-store.js';
import { type BenchFile } from './files.js';
import { median, publish, requireSuccess, type BenchContext } from './publish.js';
import { api, registerSigningKey, startRegistry } from './registry.js';
import type { Check } from './report.js';

export interface GrowthPoint {
  binaries: number;
  seedMs: number;
  publishMs: number;
  searches: { name: string; medianMs: number; p99Ms: number; plan: string }[];
}

const TARGETS_PER_VERSION = 10;
const VERSIONS_PER_ARTIFACT = 10;

async function seed(dbPath: string, org: string, binaries: number): Promise<void> {
  const store = new SqliteStore(dbPath);
  const now = new Date().toISOString();
  const at = { inserted_at: now, updated_at: now, description: null, custom_metadata: null };
  await store.transaction(async (tx) => {
    let artifactId = '';
    let versionId = '';
    for (let i = 0; i < binaries; i++) {
      if (i % (TARGETS_PER_VERSION * VERSIONS_PER_ARTIFACT) === 0) {
        artifactId = randomUUID();
        await tx.artifacts.insert({ id: artifactId, org, name: `seed-${artifactId}`, ...at });
      }
      if (i % TARGETS_PER_VERSION === 0) {
        versionId = randomUUID();
        const version = `1.0.${(i / TARGETS_PER_VERSION) % VERSIONS_PER_ARTIFACT}`;
        await tx.artifactVersions.insert({ id: versionId, org, artifact_id: artifactId, version, ...at });
      }
      await tx.binaries.insert({
        id: randomUUID(),
        org,
        artifact_version_id: versionId,
        target: `target-${i % TARGETS_PER_VERSION}`,
        hash: randomBytes(32).toString('hex'),
        size: 1024,
        ...at,
      });
    }
  });
  await (store as unknown as { close?: () => Promise<void> | void }).close?.();
}

/** SQLite's plan for the statement list.ts runs, in one line ("SEARCH … USING INDEX …" or "SCAN …"). */
function planOf(dbPath: string, sql: string, params: (string | number)[]): string {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
    return rows.map((r) => r.detail).join('; ');
  } finally {
    db.close();
  }
}

export async function benchGrowth(
  ctx: BenchContext,
  file: BenchFile,
  scales: number[],
): Promise<GrowthPoint[]> {
  const points: GrowthPoint[] = [];
  for (const binaries of scales) {
    const dataDir = join(ctx.tmp, `registry-growth-${binaries}`);
    const dbPath = join(dataDir, 'registry.db');
    // First start: the schema, the organisation and one artifact whose org the seed rows share.
    let registry = await startRegistry(ctx.root, dataDir);
    ctx.registries.add(registry);
    const { artifact } = await api<{ artifact: { prn: string } }>(registry, 'POST', '/artifacts', {
      name: 'probe',
    });
    const org = artifact.prn.split(':')[2]!;
    await registry.stop();
    ctx.registries.delete(registry);
    const seeded = performance.now();
    await seed(dbPath, org, binaries);
    const seedMs = performance.now() - seeded;

    registry = await startRegistry(ctx.root, dataDir);
    ctx.registries.add(registry);
    try {
      const key = await registerSigningKey(registry);
      const run = await publish(ctx, registry, key, file, {
        target: 'growth',
        partSize: ctx.partSize,
        concurrency: ctx.concurrency,
      });
      requireSuccess(run, `publish with ${binaries} binaries`, file);
      const bin = await api<{ binaries: { prn: string; artifact_version_prn: string }[] }>(
        registry,
        'GET',
        `/binaries?search=${encodeURIComponent(searchQuery({ target: 'growth' }))}`,
      );
      const binary = bin.binaries[0]!;
      const versionId = binary.artifact_version_prn.split(':').pop()!;
      const keyRow = await api<{ signing_key: { value: string } }>(
        registry,
        'GET',
        `/signing_keys/${key.prn}`,
      );
      const id = (prn: string): string => prn.split(':').pop()!;
      const versionPrn = formatPrn(org, 'artifact_version', versionId);
      const searches: [string, string, string, (string | number)[]][] = [
        [
          'artifact by name',
          `/artifacts?search=${encodeURIComponent(searchQuery({ name: 'bench' }))}&limit=100`,
          'SELECT t.* FROM artifacts t WHERE t.org = ? AND ((t.name = ?)) AND t.seq > ? ORDER BY t.seq ASC LIMIT ?',
          [org, 'bench', 0, 101],
        ],
        [
          'binary by version and target',
          `/binaries?search=${encodeURIComponent(searchQuery({ target: 'growth', artifact_version_prn: versionPrn }))}&limit=100`,
          'SELECT t.* FROM binaries t WHERE t.org = ? AND ((t.target = ?) AND ((t.org = ? AND t.artifact_version_id = ?))) AND t.seq > ? ORDER BY t.seq ASC LIMIT ?',
          [org, 'growth', org, versionId, 0, 101],
        ],
        [
          'signature by binary and key',
          `/binary_signatures?search=${encodeURIComponent(searchQuery({ binary_prn: binary.prn, signing_key_prn: key.prn }))}&limit=100`,
          'SELECT t.* FROM binary_signatures t WHERE t.org = ? AND (((t.org = ? AND t.binary_id = ?)) AND ((t.org = ? AND t.signing_key_id = ?))) AND t.seq > ? ORDER BY t.seq ASC LIMIT ?',
          [org, org, id(binary.prn), org, id(key.prn), 0, 101],
        ],
        [
          'signing key by value',
          `/signing_keys?search=${encodeURIComponent(searchQuery({ value: keyRow.signing_key.value }))}&limit=100`,
          'SELECT t.* FROM signing_keys t WHERE t.org = ? AND ((t.value = ?)) AND t.seq > ? ORDER BY t.seq ASC LIMIT ?',
          [org, keyRow.signing_key.value, 0, 101],
        ],
      ];
      const timed: GrowthPoint['searches'] = [];
      // The registry settles after the publish (its background hashing, the janitor) before timing.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      for (const [name, path, sql, params] of searches) {
        for (let i = 0; i < 5; i++) await api(registry, 'GET', path);
        const ms: number[] = [];
        for (let i = 0; i < 30; i++) {
          const t = performance.now();
          await api(registry, 'GET', path);
          ms.push(performance.now() - t);
        }
        ms.sort((a, b) => a - b);
        timed.push({
          name,
          medianMs: median(ms),
          p99Ms: ms[Math.ceil(ms.length * 0.99) - 1]!,
          plan: planOf(dbPath, sql, params),
        });
      }
      points.push({ binaries, seedMs, publishMs: run.durationMs, searches: timed });
    } finally {
      await registry.stop();
      ctx.registries.delete(registry);
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  return points;
}

export function growthReport(points: GrowthPoint[]): { section: string; checks: Check[] } {
  const names = points[0]?.searches.map((s) => s.name) ?? [];
  const header = ['binaries', 'publish (16 MiB)', ...names.map((n) => `${n}: median / p99`)];
  const rows = points.map((p) => [
    p.binaries.toLocaleString('en-US'),
    `${(p.publishMs / 1000).toFixed(2)} s`,
    ...p.searches.map((s) => `${s.medianMs.toFixed(1)} / ${s.p99Ms.toFixed(1)} ms`),
  ]);
  const last = points[points.length - 1];
  const plans = last ? last.searches.map((s) => `- ${s.name}: \`${s.plan}\``).join('\n') : '';
  const section =
    "### Growth: the actions' searches and a publish as the registry grows\n\n" +
    `| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n` +
    rows.map((r) => `| ${r.join(' | ')} |`).join('\n') +
    `\n\nSQLite's plans at ${last?.binaries.toLocaleString('en-US')} binaries:\n\n${plans}`;
  const checks: Check[] = [];
  const first = points[0];
  if (first && last && last !== first) {
    for (const [i, s] of last.searches.entries()) {
      const base = first.searches[i]!;
      const ratio = s.medianMs / base.medianMs;
      checks.push({
        measure: `search "${s.name}" at ${last.binaries.toLocaleString('en-US')} vs ${first.binaries.toLocaleString('en-US')} binaries (median)`,
        figure: `${s.medianMs.toFixed(1)} ms vs ${base.medianMs.toFixed(1)} ms`,
        ratio: `${ratio.toFixed(2)}×`,
        target: 'flat: ≤ 2×',
        pass: ratio <= 2,
      });
    }
    checks.push({
      measure: `publish 16 MiB at ${last.binaries.toLocaleString('en-US')} vs ${first.binaries.toLocaleString('en-US')} binaries`,
      figure: `${(last.publishMs / 1000).toFixed(2)} s vs ${(first.publishMs / 1000).toFixed(2)} s`,
      ratio: `${(last.publishMs / first.publishMs).toFixed(2)}×`,
      target: `no faster than linear (≤ ${(last.binaries / first.binaries).toFixed(0)}×); flat wanted`,
      pass: last.publishMs / first.publishMs <= last.binaries / first.binaries,
    });
  }
  return { section, checks };
}
