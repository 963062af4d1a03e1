/**
 * `peridio-registry migrate`: an embedded data dir (SQLite + local content) with binaries in every state
 * is copied into PostgreSQL + S3, every SHA-256 verified on the way; a blob corrupted on disk is reported
 * and arrives as a binary to upload again, never as content someone could download. Release management
 * comes along (products to events, claims and links included): the fleet answers as the embedded registry
 * did, and migrate run again, after a crash or after a finished copy, adds only what is missing.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { openSync, readdirSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { registryBundle, startRegistry } from '../helpers/registry-process.js';
import { registerNewKey, signatureVerifies } from '../e2e/scene.js';
import { freshBlobStoreUrl, freshDatabase, describeWithServices } from '../services/services.js';
import { apiOf, downloadSha256Via, waitForState, type Api } from './fleet-harness.js';
import { buildReleaseFlow, offered, releaseSnapshot, rowsOf, tableCounts } from './migrate-harness.js';
import { call, ok, type Registry } from './registry-api.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const EMBEDDED = { PERIDIO_REGISTRY_DATABASE_URL: '', PERIDIO_REGISTRY_BLOB_STORE: '' };

interface Made {
  prn: string;
  content: Buffer;
  partUrls: string[];
}

/** A binary of `parts` (5 MiB each but the last), with the first `upload` parts' bytes sent. */
async function binaryWith(
  api: Api,
  versionPrn: string,
  target: string,
  parts: number[],
  upload: number,
): Promise<Made> {
  const chunks = parts.map((n) => randomBytes(n));
  const content = Buffer.concat(chunks);
  const { body } = await api<{ binary: { prn: string } }>('POST', '/binaries', {
    artifact_version_prn: versionPrn,
    target,
    hash: sha(content),
    size: content.length,
  });
  const prn = body.binary.prn;
  const partUrls: string[] = [];
  for (const [i, chunk] of chunks.entries()) {
    const { body: part } = await api<{ binary_part: { presigned_upload_url: string } }>(
      'PUT',
      `/binaries/${prn}/parts/${i + 1}`,
      { hash: sha(chunk), size: chunk.length },
    );
    partUrls.push(part.binary_part.presigned_upload_url);
    if (i < upload) {
      const res = await fetch(part.binary_part.presigned_upload_url, {
        method: 'PUT',
        body: chunk,
        headers: { 'x-amz-checksum-sha256': Buffer.from(sha(chunk), 'hex').toString('base64') },
      });
      expect(res.status).toBe(200);
    }
  }
  return { prn, content, partUrls };
}

async function toSignable(api: Api, prn: string): Promise<void> {
  expect((await api('PATCH', `/binaries/${prn}`, { state: 'hashable' })).status).toBe(200);
  expect((await api('PATCH', `/binaries/${prn}`, { state: 'hashing' })).status).toBe(200);
  expect((await waitForState(api, prn, 'signable', 20_000)).state).toBe('signable');
}

