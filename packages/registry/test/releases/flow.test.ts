import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSpec, sha256 } from '../support.js';
import { startWorld, type World } from './world.js';

/** openssl verifies an Ed25519 signature (hex) over `message` with a PEM public key. */
function opensslVerifies(publicPem: string, message: string, signatureHex: string): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'ossl-'));
  try {
    writeFileSync(join(dir, 'pub.pem'), publicPem);
    writeFileSync(join(dir, 'msg'), message);
    writeFileSync(join(dir, 'sig'), Buffer.from(signatureHex, 'hex'));
    execFileSync(
      'openssl',
      [
        'pkeyutl',
        '-verify',
        '-pubin',
        '-inkey',
        join(dir, 'pub.pem'),
        '-rawin',
        '-in',
        join(dir, 'msg'),
        '-sigfile',
        join(dir, 'sig'),
      ],
      { stdio: 'pipe' },
    );
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('release management walk: product → cohort → device → bundle → release → update check', () => {
  let w: World;
  let binaries: Awaited<ReturnType<World['signedBinary']>>[];
  let bundle: { prn: string; hash: string };
  let first: { prn: string };
  let device: { prn: string };
  let second: { prn: string };
  let secondBinary: { prn: string };

  beforeAll(async () => {
    w = await startWorld();
    binaries = [
      await w.signedBinary('aarch64-linux-gnu', { peridiod: { installer: 'file' } }),
      await w.signedBinary('x86_64-linux-gnu'),
    ];
    bundle = await w.bundle(
      binaries.map((b) => b.prn),
      { name: 'fw@v1.0.0' },
    );
    first = await w.release(bundle.prn, { version: '1.0.0', version_requirement: '< 1.0.0' });
    device = await w.device();
  });
  afterAll(() => w.t.close());

  it('answers update with a manifest of both binaries, in bundle order, with the spec keys', async () => {
    const res = await w.check(device.prn, { release_version: '0.9.0' });
    expect(res).toMatchObject({
      status: 'update',
      source_type: 'release',
      source_prn: first.prn,
      bundle_prn: bundle.prn,
    });
    expect(res.manifest.map((m: { binary_prn: string }) => m.binary_prn)).toEqual(binaries.map((b) => b.prn));
    const item = res.manifest[0];
    for (const key of [
      'artifact_prn',
      'artifact_version',
      'binary_prn',
      'custom_metadata',
      'hash',
      'signatures',
      'size',
      'target',
      'url',
    ])
      expect(item, key).toHaveProperty(key);
    expect(item.custom_metadata).toEqual({ peridiod: { installer: 'file' } });
    expect(res.manifest[1].custom_metadata).toEqual({});
    expect(item.target).toBe('aarch64-linux-gnu');
  });

  it('serves the exact bytes at each manifest URL, Range included, and the signatures verify with openssl', async () => {
    const res = await w.check(device.prn, { release_version: '0.9.0' });
    for (const [i, item] of res.manifest.entries()) {
      const bytes = Buffer.from(await (await fetch(item.url)).arrayBuffer());
      expect(bytes.equals(binaries[i]!.content)).toBe(true);
      expect(sha256(bytes)).toBe(item.hash);
      expect(item.size).toBe(bytes.length);
      const ranged = await fetch(item.url, { headers: { range: 'bytes=2-5' } });
      expect(ranged.status).toBe(206);
      expect(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(2, 6))).toBe(true);
      expect(item.url).toMatch(/expires=\d+&sig=/);
      expect(item.signatures).toHaveLength(1);
      const sig = item.signatures[0];
      expect(sig.signing_key_prn).toBe(w.key.prn);
      expect(opensslVerifies(sig.public_value, sha256(bytes), sig.signature)).toBe(true);
      expect(opensslVerifies(sig.public_value, sha256(Buffer.from('other')), sig.signature)).toBe(false);
    }
  });

  it('write: true records the reported triple; the next check answers no_update', async () => {
    await w.check(device.prn, { release_prn: first.prn, release_version: '1.0.0', write: true });
    const got = await w.t.api('GET', `/devices/${device.prn}`);
    expectSpec('/devices/{device_prn}', 'get', 200, got.body);
    expect(got.body.device).toMatchObject({
      reported_release_prn: first.prn,
      reported_bundle_prn: bundle.prn,
      reported_release_version: '1.0.0',
    });
    expect(got.body.device.last_connected_at).toEqual(expect.any(String));
    expect((await w.check(device.prn, { release_prn: first.prn, release_version: '1.0.0' })).status).toBe(
      'no_update',
    );
    expect((await w.check(device.prn, {})).status).toBe('no_update'); // no body: the recorded state
  });

  it('records checked_for_release and release_changed events with the spec payloads, filterable', async () => {
    const all = await w.t.api('GET', `/events?resource_prn=${encodeURIComponent(device.prn)}&limit=100`);
    expect(all.status).toBe(200);
    expectSpec('/events', 'get', 200, all.body);
    const subtypes = new Set(all.body.events.map((e: { event_subtype: string }) => e.event_subtype));
    expect(subtypes).toContain('checked_for_release');
    expect(subtypes).toContain('release_changed');
    const changed = await w.t.api(
      'GET',
      `/events?subtype=release_changed&resource_prn=${encodeURIComponent(device.prn)}`,
    );
    expect(changed.body.events).toHaveLength(1);
    expect(changed.body.events[0]).toMatchObject({
      type: 'device',
      version: 1,
      data: {
        type: 'release_changed',
        data: {
          device: { prn: device.prn, cohort: { cohort_prn: w.cohort, cohort_name: 'stable' } },
          from_release: null,
          to_release: { prn: first.prn, version: '1.0.0', known: true },
          from_bundle: null,
          to_bundle: { prn: bundle.prn, known: true },
        },
      },
    });
    const checked = await w.t.api(
      'GET',
      `/events?subtype=checked_for_release&resource_prn=${encodeURIComponent(device.prn)}&limit=1`,
    );
    expect(checked.body.events[0].data.data).toMatchObject({
      release: { prn: first.prn, version: '1.0.0' },
      bundle: { prn: bundle.prn, name: 'fw@v1.0.0' },
    });
    const future = await w.t.api('GET', '/events?inserted_at_gte=2099-01-01T00:00:00Z');
    expect(future.body.events).toEqual([]);
    const bad = await w.t.api('GET', '/events?subtype=nope');
    expect(bad.status).toBe(422);
    expect(bad.body.errors.subtype[0]).toMatch(/must be one of/);
  });

  it('a second release reaches the device through its release PRN; an override wins over it', async () => {
    const b2 = await w.signedBinary('aarch64-linux-gnu');
    secondBinary = b2;
    const bundle2 = await w.bundle([b2.prn]);
    second = await w.release(bundle2.prn, { version: '2.0.0', version_requirement: '< 2.0.0' });
    const res = await w.check(device.prn, { release_prn: first.prn, release_version: '1.0.0' });
    expect(res).toMatchObject({ status: 'update', source_prn: second.prn, bundle_prn: bundle2.prn });

    const o = await w.t.api('POST', '/bundle_overrides', {
      bundle_prn: bundle.prn,
      name: 'pin v1',
      starts_at: '2026-01-01T00:00:00Z',
    });
    expect(o.status).toBe(201);
    expectSpec('/bundle_overrides', 'post', 201, o.body);
    const add = await w.t.api('POST', `/bundle_overrides/${o.body.bundle_override.prn}/devices`, {
      device_prn: device.prn,
    });
    expect(add.status).toBe(201);
    expectSpec('/bundle_overrides/{bundle_override_prn}/devices', 'post', 201, add.body);
    const overridden = await w.check(device.prn, {
      release_prn: first.prn,
      bundle_prn: bundle2.prn,
      release_version: '1.0.0',
    });
    expect(overridden).toMatchObject({
      status: 'update',
      source_type: 'bundle_override',
      source_prn: o.body.bundle_override.prn,
      bundle_prn: bundle.prn,
    });
    // Already on the override's bundle: nothing to do, even though a newer release exists.
    expect((await w.check(device.prn, { bundle_prn: bundle.prn })).status).toBe('no_update');
    const listed = await w.t.api('GET', `/bundle_overrides/${o.body.bundle_override.prn}/devices`);
    expectSpec('/bundle_overrides/{bundle_override_prn}/devices', 'get', 200, listed.body);
    expect(listed.body.devices.map((x: { device_prn: string }) => x.device_prn)).toEqual([device.prn]);
    expect(
      (await w.t.api('DELETE', `/bundle_overrides/${o.body.bundle_override.prn}/devices/${device.prn}`))
        .status,
    ).toBe(204);
    expect((await w.check(device.prn, { release_prn: first.prn, release_version: '1.0.0' })).source_prn).toBe(
      second.prn,
    );
  });

  it('a quarantined device gets device_quarantine; a device in no cohort no_update', async () => {
    const q = await w.device({ quarantined: true });
    expect((await w.check(q.prn, { release_version: '0.1.0' })).status).toBe('device_quarantine');
    const loose = await w.device({ cohort_prn: null });
    expect((await w.check(loose.prn, { release_version: '0.1.0' })).status).toBe('no_update');
  });

  it('destroying a binary of a released bundle warns which releases, in the log and the response, and they then resolve to no_update', async () => {
    const d2 = await w.device();
    expect((await w.check(d2.prn, { release_version: '0.9.0' })).source_prn).toBe(second.prn);
    const destroyed = await w.t.api('DELETE', `/binaries/${secondBinary.prn}`);
    expect(destroyed.status).toBe(204);
    expect(destroyed.headers.get('x-peridio-affected-releases')).toBe(second.prn);
    expect(destroyed.headers.get('warning')).toMatch(/^299 peridio-registry ".*no_update"$/);
    expect(destroyed.headers.get('warning')).toContain(second.prn);
    expect(destroyed.headers.get('warning')).not.toContain(first.prn);
    const warning = w.t.logger.lines.find(
      (l) => l.level === 'warning' && l.message.includes(secondBinary.prn),
    );
    expect(warning?.message).toContain(second.prn);
    expect(warning?.message).not.toContain(first.prn);
    expect(warning?.message).toMatch(/no_update/);
    expect((await w.check(d2.prn, { release_version: '0.9.0' })).status).toBe('no_update');
  });

  it('destroying a binary by PATCH state=destroyed answers the same headers; one no release uses has none', async () => {
    const used = await w.signedBinary();
    const unused = await w.signedBinary();
    const bundle = await w.bundle([used.prn]);
    const rel = await w.release(bundle.prn);
    const patched = await w.t.api('PATCH', `/binaries/${used.prn}`, { state: 'destroyed' });
    expect(patched.status).toBe(200);
    expect(patched.body.binary.state).toBe('destroyed');
    expect(patched.headers.get('x-peridio-affected-releases')).toBe(rel.prn);
    expect(patched.headers.get('warning')).toContain(rel.prn);
    const plain = await w.t.api('PATCH', `/binaries/${unused.prn}`, { state: 'destroyed' });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('x-peridio-affected-releases')).toBeNull();
    expect(plain.headers.get('warning')).toBeNull();
  });
});

