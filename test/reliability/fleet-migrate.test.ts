/**
 * `peridio-registry migrate`: an embedded data dir (SQLite + local content) with binaries in every state
 * is copied into PostgreSQL + S3, every SHA-256 verified on the way; a blob corrupted on disk is reported
 * and arrives as a binary to upload again, never as content someone could download.
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
      const result = await runMigrate(['--from', embedded.dataDir, '--to', db.url, '--to', blobStore], {
        ...services,
        PERIDIO_REGISTRY_DATABASE_URL: '',
        PERIDIO_REGISTRY_BLOB_STORE: '',
      });
      expect(result.code, result.stdout + result.stderr).toBe(1);
      const corruptId = corrupt.prn.split(':').at(-1)!;
      expect(result.stdout).toMatch(/migrated 1 artifacts, 1 versions, 1 signing keys, 6 binaries/);
      expect(result.stdout).toContain(`binary ${corruptId}: its content's SHA-256 is`);
      expect(result.stdout).toMatch(/1 problem\(s\)/);
      expect(result.stdout).toContain(`1 API keys, 1 webhooks, ${trail.events.length} events`);

      // The fleet serves the migrated registry, with the embedded registry's API key.
      const fleet = await startRegistry({
        env: {
          ...services,
          PERIDIO_REGISTRY_DATABASE_URL: db.url,
          PERIDIO_REGISTRY_BLOB_STORE: blobStore,
          PERIDIO_REGISTRY_API_KEY: '',
        },
      });
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
    } finally {
      await db.drop();
    }
  }, 180_000);
});