function runMigrate(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [registryBundle, 'migrate', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `migrate --from dataDir --to databaseUrl --to blobStore`, with nothing else from the environment. */
function migrateInto(
  services: Record<string, string>,
  dataDir: string,
  databaseUrl: string,
  blobStore: string,
) {
  return runMigrate(['--from', dataDir, '--to', databaseUrl, '--to', blobStore], {
    ...services,
    PERIDIO_REGISTRY_DATABASE_URL: '',
    PERIDIO_REGISTRY_BLOB_STORE: '',
  });
}

/** A registry on the migrated database and bucket, with the API key that came along. */
function fleetOn(services: Record<string, string>, databaseUrl: string, blobStore: string) {
  return startRegistry({
    env: {
      ...services,
      PERIDIO_REGISTRY_DATABASE_URL: databaseUrl,
      PERIDIO_REGISTRY_BLOB_STORE: blobStore,
      PERIDIO_REGISTRY_API_KEY: '',
    },
  });
}

describeWithServices('peridio-registry migrate', (services) => {
  it('copies records and content of every state, verifying each blob; a corrupted blob is reported, not copied', async () => {
    const embedded = await startRegistry({ env: EMBEDDED });
    const e = apiOf(embedded.baseUrl, embedded.apiKey);
    const key = await registerNewKey(e, 'release key');
    const { body: art } = await e<{ artifact: { prn: string } }>('POST', '/artifacts', { name: 'fw' });
    const { body: ver } = await e<{ artifact_version: { prn: string } }>('POST', '/artifact_versions', {
      artifact_prn: art.artifact.prn,
      version: '1.0.0',
    });
    const v = ver.artifact_version.prn;
    const signed = await binaryWith(e, v, 'signed', [5 * MiB, 1000], 2);
    await toSignable(e, signed.prn);
    const { createPrivateKey, sign } = await import('node:crypto');
    const signature = sign(null, Buffer.from(sha(signed.content)), createPrivateKey(key.privatePem)).toString(
      'hex',
    );
    expect(
      (await e('POST', '/binary_signatures', { binary_prn: signed.prn, signing_key_prn: key.prn, signature }))
        .status,
    ).toBe(201);
    expect((await e<{ binary: { state: string } }>('GET', `/binaries/${signed.prn}`)).body.binary.state).toBe(
      'signed',
    );
    const signable = await binaryWith(e, v, 'signable', [777], 1);
    await toSignable(e, signable.prn);
    const corrupt = await binaryWith(e, v, 'corrupt', [5 * MiB, 10], 2);
    await toSignable(e, corrupt.prn);
    const destroyed = await binaryWith(e, v, 'destroyed', [50], 1);
    await toSignable(e, destroyed.prn);
    expect((await e('PATCH', `/binaries/${destroyed.prn}`, { state: 'destroyed' })).status).toBe(200);
    const partial = await binaryWith(e, v, 'uploadable', [5 * MiB, 20], 1);
    const hashable = await binaryWith(e, v, 'hashable', [5 * MiB, 30], 2);
    expect((await e('PATCH', `/binaries/${hashable.prn}`, { state: 'hashable' })).status).toBe(200);
    // Access records: a scoped key, a webhook, and the audit trail of all of the above.
    const { body: scoped } = await e<{ api_key: { prn: string; key: string } }>('POST', '/api_keys', {
      name: 'ci',
      role: 'publisher',
    });
    const { body: hook } = await e<{ webhook: { prn: string } }>('POST', '/webhooks', {
      url: 'https://hooks.example.com/fleet',
      enabled_events: ['binary.created'],
    });
    const { body: trail } = await e<{ events: { prn: string }[] }>('GET', '/events?limit=100');
    expect(trail.events.length).toBeGreaterThan(20);
    await embedded.stop();

    // The corrupted blob: same size, other bytes (a failing disk).
    const blobHash = sha(corrupt.content);
    const segment = join(embedded.dataDir, 'blobs', blobHash.slice(0, 2), blobHash, '1');
    expect(readdirSync(join(embedded.dataDir, 'blobs', blobHash.slice(0, 2), blobHash))).toContain('1');
    const fd = openSync(segment, 'r+');
    writeSync(fd, Buffer.from('not the bytes that were uploaded'), 0, undefined, 100);
    closeSync(fd);

    const db = await freshDatabase(services.PERIDIO_REGISTRY_DATABASE_URL!);
    const blobStore = freshBlobStoreUrl(services);
    try {
      const result = await migrateInto(services, embedded.dataDir, db.url, blobStore);
      expect(result.code, result.stdout + result.stderr).toBe(1);
      const corruptId = corrupt.prn.split(':').at(-1)!;
      expect(result.stdout).toMatch(/1 artifacts, 1 artifact versions, 1 signing keys, 6 binaries/);
      expect(result.stdout).toMatch(/, 1 binary signatures, /);
      expect(result.stdout).toContain(`binary ${corruptId}: its content's SHA-256 is`);
      expect(result.stdout).toMatch(/1 problem\(s\)/);
      expect(result.stdout).toContain(`${trail.events.length} events, 1 API keys, 1 webhooks;`);

      // The fleet serves the migrated registry, with the embedded registry's API key.
      const fleet = await fleetOn(services, db.url, blobStore);
      try {
        // The embedded registry's API key, migrated with its records.
        const fa = apiOf(fleet.baseUrl, embedded.apiKey);
        // The scoped key keeps its role; the webhook and the audit trail are the same records.
        const ci = apiOf(fleet.baseUrl, scoped.api_key.key);
        expect((await ci('GET', '/artifacts')).status).toBe(200);
        expect((await ci('POST', '/signing_keys', { name: 'x', value: 'y' })).status).toBe(403);
        expect(
          (await fa<{ webhook: { url: string } }>('GET', `/webhooks/${hook.webhook.prn}`)).body.webhook.url,
        ).toBe('https://hooks.example.com/fleet');
        const { body: migrated } = await fa<{ events: { prn: string }[] }>('GET', '/events?limit=100');
        expect(migrated.events.slice(0, trail.events.length)).toEqual(trail.events);
        const state = async (prn: string) =>
          (
            await fa<{ binary: { state: string; hash_error?: string; signatures: { signature: string }[] } }>(
              'GET',
              `/binaries/${prn}`,
            )
          ).body.binary;
        expect((await state(signed.prn)).state).toBe('signed');
        expect(
          signatureVerifies(
            sha(signed.content),
            (await state(signed.prn)).signatures[0]!.signature,
            key.publicPem,
          ),
        ).toBe(true);
        expect(await downloadSha256Via(fa, signed.prn)).toBe(sha(signed.content));
        expect((await state(signable.prn)).state).toBe('signable');
        expect(await downloadSha256Via(fa, signable.prn)).toBe(sha(signable.content));
        expect((await state(destroyed.prn)).state).toBe('destroyed');
        const broken = await state(corrupt.prn);
        expect(broken.state).toBe('uploadable');
        expect(broken.hash_error).toMatch(/migration: its content's SHA-256/);
        expect((await fa('GET', `/binaries/${corrupt.prn}/download_url`)).status).toBe(422);

        // The upload under way resumes: part 1 is valid in S3, part 2 goes there now.
        const parts = await fa<{ binary_parts: { state: string }[] }>(
          'GET',
          `/binaries/${partial.prn}/parts`,
        );
        expect(parts.body.binary_parts.map((p) => p.state)).toEqual(['valid', 'uploadable']);
        const last = partial.content.subarray(5 * MiB);
        const { body: p2 } = await fa<{ binary_part: { presigned_upload_url: string } }>(
          'PUT',
          `/binaries/${partial.prn}/parts/2`,
          { hash: sha(last), size: last.length },
        );
        const put = await fetch(p2.binary_part.presigned_upload_url, {
          method: 'PUT',
          body: last,
          headers: { 'x-amz-checksum-sha256': Buffer.from(sha(last), 'hex').toString('base64') },
        });
        expect(put.status).toBe(200);
        await toSignable(fa, partial.prn);
        expect(await downloadSha256Via(fa, partial.prn)).toBe(sha(partial.content));

        // Hashable arrived completed in S3; the check finishes it.
        expect((await state(hashable.prn)).state).toBe('hashable');
        expect((await fa('PATCH', `/binaries/${hashable.prn}`, { state: 'hashing' })).status).toBe(200);
        expect((await waitForState(fa, hashable.prn, 'signable', 20_000)).state).toBe('signable');
        expect(await downloadSha256Via(fa, hashable.prn)).toBe(sha(hashable.content));
      } finally {
        await fleet.stop();
      }

      // Run again over the registry in use: the corrupt blob is reported again, nothing else is written,
      // and the binaries the fleet moved on (the resumed upload, the checked one) stay where it put them.
      const binaries =
        'SELECT id, state, upload_generation, blob_hash, hash_error FROM binaries ORDER BY seq';
      const states = await rowsOf(db.url, binaries);
      const counts = await tableCounts(db.url);
      const again = await migrateInto(services, embedded.dataDir, db.url, blobStore);
      expect(again.code, again.stdout + again.stderr).toBe(1);
      expect(again.stdout).toMatch(/6 binaries \(0 bytes verified and copied\)/);
      expect(again.stdout).toMatch(/; 0 of \d+ rows written by this run \(the others were there already\)/);
      expect(again.stdout).toMatch(
        new RegExp(
          `binary ${corruptId}: its content's SHA-256 is \\w+, the record says \\w+ \\(found by an earlier run\\)`,
        ),
      );
      expect(again.stdout).toMatch(/1 problem\(s\)/);
      expect(await rowsOf(db.url, binaries)).toEqual(states);
      expect(await tableCounts(db.url)).toEqual(counts);
    } finally {
      await db.drop();
    }
  }, 180_000);

  it('copies release management: the fleet answers /releases, /cohorts, /devices/{prn}/update and /events as SQLite did; a re-run after a crash or a finished copy adds only what is missing', async () => {
    const embedded = await startRegistry({ env: EMBEDDED });
    const flow = await buildReleaseFlow(embedded);
    const before = await releaseSnapshot(embedded, flow.overridePrn);
    // A page cursor handed out by the embedded registry, to be followed on the fleet.
    const firstPage = await ok(embedded, 'GET', '/events?limit=3');
    await embedded.stop();
    expect(before.releases).toHaveLength(2);
    expect(before.releases[0].next_release_prn).toBe(flow.phased.prn);

    const db = await freshDatabase(services.PERIDIO_REGISTRY_DATABASE_URL!);
    const blobStore = freshBlobStoreUrl(services);
    const run = () => migrateInto(services, embedded.dataDir, db.url, blobStore);
    try {
      const first = await run();
      expect(first.code, first.stdout + first.stderr).toBe(0);
      const counted = `2 products, 1 cohorts, 4 devices, 3 bundles, 3 bundle binaries, 1 bundle signatures, 2 releases, 1 phase claims, 1 bundle overrides, 1 override devices, ${before.events.length} events`;
      expect(first.stdout).toContain(counted);
      expect(first.stdout).toMatch(/3 binaries \(\d+ bytes verified and copied\)/);
      const [, written, total] = /(\d+) of (\d+) rows written by this run;/.exec(first.stdout)!;
      expect(written).toBe(total);
      const copied = await tableCounts(db.url);

      // A crash part-way: the organization (written last) and whole pages of rows absent, a signed binary
      // recorded but its content not copied yet (and so not its signature either).
      const lost = await tableCounts(db.url, [
        "DELETE FROM meta WHERE key = 'organization'",
        'DELETE FROM events WHERE seq > (SELECT min(seq) + 3 FROM events)',
        'DELETE FROM release_claims',
        'DELETE FROM bundle_override_devices',
        `DELETE FROM binary_signatures WHERE binary_id = '${flow.base.binaryId}'`,
        `UPDATE binaries SET state = 'uploadable', blob_hash = NULL WHERE id = '${flow.base.binaryId}'`,
      ]);
      const missing = Object.keys(copied).reduce((n, t) => n + copied[t]! - lost[t]!, 0) - 1; // the organization
      expect(missing).toBeGreaterThan(3);
      const resumed = await run();
      expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
      expect(resumed.stdout).toContain(counted);
      expect(resumed.stdout).toContain(
        `${missing} of ${total} rows written by this run (the others were there already)`,
      );
      expect(resumed.stdout).toMatch(
        new RegExp(`3 binaries \\(${flow.base.size} bytes verified and copied\\)`),
      );
      expect(await tableCounts(db.url)).toEqual(copied);

      const fleet = await fleetOn(services, db.url, blobStore);
      const f: Registry = { ...fleet, apiKey: embedded.apiKey };
      try {
        // Every listing as SQLite had it: same records, same ids, timestamps and order.
        expect(await releaseSnapshot(f, flow.overridePrn)).toEqual(before);
        const next = await ok(f, 'GET', `/events?limit=3&page=${encodeURIComponent(firstPage.next_page)}`);
        expect(next.events).toEqual(before.events.slice(3, 6));
        expect(await downloadSha256Via(apiOf(f.baseUrl, f.apiKey), flow.base.binaryPrn)).toBe(flow.base.hash);

        // The phase is full with device 0's claim: device 1 is still refused (checked first, so a lost
        // claim would admit it), device 0 is offered the phased release again.
        for (const [device, body] of [flow.checks[1]!, flow.checks[0]!, flow.checks[2]!, flow.checks[3]!]) {
          const reply = await call(f, 'POST', `/devices/${device}/update`, { body });
          expect(reply.status, reply.text).toBe(200);
          expect(offered(reply.json)).toEqual(flow.answers.get(device));
        }
        // New records get ids and places after the copied ones (the sequences were moved past them).
        const added = await call(f, 'POST', '/devices', {
          body: { identifier: 'after-migration', product_prn: flow.productPrn, cohort_prn: flow.cohortPrn },
        });
        expect(added.status, added.text).toBe(201);
        const events = (await releaseSnapshot(f, flow.overridePrn)).events;
        expect(events.slice(0, before.events.length)).toEqual(before.events);
        expect(events.length).toBeGreaterThanOrEqual(before.events.length + 4);
        const devices = (await ok(f, 'GET', '/devices?limit=100')).devices;
        expect(devices.at(-1).identifier).toBe('after-migration');
      } finally {
        await fleet.stop();
      }

      // Once more over the registry in use: nothing written, nothing of the fleet's own undone.
      const inUse = await tableCounts(db.url);
      const again = await run();
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.stdout).toContain(
        `0 of ${total} rows written by this run (the others were there already)`,
      );
      expect(again.stdout).toMatch(/3 binaries \(0 bytes verified and copied\)/);
      expect(await tableCounts(db.url)).toEqual(inUse);
    } finally {
      await db.drop();
    }
  }, 240_000);
});
