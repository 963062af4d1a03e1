/**
 * Two registry instances on one PostgreSQL + S3: what one instance dies in the middle of, the other
 * finishes, and rules that span requests (one version, one live binary per target) hold across them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bytesSent, startFaultProxy } from '../helpers/fault-proxy.js';
import type { RegistryProcess } from '../helpers/registry-process.js';
import { runAction, type ActionRun } from '../helpers/run-action.js';
import { signatureVerifies, writeTestFile } from '../e2e/scene.js';
import { describeWithServices } from '../services/services.js';
import {
  API_KEY,
  downloadSha256Via,
  LEASE_MS,
  startFleet,
  waitForState,
  type Fleet,
} from './fleet-harness.js';

const PART_SIZE = 5_242_880;
const S3_PART_PUT = /[?&]partNumber=/;

describeWithServices('fleet: two instances on one PostgreSQL + S3', (services) => {
  let fleet: Fleet;
  let b: RegistryProcess;

  beforeAll(async () => {
    fleet = await startFleet(services);
    b = await fleet.start();
  });
  afterAll(async () => fleet?.close());

  const inputs = (baseUrl: string, target: string, file: string, extra: Record<string, string> = {}) => ({
    'api-key': API_KEY,
    'base-url': baseUrl,
    artifact: 'firmware',
    target,
    file,
    'signing-key-private': fleet.key.privatePem,
    version: '1.0.0',
    'part-size': String(PART_SIZE),
    ...extra,
  });

  it('an instance SIGKILLed mid-upload: the re-run through another resumes, sending only the missing parts', async () => {
    const a = await fleet.start();
    const front = await startFaultProxy({ target: a.baseUrl });
    try {
      const file = await writeTestFile(fleet.dir, 'mid-upload.img', 3 * PART_SIZE + 1);
      const controller = new AbortController();
      let running: Promise<ActionRun> | undefined;
      // At the third part's registration: parts 1 and 2 are in S3; the instance and the job die.
      const rule = front.addRule({
        method: 'PUT',
        path: /^\/binaries\/[^/]+\/parts\/3$/,
        action: { kind: 'status', status: 503 },
        onFire: async () => {
          await a.kill('SIGKILL');
          controller.abort();
          await running;
        },
      });
      running = runAction(
        'publish-binary',
        inputs(front.url, 'mid-upload', file.path, { concurrency: '1' }),
        {
          signal: controller.signal,
        },
      );
      const first = await running;
      expect(rule.fired).toBe(1);
      expect(first.signal).toBe('SIGKILL');
      expect(a.exited()?.signal).toBe('SIGKILL');

      const before = bytesSent(fleet.s3, 'PUT', S3_PART_PUT);
      const rerun = await runAction('publish-binary', inputs(b.baseUrl, 'mid-upload', file.path));
      expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
      // How many parts A had taken when it died depends on timing (URLs are asked ahead); what matters is
      // that the re-run skips what is held and sends only the rest: 4 parts, the last of 1 byte.
      expect(rerun.outputs.state).toBe('signed');
      const skipped = Number(rerun.outputs['parts-skipped']);
      const uploaded = Number(rerun.outputs['parts-uploaded']);
      expect(skipped).toBeGreaterThanOrEqual(1);
      expect(skipped + uploaded).toBe(4);
      // The missing parts' bytes. A loaded machine may reset an attempt and retry it, sending some of a
      // missing part's bytes twice (measured once: 260 KiB more); never a whole part more.
      const resent = bytesSent(fleet.s3, 'PUT', S3_PART_PUT) - before;
      expect(resent).toBeGreaterThanOrEqual((uploaded - 1) * PART_SIZE + 1);
      expect(resent).toBeLessThan(uploaded * PART_SIZE + 1);
      expect(await downloadSha256Via(fleet.api(b), rerun.outputs['binary-prn']!)).toBe(file.sha256);
      expect(signatureVerifies(file.sha256, rerun.outputs.signature!, fleet.key.publicPem)).toBe(true);
      expect(b.output().stdout).toMatch(/^peridio-registry records: PostgreSQL postgres:\/\/\S+$/m);
      expect(b.output().stdout).toMatch(/^peridio-registry content: S3 s3:\/\/\S+ at http:\/\/\S+$/m);
      // No content on the registries' disks: the bytes went to S3 and came from there.
      expect(readdirSync(a.dataDir)).toEqual([]);
      expect(readdirSync(b.dataDir)).toEqual([]);
    } finally {
      await front.close();
    }
  }, 120_000);

  /** A one-part binary uploaded to S3 and put in `hashing` through `api`; returns its PRN and hash. */
  async function binaryInHashing(api: ReturnType<Fleet['api']>, name: string) {
    const content = randomBytes(PART_SIZE + 99);
    const hash = createHash('sha256').update(content).digest('hex');
    const { body: art } = await api<{ artifact: { prn: string } }>('POST', '/artifacts', { name });
    const { body: ver } = await api<{ artifact_version: { prn: string } }>('POST', '/artifact_versions', {
      artifact_prn: art.artifact.prn,
      version: '1.0.0',
    });
    const { body: bin } = await api<{ binary: { prn: string } }>('POST', '/binaries', {
      artifact_version_prn: ver.artifact_version.prn,
      target: 'arm',
      hash,
      size: content.length,
    });
    const prn = bin.binary.prn;
    const { status, body: part } = await api<{ binary_part: { presigned_upload_url: string } }>(
      'PUT',
      `/binaries/${prn}/parts/1`,
      { hash, size: content.length },
    );
    expect(status).toBe(201);
    const put = await fetch(part.binary_part.presigned_upload_url, {
      method: 'PUT',
      body: content,
      headers: { 'x-amz-checksum-sha256': Buffer.from(hash, 'hex').toString('base64') },
    });
    expect(put.status).toBe(200);
    expect((await api('PATCH', `/binaries/${prn}`, { state: 'hashable' })).status).toBe(200);
    expect((await api('PATCH', `/binaries/${prn}`, { state: 'hashing' })).status).toBe(200);
    return { prn, hash };
  }

  it('an instance killed during hashing: another finishes the check once the lease runs out', async () => {
    // A waits before hashing, long enough to be killed while it holds the lease.
    const a = await fleet.start({ PERIDIO_REGISTRY_HASHING_DELAY_MS: String(LEASE_MS * 3) });
    const { prn, hash } = await binaryInHashing(fleet.api(a), 'hash-kill');
    await new Promise((r) => setTimeout(r, 300)); // A has claimed the check and waits
    await a.kill('SIGKILL');
    const viaB = fleet.api(b);
    expect((await viaB<{ binary: { state: string } }>('GET', `/binaries/${prn}`)).body.binary.state).toBe(
      'hashing',
    );
    const started = Date.now();
    const done = await waitForState(viaB, prn, 'signable', LEASE_MS * 10);
    expect(done.state).toBe('signable');
    expect(Date.now() - started).toBeGreaterThanOrEqual(LEASE_MS / 2); // not before A's lease ran out
    // Checked by a surviving instance (B, or the fleet's first one), never by the killed A.
    expect(a.output().stderr).not.toContain(`binary ${prn.split(':').at(-1)}: content verified`);
    expect(await downloadSha256Via(viaB, prn)).toBe(hash);
  }, 60_000);

  it('SIGTERM drains: the stopping instance gives its check back at once instead of holding the lease', async () => {
    // A's lease would last 60 s; the others look for unchecked binaries every LEASE_MS / 2.
    const a = await fleet.start({
      PERIDIO_REGISTRY_HASHING_DELAY_MS: '60000',
      PERIDIO_REGISTRY_LEASE_MS: '60000',
    });
    const { prn, hash } = await binaryInHashing(fleet.api(a), 'hash-term');
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    await a.stop(); // SIGTERM
    expect(a.exited()).toEqual({ code: 0, signal: null });
    const done = await waitForState(fleet.api(b), prn, 'signable', 20_000);
    expect(done.state).toBe('signable');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(await downloadSha256Via(fleet.api(b), prn)).toBe(hash);
  }, 60_000);

  it('16 matrix jobs racing on one new version across two instances: one version, 16 signed binaries', async () => {
    const a = await fleet.start();
    const jobs = await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const file = await writeTestFile(fleet.dir, `matrix-${i}.img`, 1000 + i);
        const via = i % 2 === 0 ? a : b;
        return {
          file,
          run: runAction('publish-binary', inputs(via.baseUrl, `t${i}`, file.path, { version: '2.0.0' }), {
            timeoutMs: 150_000,
          }),
        };
      }),
    );
    const runs = await Promise.all(jobs.map((j) => j.run));
    for (const run of runs) expect(run.code, run.stdout + run.stderr).toBe(0);
    const api = fleet.api(b);
    const versions = await api<{ artifact_versions: { prn: string }[] }>(
      'GET',
      `/artifact_versions?search=${encodeURIComponent("version:'2.0.0'")}`,
    );
    expect(versions.body.artifact_versions).toHaveLength(1);
    const prn = versions.body.artifact_versions[0]!.prn;
    const binaries = await api<{ binaries: { state: string; target: string }[] }>(
      'GET',
      `/binaries?limit=100&search=${encodeURIComponent(`artifact_version_prn:'${prn}'`)}`,
    );
    expect(binaries.body.binaries).toHaveLength(16);
    expect(binaries.body.binaries.every((x) => x.state === 'signed')).toBe(true);
    for (const [i, run] of runs.entries())
      expect(signatureVerifies(jobs[i]!.file.sha256, run.outputs.signature!, fleet.key.publicPem)).toBe(true);
  }, 200_000);
});
