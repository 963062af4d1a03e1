/**
 * Access control, the audit trail and webhooks on a fleet: two registry processes on one PostgreSQL + S3.
 * A key made or revoked through one instance (or the CLI on the database) holds on the other at once;
 * events caused on both reach each webhook once, in the order they happened, and a delivery whose instance
 * dies mid-attempt is made by another.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { registryBundle, type RegistryProcess } from '../helpers/registry-process.js';
import {
  signatureValid,
  startReceiver,
  type Received,
} from '../../packages/registry/test/access/receiver.js';
import { describeWithServices } from '../services/services.js';
import { apiOf, LEASE_MS, startFleet, type Api, type Fleet } from './fleet-harness.js';
import { measurement } from './registry-api.js';

const SECTION = 'Access, audit and webhooks';

/** The default per-attempt timeout (no flag shortens it): a dead instance's lease outlives it by LEASE_MS. */
const ATTEMPT_TIMEOUT_MS = 10_000;

function registryCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [registryBundle, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const created = (r: Received, type: string) => r.body?.type === type && r.body?.data?.type === 'created';

describeWithServices('fleet: access, audit and webhooks across two instances', (services) => {
  let fleet: Fleet;
  let a: RegistryProcess;
  let b: RegistryProcess;
  let apiA: Api;
  let apiB: Api;

  beforeAll(async () => {
    fleet = await startFleet(services, undefined, {
      args: ['--allow-insecure-webhooks'],
      env: { PERIDIO_REGISTRY_WEBHOOK_BACKOFF_MS: '200,1000' },
    });
    a = fleet.first;
    b = await fleet.start();
    apiA = fleet.api(a);
    apiB = fleet.api(b);
  }, 120_000);
  afterAll(() => fleet?.close());

  it('a scoped key made on A works on B; revoked on A, B refuses it at once', async () => {
    const made = await apiA<{ api_key: { prn: string; key: string } }>('POST', '/api_keys', {
      name: 'fleet-publisher',
      role: 'publisher',
    });
    expect(made.status).toBe(201);
    const onB = apiOf(b.baseUrl, made.body.api_key.key);
    expect((await onB('POST', '/artifacts', { name: 'by-scoped-key' })).status).toBe(201);
    expect((await onB('POST', '/signing_keys', { name: 'x', value: 'y' })).status).toBe(403);
    expect((await apiA('DELETE', `/api_keys/${made.body.api_key.prn}`)).status).toBe(200);
    const refused = await onB<{ errors: { detail: string } }>('GET', '/artifacts');
    expect(refused.status).toBe(401);
    expect(refused.body.errors.detail).toBe("Unauthorized: the API key 'fleet-publisher' was revoked");
    // Both instances listed it and recorded what was done with it, wherever it was done.
    const listed = await apiB<{ api_keys: { prn: string; revoked_at: string | null }[] }>(
      'GET',
      '/api_keys?order=desc&limit=1',
    );
    expect(listed.body.api_keys[0]).toMatchObject({
      prn: made.body.api_key.prn,
      revoked_at: expect.any(String),
    });
    const events = await apiA<{
      events: { type: string; event_subtype: string; actor_prn: string | null }[];
    }>('GET', `/events?limit=100&actor_prn=${encodeURIComponent(made.body.api_key.prn)}`);
    expect(events.body.events.map((e) => `${e.type}.${e.event_subtype}`)).toEqual(['artifact.created']);
  });

  it('the CLI against --database-url makes, lists and revokes keys every instance honours, and exports the audit', async () => {
    const url = fleet.env.PERIDIO_REGISTRY_DATABASE_URL!;
    const create = await registryCli([
      'api-keys',
      'create',
      '--name',
      'cli-reader',
      '--role',
      'reader',
      '--database-url',
      url,
    ]);
    expect(create.code, create.stderr).toBe(0);
    const key = JSON.parse(create.stdout) as { prn: string; key: string };
    for (const instance of [a, b])
      expect((await apiOf(instance.baseUrl, key.key)('GET', '/artifacts')).status).toBe(200);
    const list = await registryCli(['api-keys', 'list', '--database-url', url]);
    expect(list.code, list.stderr).toBe(0);
    const names = list.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { name: string }).name);
    expect(names.slice(0, 2)).toEqual(['cli-reader', 'fleet-publisher']); // newest first
    expect(list.stdout).not.toContain(key.key.slice(37));
    const revoke = await registryCli(['api-keys', 'revoke', key.prn, '--database-url', url]);
    expect(revoke.code, revoke.stderr).toBe(0);
    for (const instance of [a, b])
      expect((await apiOf(instance.baseUrl, key.key)('GET', '/artifacts')).status).toBe(401);
    const exported = await registryCli(['audit', 'export', '--since', '1h', '--database-url', url]);
    expect(exported.code, exported.stderr).toBe(0);
    const events = exported.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; event_subtype: string; resource_prn: string });
    expect(
      events.filter((e) => e.resource_prn === key.prn).map((e) => `${e.type}.${e.event_subtype}`),
    ).toEqual(['api_key.created', 'api_key.revoked']);
    expect(events.some((e) => e.type === 'artifact' && e.event_subtype === 'created')).toBe(true);
    const bad = await registryCli(['api-keys', 'list', '--database-url', 'mysql://nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--database-url must be a postgres://');
  });

  it('events caused on both instances reach each webhook once each, in the order they happened', async () => {
    const rx1 = await startReceiver();
    const rx2 = await startReceiver();
    try {
      const hooks = [];
      for (const [rx, events] of [
        [rx1, ['artifact.created']],
        [rx2, ['artifact.created', 'artifact_version.created']],
      ] as const) {
        const w = await apiA<{ webhook: { prn: string; secret: string } }>('POST', '/webhooks', {
          url: rx.url,
          enabled_events: events,
        });
        expect(w.status).toBe(201);
        // Enabled through the other instance: each webhook is known to both from the database alone.
        expect((await apiB('PATCH', `/webhooks/${w.body.webhook.prn}`, { state: 'enabled' })).status).toBe(
          200,
        );
        hooks.push(w.body.webhook);
      }
      const caused: { type: string; prn: string }[] = [];
      for (let i = 0; i < 12; i++) {
        const api = i % 2 ? apiB : apiA;
        const artifact = await api<{ artifact: { prn: string } }>('POST', '/artifacts', {
          name: `hooked-${i}`,
        });
        expect(artifact.status).toBe(201);
        caused.push({ type: 'artifact', prn: artifact.body.artifact.prn });
        const version = await (i % 3 ? apiA : apiB)<{ artifact_version: { prn: string } }>(
          'POST',
          '/artifact_versions',
          { artifact_prn: artifact.body.artifact.prn, version: '1.0.0' },
        );
        expect(version.status).toBe(201);
        caused.push({ type: 'artifact_version', prn: version.body.artifact_version.prn });
      }
      const expected = [
        caused.filter((c) => c.type === 'artifact').map((c) => c.prn),
        caused.map((c) => c.prn),
      ];
      for (const [i, rx] of [rx1, rx2].entries()) {
        const mine = (r: Received) => created(r, 'artifact') || created(r, 'artifact_version');
        await rx.waitFor(expected[i]!.length, 20_000, mine);
        await new Promise((r) => setTimeout(r, 500)); // anything sent twice would have arrived by now
        const got = rx.received.filter(mine);
        for (const r of got) expect(signatureValid(hooks[i]!.secret, r)).toBe(true);
        const ids = got.map((r) => r.body.prn as string);
        // Once each even before deduplication: one fan-out per event, one instance per webhook's head.
        expect(new Set(ids).size).toBe(ids.length);
        expect(got.map((r) => r.body.data.data.after.prn)).toEqual(expected[i]);
        measurement(SECTION, `fleet: events caused on two instances, webhook ${i + 1}`, {
          caused: expected[i]!.length,
          received: got.length,
          distinct: new Set(ids).size,
          in_order: true,
        });
      }
    } finally {
      await rx1.close();
      await rx2.close();
    }
  }, 60_000);

  it('a delivery whose instance dies mid-attempt is delivered by another', async () => {
    const rx = await startReceiver();
    try {
      const w = await apiA<{ webhook: { prn: string } }>('POST', '/webhooks', {
        url: rx.url,
        enabled_events: ['artifact.created'],
      });
      expect((await apiA('PATCH', `/webhooks/${w.body.webhook.prn}`, { state: 'enabled' })).status).toBe(200);
      await b.stop(); // A alone takes the delivery
      rx.behave({ handle: () => undefined }); // and hangs in it
      const artifact = await apiA<{ artifact: { prn: string } }>('POST', '/artifacts', { name: 'orphaned' });
      const mine = (r: Received) =>
        created(r, 'artifact') && r.body.data.data.after.prn === artifact.body.artifact.prn;
      const [first] = await rx.waitFor(1, 10_000, mine);
      await a.kill('SIGKILL');
      rx.behave({ status: 200 });
      await fleet.start();
      const [, second] = await rx.waitFor(2, ATTEMPT_TIMEOUT_MS + LEASE_MS + 15_000, mine);
      expect(second!.body.prn).toBe(first!.body.prn);
      // Only once A's lease on the webhook ran out (its attempt's timeout plus LEASE_MS after the claim):
      // while A might still have been sending, nobody else did.
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(ATTEMPT_TIMEOUT_MS + LEASE_MS - 500);
      measurement(SECTION, 'fleet: delivering instance SIGKILLed mid-attempt', {
        lease_ms: ATTEMPT_TIMEOUT_MS + LEASE_MS,
        redelivered_after_ms: second!.at - first!.at,
      });
    } finally {
      await rx.close();
    }
  }, 60_000);
});
