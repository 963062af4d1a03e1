/** The audit trail: a release flow done by three scoped keys leaves the events it should, and they stay. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSpec, newKeyPair, signableBinary, type TestRegistry } from '../support.js';
import { describeOnBackends } from './backends.js';
import { allEvents, as, makeKey } from './keys.js';

describeOnBackends('audit trail', (backend) => {
  let t: TestRegistry;
  afterAll(() => t?.close());

  const PROVENANCE = {
    repository: 'acme/firmware',
    commit: '0123456789abcdef0123456789abcdef01234567',
    workflow_run_url: 'https://github.com/acme/firmware/actions/runs/42',
  };

  let flowStart: string;
  let ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await backend.start();
    const publisher = await makeKey(t, 'publisher');
    const signer = await makeKey(t, 'signer');
    const releaser = await makeKey(t, 'releaser');
    const pair = newKeyPair();
    const key = (await t.api('POST', '/signing_keys', { name: 'release-key', value: pair.value })).body
      .signing_key;
    const product = (await t.api('POST', '/products', { name: 'gadget' })).body.product;
    const cohort = (await t.api('POST', '/cohorts', { name: 'stable', product_prn: product.prn })).body
      .cohort;
    flowStart = new Date().toISOString();

    const pub = as(t, publisher.key);
    const binary = await signableBinary(pub, Buffer.from('firmware for the audit trail\n'));
    expect((await pub.api('PATCH', `/binaries/${binary.prn}`, { custom_metadata: PROVENANCE })).status).toBe(
      200,
    );
    const sig = as(t, signer.key);
    const signature = await sig.api('POST', '/binary_signatures', {
      binary_prn: binary.prn,
      signing_key_prn: key.prn,
      signature: pair.sign(binary.hash),
    });
    expect(signature.status).toBe(201);
    const signed = await sig.api('PATCH', `/binaries/${binary.prn}`, { state: 'signed' });
    expect(signed.status, JSON.stringify(signed.body)).toBe(200);
    ids = {
      publisher: publisher.prn,
      signer: signer.prn,
      releaser: releaser.prn,
      binary: binary.prn,
      binaryHash: binary.hash,
      signature: signature.body.binary_signature.prn,
      keyid: key.keyid,
      signingKey: key.prn,
    };
    const rel = as(t, releaser.key);
    const bundle = await rel.api('POST', '/bundles', {
      binaries: [{ prn: binary.prn, custom_metadata: null }],
    });
    expect(bundle.status, JSON.stringify(bundle.body)).toBe(201);
    const release = await rel.api('POST', '/releases', {
      bundle_prn: bundle.body.bundle.prn,
      cohort_prn: cohort.prn,
      name: 'r1',
      required: false,
      schedule_date: '2026-01-01T00:00:00Z',
      phase_value: 0.1,
    });
    expect(release.status, JSON.stringify(release.body)).toBe(201);
    const promoted = await rel.api('PATCH', `/releases/${release.body.release.prn}`, { phase_value: 1 });
    expect(promoted.status, JSON.stringify(promoted.body)).toBe(200);
    ids.release = release.body.release.prn;
  }, 60_000);

  const summary = (events: any[]) =>
    events.map((e) => `${e.type}.${e.event_subtype} by ${e.data.data.actor?.name ?? 'presigned URL'}`);

  const BINARY_FLOW = [
    'artifact.created by publisher-key',
    'artifact_version.created by publisher-key',
    'binary.created by publisher-key',
    'binary_part.created by publisher-key',
    'binary_part.uploaded by presigned URL',
    'binary.state_changed by publisher-key',
    'binary.state_changed by publisher-key',
    'binary.updated by publisher-key',
    'binary_signature.created by signer-key',
    // The first signature moved the binary to signed; the explicit PATCH then changed nothing.
    'binary.state_changed by signer-key',
    'binary.updated by signer-key',
  ];
  const RELEASE_FLOW = [
    'bundle.created by releaser-key',
    'release.created by releaser-key',
    'release.updated by releaser-key',
  ];
  const EXPECTED = [...BINARY_FLOW, ...RELEASE_FLOW];

  it('a release flow leaves the expected sequence of events with their actors', async () => {
    const events = await allEvents(t, { inserted_at_gte: flowStart });
    expect(summary(events)).toEqual(EXPECTED);
    const changes = events.filter((e) => e.event_subtype === 'state_changed').map((e) => e.data.data);
    expect(changes.map((d) => `${d.from_state}→${d.to_state}`)).toEqual([
      'uploadable→hashable',
      'hashable→hashing',
      'signable→signed',
    ]);
    for (const e of events) {
      if (e.data.data.actor) expect(e.actor_prn).toBe(e.data.data.actor.api_key_prn);
      expect(e.data.data.remote_address).toMatch(/127\.0\.0\.1/);
    }
    const signature = events.find((e) => e.type === 'binary_signature');
    expect(signature.resource_prn).toBe(ids.signature);
    expect(signature.actor_prn).toBe(ids.signer);
    expect(signature.data.data.signature).toEqual({
      signing_key_prn: ids.signingKey,
      keyid: ids.keyid,
      hash: ids.binaryHash,
      provenance: { ...PROVENANCE, ref: null },
    });
    const promoted = events.find((e) => e.type === 'release' && e.event_subtype === 'updated');
    expect(promoted.data.data.before.phase_value).toBe(0.1);
    expect(promoted.data.data.after.phase_value).toBe(1);
    // A presigned URL's signature is a capability: it never reaches an event.
    const part = events.find((e) => e.event_subtype === 'created' && e.type === 'binary_part');
    expect(part.data.data.after.presigned_upload_url).toMatch(/\/_presigned\/parts\/[^?]+$/);
    expect(JSON.stringify(events)).not.toMatch(/sig=[0-9a-f]{16}/);
  });

  it('filters by actor, type and subtype', async () => {
    const bySigner = await allEvents(t, { actor_prn: ids.signer! });
    expect(summary(bySigner)).toEqual([
      'binary_signature.created by signer-key',
      'binary.state_changed by signer-key',
      'binary.updated by signer-key',
    ]);
    const changes = await allEvents(t, { type: 'binary', subtype: 'state_changed' });
    expect(changes).toHaveLength(3);
    // Extension events validate against the spec plus the documented deviation (test/contract/deviations.json, audit-extension-events).
    expectSpec('/events', 'get', 200, (await t.api('GET', '/events?limit=100')).body);
    const bad = await t.api('GET', '/events?type=nonsense');
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.body.errors)).toEqual(['type']);
  });

  it('has no route that deletes events, and the events survive a restart', async () => {
    expect(t.registry.routes.filter((r) => r.pattern.startsWith('/events') && r.method !== 'GET')).toEqual(
      [],
    );
    const before = await allEvents(t);
    const closed = t;
    await t.close({ keepData: true });
    t = await backend.start({ restartOf: closed });
    expect(await allEvents(t)).toEqual(before);
    expect(summary(await allEvents(t, { inserted_at_gte: flowStart }))).toEqual(EXPECTED);
  });

  describe('an event that cannot be written', () => {
    const REFUSE = {
      SQLite: `CREATE TRIGGER refuse_events BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'events refused by the test'); END;`,
      PostgreSQL: `CREATE FUNCTION refuse_events() RETURNS trigger LANGUAGE plpgsql AS $$
                   BEGIN RAISE EXCEPTION 'events refused by the test'; END $$;
                 CREATE TRIGGER refuse_events BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_events();`,
    };
    const ACCEPT = {
      SQLite: 'DROP TRIGGER refuse_events;',
      PostgreSQL: 'DROP TRIGGER refuse_events ON events;',
    };

    it('is never answered with a 2xx: the change stays, and the 500 says so', async () => {
      const r = await backend.start();
      try {
        await backend.exec(r, REFUSE[backend.name]);
        const res = await r.api('POST', '/artifacts', { name: 'unaudited' });
        expect(res.status).toBe(500);
        expect(res.body.errors.detail).toMatch(
          /^The change was made, but its audit event artifact.created could not be recorded: .*events refused by the test/,
        );
        const listed = await r.api('GET', `/artifacts?search=${encodeURIComponent("name:'unaudited'")}`);
        expect(listed.body.artifacts).toHaveLength(1);
        expect(JSON.stringify(r.logger.lines)).toMatch(/audit event artifact.created not recorded/);
        await backend.exec(r, ACCEPT[backend.name]);
        const next = await r.api('POST', '/artifacts', { name: 'audited' });
        expect(next.status).toBe(201);
        const events = await allEvents(r, { resource_prn: next.body.artifact.prn });
        expect(events.map((e) => `${e.type}.${e.event_subtype}`)).toEqual(['artifact.created']);
      } finally {
        await r.close();
      }
    });
  });
});
