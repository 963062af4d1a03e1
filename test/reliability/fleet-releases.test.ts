/**
 * Release management on two registry processes sharing one PostgreSQL database and S3 prefix: the release
 * job's steps split across the instances, and phase claims that stay exact however the update checks of a
 * phased release are spread over them (the claim is a conditional update in the database, not a count any
 * one instance keeps).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectSuccess, step, TARGETS } from '../e2e/release-helpers.js';
import { newKeyPair, writeTestFile } from '../e2e/scene.js';
import type { RegistryProcess } from '../helpers/registry-process.js';
import { describeWithServices } from '../services/services.js';
import { API_KEY, startFleet, type Fleet } from './fleet-harness.js';
import {
  call,
  createArtifactVersion,
  listAll,
  makeKey,
  measurement,
  ok,
  percentiles,
  publishRaw,
  registerKey,
} from './registry-api.js';

describeWithServices('fleet: release management on two instances sharing PostgreSQL', (services) => {
  let fleet: Fleet;
  let a: RegistryProcess;
  let b: RegistryProcess;

  beforeAll(async () => {
    fleet = await startFleet(services);
    a = fleet.first;
    b = await fleet.start();
  });
  afterAll(async () => fleet?.close());

  const api = (instance: RegistryProcess) => ({ 'api-key': API_KEY, 'base-url': instance.baseUrl });

  it('the release job split over both: publish through A, bundle through B, release through A, verify through B', async () => {
    const signing = newKeyPair();
    await ok(a, 'POST', '/signing_keys', { name: 'release job key', value: signing.publicValue });
    for (const target of TARGETS) {
      const file = await writeTestFile(fleet.dir, `${target}.img`, 64 * 1024);
      const publish = await step('publish-binary', {
        ...api(a),
        artifact: 'firmware',
        target,
        file: file.path,
        'signing-key-private': signing.privatePem,
      });
      expectSuccess(publish);
    }
    const bundle = await step('create-bundle', {
      ...api(b),
      artifact: 'firmware',
      'expect-targets': TARGETS.join('\n'),
    });
    expectSuccess(bundle);
    expect(bundle.outputs.created).toBe('true');
    const release = await step('create-release', {
      ...api(a),
      'bundle-prn': bundle.outputs['bundle-prn']!,
      cohort: 'production',
      product: 'gateway',
    });
    expectSuccess(release);
    expect(release.outputs).toMatchObject({ created: 'true', 'phase-value': '1' });
    const verify = await step('verify-update', {
      ...api(b),
      device: 'ci-test-device',
      'create-device': 'true',
      cohort: release.outputs['cohort-prn']!,
      'release-version': '0.9.0',
      'expect-bundle-prn': bundle.outputs['bundle-prn']!,
      'expect-targets': TARGETS.join('\n'),
      'trusted-signing-keys': signing.publicPem,
      write: 'true',
    });
    expectSuccess(verify);
    // Downloaded from S3 and checked against the trusted key: one per target.
    expect(verify.outputs).toEqual({
      status: 'update',
      'source-type': 'release',
      'bundle-prn': bundle.outputs['bundle-prn'],
      verified: String(TARGETS.length),
    });
    // What B recorded, A reads: the device, the state it reported, and its events.
    const devices = await listAll(a, 'devices', "identifier:'ci-test-device'");
    expect(devices).toHaveLength(1);
    expect(devices[0]).toMatchObject({
      reported_release_prn: release.outputs['release-prn'],
      reported_bundle_prn: bundle.outputs['bundle-prn'],
      reported_release_version: '1.0.0',
    });
    const events = await ok(a, 'GET', `/events?limit=100&resource_prn=${devices[0].prn}`);
    const subtypes = events.events.map((e: { event_subtype: string }) => e.event_subtype);
    expect(subtypes).toEqual(expect.arrayContaining(['checked_for_release', 'release_changed']));
    // Re-run through the other instances: the same bundle and release, nothing new.
    const again = await step('create-bundle', {
      ...api(a),
      artifact: 'firmware',
      'expect-targets': TARGETS.join('\n'),
    });
    expectSuccess(again);
    expect(again.outputs).toEqual({ ...bundle.outputs, created: 'false' });
    const releaseAgain = await step('create-release', {
      ...api(b),
      'bundle-prn': bundle.outputs['bundle-prn']!,
      cohort: 'production',
      product: 'gateway',
    });
    expectSuccess(releaseAgain);
    expect(releaseAgain.outputs).toEqual({ ...release.outputs, created: 'false' });
  }, 240_000);

  it('a 25 % phase over 200 devices checking in at once through both instances admits exactly 50, and the same 50 again', async () => {
    const key = makeKey();
    const keyPrn = await registerKey(a, key);
    const bundleOf = async (via: RegistryProcess, name: string) => {
      const { versionPrn } = await createArtifactVersion(via, name);
      const content = Buffer.from(`${name} firmware\n`.repeat(100));
      const binary = await publishRaw(via, { versionPrn, target: 'arm', content, key, keyPrn });
      const { bundle } = await ok(via, 'POST', '/bundles', {
        binaries: [{ prn: binary.prn, custom_metadata: null }],
      });
      return bundle.prn as string;
    };
    const { product } = await ok(a, 'POST', '/products', { name: 'phased-product' });
    const { cohort } = await ok(b, 'POST', '/cohorts', { name: 'phased', product_prn: product.prn });
    const releaseOf = async (via: RegistryProcess, bundlePrn: string, version: string, phase: number) =>
      (
        await ok(via, 'POST', '/releases', {
          bundle_prn: bundlePrn,
          cohort_prn: cohort.prn,
          name: `phased ${version}`,
          version,
          required: false,
          schedule_date: '2025-01-01T00:00:00Z',
          phase_value: phase,
        })
      ).release;
    const base = await releaseOf(a, await bundleOf(a, 'base'), '1.0.0', 1);
    const phased = await releaseOf(b, await bundleOf(b, 'phased'), '2.0.0', 0.25);
    expect(phased.phase_type).toBe('percent');

    const devices: string[] = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const { device } = await ok(i % 2 ? a : b, 'POST', '/devices', {
          identifier: `phased-device-${i}`,
          product_prn: product.prn,
          cohort_prn: cohort.prn,
        });
        return device.prn as string;
      }),
    );

    /** Every device checks at once, device i through A or B (`flip` swaps them); the PRNs told to update. */
    const checkAll = async (flip: boolean) => {
      const replies = await Promise.all(
        devices.map((prn, i) =>
          call((i % 2 === 0) !== flip ? a : b, 'POST', `/devices/${prn}/update`, {
            body: { release_prn: base.prn, release_version: '1.0.0' },
          }),
        ),
      );
      for (const r of replies) expect(r.status, r.text).toBe(200);
      const updates = replies.flatMap((r, i) => (r.json.status === 'update' ? [i] : []));
      for (const i of updates) expect(replies[i]!.json.source_prn).toBe(phased.prn);
      expect(replies.filter((r) => r.json.status === 'no_update')).toHaveLength(200 - updates.length);
      return {
        admitted: updates.map((i) => devices[i]!),
        viaA: updates.filter((i) => (i % 2 === 0) !== flip).length,
        ms: percentiles(replies.map((r) => r.ms)),
      };
    };

    const first = await checkAll(false);
    expect(first.admitted).toHaveLength(50);
    // The same devices through the other instance: the claims are the database's, not an instance's.
    const second = await checkAll(true);
    expect(second.admitted).toEqual(first.admitted);
    const claims: { resource_prn: string }[] = [];
    for (let page = 'subtype=claimed_release&limit=100'; ;) {
      const res = await ok(b, 'GET', `/events?${page}`);
      claims.push(...res.events);
      if (!res.next_page) break;
      page = `page=${encodeURIComponent(res.next_page)}&limit=100`;
    }
    expect(claims).toHaveLength(50);
    expect(new Set(claims.map((e) => e.resource_prn))).toEqual(new Set(first.admitted));
    measurement('fleet', '200 update checks of a 25 % phase over two instances', {
      admitted: first.admitted.length,
      admitted_via_a: first.viaA,
      admitted_via_b: first.admitted.length - first.viaA,
      first_round_ms: first.ms,
      second_round_ms: second.ms,
    });
  }, 180_000);

  it('a release made or disabled through A is in the very next update check through B, which keeps catalog reads between checks', async () => {
    const key = makeKey();
    const keyPrn = await registerKey(a, key);
    const bundleOf = async (name: string) => {
      const { versionPrn } = await createArtifactVersion(a, name);
      const binary = await publishRaw(a, {
        versionPrn,
        target: 'arm',
        content: Buffer.from(`${name} firmware\n`.repeat(50)),
        key,
        keyPrn,
      });
      return (await ok(a, 'POST', '/bundles', { binaries: [{ prn: binary.prn, custom_metadata: null }] }))
        .bundle.prn as string;
    };
    const { product } = await ok(a, 'POST', '/products', { name: 'cached-product' });
    const { cohort } = await ok(a, 'POST', '/cohorts', { name: 'cached', product_prn: product.prn });
    const releaseOf = async (bundlePrn: string, version: string) =>
      (
        await ok(a, 'POST', '/releases', {
          bundle_prn: bundlePrn,
          cohort_prn: cohort.prn,
          name: `cached ${version}`,
          version,
          required: false,
          schedule_date: '2025-01-01T00:00:00Z',
          phase_value: 1,
        })
      ).release;
    const base = await releaseOf(await bundleOf('cached-base'), '1.0.0');
    const { device } = await ok(a, 'POST', '/devices', {
      identifier: 'cached-device',
      product_prn: product.prn,
      cohort_prn: cohort.prn,
    });
    const check = async () => {
      const r = await call(b, 'POST', `/devices/${device.prn}/update`, { body: { release_prn: base.prn } });
      expect(r.status, r.text).toBe(200);
      return r.json as { status: string; source_prn: string | null };
    };
    // B has read the cohort's releases, twice, so they are in its cache.
    expect((await check()).status).toBe('no_update');
    expect((await check()).status).toBe('no_update');
    const next = await releaseOf(await bundleOf('cached-next'), '2.0.0');
    expect(await check()).toMatchObject({ status: 'update', source_prn: next.prn });
    await ok(a, 'PATCH', `/releases/${next.prn}`, { disabled: true });
    expect((await check()).status).toBe('no_update');
  }, 120_000);
});
