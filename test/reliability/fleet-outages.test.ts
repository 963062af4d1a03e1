/**
 * The fleet's backends going away for a while: requests fail with retryable errors that say what is
 * missing, the action retries through it, and no record claims content that the store does not hold.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { runAction } from '../helpers/run-action.js';
import { signatureVerifies, writeTestFile } from '../e2e/scene.js';
import { describeWithServices } from '../services/services.js';
import { API_KEY, downloadSha256Via, startFleet, type Fleet } from './fleet-harness.js';

const PART_SIZE = 5_242_880;
const root = new URL('../..', import.meta.url).pathname;
const services_sh = join(root, 'scripts/services.sh');

describeWithServices('fleet outages', (services) => {
  const inputs = (fleet: Fleet, baseUrl: string, target: string, file: string) => ({
    'api-key': API_KEY,
    'base-url': baseUrl,
    artifact: 'firmware',
    target,
    file,
    'signing-key-private': fleet.key.privatePem,
    version: '1.0.0',
    'part-size': String(PART_SIZE),
    concurrency: '1',
  });

  describe_s3(services);

  function describe_s3(env: Record<string, string>) {
    let fleet: Fleet;
    beforeAll(async () => {
      fleet = await startFleet(env);
    });
    afterAll(async () => fleet?.close());

    it('S3 unreachable: 503s that name the content store, no part recorded valid; the publish goes through once it is back', async () => {
      const api = fleet.api(fleet.first);
      const { body: art } = await api<{ artifact: { prn: string } }>('POST', '/artifacts', {
        name: 's3-down',
      });
      const { body: ver } = await api<{ artifact_version: { prn: string } }>('POST', '/artifact_versions', {
        artifact_prn: art.artifact.prn,
        version: '1.0.0',
      });
      const hash = 'ab'.repeat(32);
      const { body: bin } = await api<{ binary: { prn: string } }>('POST', '/binaries', {
        artifact_version_prn: ver.artifact_version.prn,
        target: 'probe',
        hash,
        size: 10,
      });
      const prn = bin.binary.prn;
      // The upload is started (part 1 registered) while S3 is there; then S3 goes away.
      expect((await api('PUT', `/binaries/${prn}/parts/1`, { hash, size: 10 })).status).toBe(201);
      fleet.s3.setTarget('http://127.0.0.1:9'); // nothing listens there: every S3 request fails
      const listed = await api<{ errors: { detail: string } }>('GET', `/binaries/${prn}/parts`);
      expect(listed.status).toBe(503);
      expect(listed.body.errors.detail).toMatch(/content store cannot be reached; retry/);
      expect((await api('PATCH', `/binaries/${prn}`, { state: 'hashable' })).status).toBe(503);
      const { body: bin2 } = await api<{ binary: { prn: string } }>('POST', '/binaries', {
        artifact_version_prn: ver.artifact_version.prn,
        target: 'probe-2',
        hash,
        size: 10,
      });
      // A new upload cannot start either.
      const part = await api('PUT', `/binaries/${bin2.binary.prn}/parts/1`, { hash, size: 10 });
      expect(part.status).toBe(503);

      // A publish started during the outage retries through it.
      const file = await writeTestFile(fleet.dir, 's3-down.img', PART_SIZE + 7);
      const run = runAction('publish-binary', inputs(fleet, fleet.first.baseUrl, 's3-down', file.path), {
        timeoutMs: 150_000,
      });
      await new Promise((r) => setTimeout(r, 3000));
      fleet.s3.setTarget(env.AWS_ENDPOINT_URL_S3!);
      const done = await run;
      expect(done.code, done.stdout + done.stderr).toBe(0);
      expect(done.outputs.state).toBe('signed');
      expect(await downloadSha256Via(api, done.outputs['binary-prn']!)).toBe(file.sha256);

      // The probe binary: its part was registered but never stored, and says so.
      const parts = await api<{ binary_parts: { state: string }[] }>('GET', `/binaries/${prn}/parts`);
      expect(parts.body.binary_parts.map((p) => p.state)).toEqual(['uploadable']);
      expect((await api<{ binary: { state: string } }>('GET', `/binaries/${prn}`)).body.binary.state).toBe(
        'uploadable',
      );
      expect(fleet.first.output().stderr).toMatch(/503: the content store is unavailable/);
    }, 180_000);
  }

  it('PostgreSQL restarted during a publish: the action retries the 503s and nothing is lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'peridio-pg-restart-'));
    chmodSync(dir, 0o755);
    const pgEnv = { ...process.env, PERIDIO_SERVICES_DIR: join(dir, 's'), PERIDIO_SERVICES_ONLY: 'pg' };
    const out = execFileSync('bash', [services_sh, 'up'], { env: pgEnv, encoding: 'utf8' });
    const url = /^PERIDIO_REGISTRY_DATABASE_URL=(.*)$/m.exec(out)![1]!;
    const fleet = await startFleet(services, url);
    const front = await startFaultProxy({ target: fleet.first.baseUrl });
    try {
      const file = await writeTestFile(fleet.dir, 'pg-restart.img', 3 * PART_SIZE + 3);
      let restarted: Promise<void> | undefined;
      // At the second part's registration the database goes down, for two seconds.
      const rule = front.addRule({
        method: 'PUT',
        path: /^\/binaries\/[^/]+\/parts\/2$/,
        action: { kind: 'pass' },
        onFire: () => {
          execFileSync('bash', [services_sh, 'pg-stop'], { env: pgEnv, stdio: 'ignore' });
          restarted = new Promise((resolve, reject) => {
            setTimeout(() => {
              const child = spawn('bash', [services_sh, 'pg-start'], { env: pgEnv, stdio: 'ignore' });
              child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pg-start: ${code}`))));
            }, 2000);
          });
        },
      });
      const run = await runAction('publish-binary', inputs(fleet, front.url, 'pg-restart', file.path), {
        timeoutMs: 150_000,
      });
      await restarted;
      expect(rule.fired).toBe(1);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.outputs.state).toBe('signed');
      expect(front.stats.requests.some((r) => r.status === 503)).toBe(true);
      expect(fleet.first.output().stderr).toMatch(/503: the database is unavailable/);
      expect(await downloadSha256Via(fleet.api(fleet.first), run.outputs['binary-prn']!)).toBe(file.sha256);
      expect(signatureVerifies(file.sha256, run.outputs.signature!, fleet.key.publicPem)).toBe(true);
    } finally {
      await front.close();
      await fleet.close();
      execFileSync('bash', [services_sh, 'down'], { env: pgEnv, stdio: 'ignore' });
    }
  }, 180_000);
});