describe('tag phasing, required releases and disabled releases over the API', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
  });
  afterAll(() => w.t.close());

  it('a tag-phased latest release reaches only devices with one of its tags; the rest get the one before', async () => {
    const bundle = (await w.bundle([(await w.signedBinary()).prn])).prn;
    const base = await w.release(bundle);
    const middle = await w.release(bundle);
    const beta = await w.release(bundle, { phase_mode: 'tags', phase_tags: ['beta', 'qa'] });
    expect(beta).toMatchObject({ phase_mode: 'tags', phase_tags: ['beta', 'qa'] });
    const tagged = await w.device({ tags: ['qa'] });
    const plain = await w.device({ tags: ['other'] });
    expect((await w.check(tagged.prn, { release_prn: base.prn })).source_prn).toBe(beta.prn);
    expect((await w.check(plain.prn, { release_prn: base.prn })).source_prn).toBe(middle.prn);

    // A required release stops the walk; a disabled one is stepped over.
    expect((await w.t.api('PATCH', `/releases/${middle.prn}`, { required: true })).status).toBe(200);
    expect((await w.check(tagged.prn, { release_prn: base.prn })).source_prn).toBe(middle.prn);
    expect(
      (await w.t.api('PATCH', `/releases/${middle.prn}`, { required: false, disabled: true })).status,
    ).toBe(200);
    expect((await w.check(plain.prn, { release_prn: base.prn })).status).toBe('no_update');
    expect((await w.check(tagged.prn, { release_prn: base.prn })).source_prn).toBe(beta.prn);
  });
});
