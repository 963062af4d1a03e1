/**
 * Load on a real registry process: 200 Admin API requests in flight at once (creates, reads and lists),
 * while 8 binaries upload in parallel. Nothing may fail and nothing may be lost: afterwards every record
 * the requests created exists exactly once, and every upload is signed and serves its own bytes.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry } from '../helpers/registry-process.js';
import {
  call,
  createArtifactVersion,
  listAll,
  makeKey,
  measurement,
  ok,
  PART_SIZE,
  percentiles,
  publishRaw,
  registerKey,
  sha256,
  type Registry,
  type Reply,
} from './registry-api.js';

const REQUESTS = 200;
const UPLOADS = 8;
const SEEDS = 10;

let registry: Registry;

beforeAll(async () => {
  registry = await startRegistry();
});

afterAll(async () => {
  await registry?.stop();
});

describe('registry under load', () => {
  it('answers 200 concurrent API requests and 8 parallel uploads without errors or lost records', async () => {
    const key = makeKey();
    const keyPrn = await registerKey(registry, key);
    const { versionPrn } = await createArtifactVersion(registry, 'load');
    const seeds: string[] = [];
    for (let i = 0; i < SEEDS; i++)
      seeds.push((await ok(registry, 'POST', '/artifacts', { name: `seed-${i}` })).artifact.prn);

    // Two parts each (5 MiB + 64 KiB): part records, presigned PUTs, assembly and the server's hash check.
    const contents = Array.from({ length: UPLOADS }, () => randomBytes(PART_SIZE + 64 * 1024));

    // A burst alone first (the registry's baseline), then the same burst again while the uploads run.
    const alone = await burst(seeds, versionPrn, 0);
    const uploadsStarted = performance.now();
    const uploads = contents.map((content, i) =>
      publishRaw(registry, { versionPrn, target: `load-target-${i}`, content, key, keyPrn }).then((r) => ({
        ...r,
        ms: performance.now() - uploadsStarted,
      })),
    );
    const replies = await burst(seeds, versionPrn, REQUESTS);
    const published = await Promise.all(uploads);
    const uploadsMs = performance.now() - uploadsStarted;

    const failures = [...alone, ...replies].filter(({ reply }) => reply.status < 200 || reply.status > 299);
    expect(failures.map(({ kind, reply }) => `${kind}: ${reply.status} ${reply.text}`)).toEqual([]);

    // No lost or doubled records: everything created is there, exactly once.
    const artifacts = await listAll(registry, 'artifacts');
    const names = artifacts.map((a) => a.name as string);
    expect(artifacts).toHaveLength(1 + SEEDS + (2 * REQUESTS) / 4);
    expect(new Set(names).size).toBe(names.length);
    for (let i = 0; i < 2 * REQUESTS; i += 4) expect(names).toContain(`load-${i}`);
    const versions = await listAll(registry, 'artifact_versions');
    expect(versions).toHaveLength(1 + (2 * REQUESTS) / 4);
    const binaries = await listAll(registry, 'binaries');
    expect(binaries).toHaveLength(UPLOADS);
    for (const [i, content] of contents.entries()) {
      const binary = binaries.find((b) => b.target === `load-target-${i}`);
      expect(binary).toMatchObject({
        state: 'signed',
        hash: sha256(content),
        size: content.length,
        prn: published[i]!.prn,
      });
      const { download_url } = await ok(registry, 'GET', `/binaries/${binary.prn}/download_url`);
      const download = await fetch(download_url);
      expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(sha256(content));
    }
    expect(await listAll(registry, 'binary_signatures')).toHaveLength(UPLOADS);

    measurement('Load', '200 concurrent API requests', {
      requests: REQUESTS,
      errors: alone.filter(({ reply }) => reply.status < 200 || reply.status > 299).length,
      latencyMs: percentiles(alone.map(({ reply }) => reply.ms)),
    });
    const latency = percentiles(replies.map(({ reply }) => reply.ms));
    const byKind: Record<string, ReturnType<typeof percentiles>> = {};
    for (const kind of new Set(replies.map((r) => r.kind))) {
      byKind[kind] = percentiles(replies.filter((r) => r.kind === kind).map((r) => r.reply.ms));
    }
    const uploadedBytes = contents.reduce((sum, c) => sum + c.length, 0);
    measurement('Load', '200 concurrent API requests + 8 parallel uploads', {
      requests: REQUESTS,
      errors: failures.length,
      baselineLatencyMs: percentiles(alone.map(({ reply }) => reply.ms)),
      latencyMs: latency,
      latencyByKindMs: byKind,
      uploads: UPLOADS,
      uploadErrors: 0,
      uploadedMiB: Math.round((uploadedBytes / 1048576) * 10) / 10,
      uploadsWallMs: Math.round(uploadsMs),
      uploadMsEach: percentiles(published.map((p) => p.ms)),
      recordsAfter: { artifacts: artifacts.length, versions: versions.length, binaries: binaries.length },
    });
  });
});

/** REQUESTS requests started at once: a quarter each of artifact creates, reads, lists and version creates. */
function burst(
  seeds: string[],
  versionPrn: string,
  offset: number,
): Promise<{ kind: string; reply: Reply }[]> {
  const requests: Promise<{ kind: string; reply: Reply }>[] = [];
  for (let i = offset; i < offset + REQUESTS; i++) {
    const seed = seeds[i % SEEDS]!;
    const [kind, method, path, body] = [
      [
        'create artifact',
        'POST',
        '/artifacts',
        { name: `load-${i}`, description: null, custom_metadata: { i } },
      ],
      ['get artifact', 'GET', `/artifacts/${seed}`, undefined],
      [
        'list',
        'GET',
        i % 8 === 2
          ? '/artifacts?limit=100'
          : `/binaries?search=${encodeURIComponent(`artifact_version_prn:'${versionPrn}'`)}`,
        undefined,
      ],
      ['create version', 'POST', '/artifact_versions', { artifact_prn: seed, version: `2.0.${i}` }],
    ][i % 4] as [string, string, string, unknown];
    requests.push(call(registry, method, path, { body }).then((reply) => ({ kind, reply })));
  }
  return Promise.all(requests);
}
