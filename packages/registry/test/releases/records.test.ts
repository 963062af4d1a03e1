import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSpec, sha256 } from '../support.js';
import { startWorld, type World } from './world.js';

const OTHER_ORG = '99999999-9999-4999-8999-999999999999';
const otherOrg = (prn: string) => prn.replace(/^prn:1:[^:]+:/, `prn:1:${OTHER_ORG}:`);

describe('products, cohorts and devices', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
  });
  afterAll(() => w.t.close());

  it('products: get, list with search, patch, unique names; single objects as {"product": …}', async () => {
    const got = await w.t.api('GET', `/products/${w.product}`);
    expect(got.body.product.prn).toBe(w.product);
    expect(got.body.product.archived).toBe(false);
    const list = await w.t.api('GET', `/products?search=${encodeURIComponent(`prn:'${w.product}'`)}`);
    expectSpec('/products', 'get', 200, list.body);
    expect(list.body.products).toHaveLength(1);
    const patched = await w.t.api('PATCH', `/products/${w.product}`, { prn: w.product, archived: true });
    expect(patched.body.product.archived).toBe(true);
    const archived = await w.t.api('GET', `/products?search=${encodeURIComponent('archived:true')}`);
    expect(archived.body.products.map((p: { prn: string }) => p.prn)).toEqual([w.product]);
    expect(
      (await w.t.api('GET', `/products?search=${encodeURIComponent('archived:false')}`)).body.products,
    ).toEqual([]);
    const dup = await w.t.api('POST', '/products', { name: got.body.product.name });
    expect(dup.status).toBe(422);
    expect(dup.body.errors.name[0]).toMatch(/already been taken/);
    expect((await w.t.api('DELETE', `/products/${w.product}`)).status).toBe(405);
  });

  it('every route needs the API key', async () => {
    for (const path of [
      '/products',
      '/cohorts',
      '/devices',
      '/bundles',
      '/releases',
      '/bundle_overrides',
      '/bundle_signatures',
      '/events',
    ]) {
      const res = await fetch(w.t.baseUrl + path);
      expect(res.status, path).toBe(401);
    }
  });

  it("another organization's PRN is 404, in a path or a body", async () => {
    expect((await w.t.api('GET', `/cohorts/${otherOrg(w.cohort)}`)).status).toBe(404);
    const res = await w.t.api('POST', '/cohorts', { name: 'x', product_prn: otherOrg(w.product) });
    expect(res.status).toBe(404);
    expect(res.body.errors.detail).toMatch(/product_prn/);
  });

  it('cohorts: create, patch description, search by product_prn; refusals name the field', async () => {
    const c = await w.t.api('POST', '/cohorts', {
      name: 'beta',
      product_prn: w.product,
      description: 'early',
    });
    expect(c.status).toBe(201);
    expectSpec('/cohorts', 'post', 201, c.body);
    const p = await w.t.api('PATCH', `/cohorts/${c.body.cohort.prn}`, { description: null });
    expectSpec('/cohorts/{cohort_prn}', 'patch', 200, p.body);
    expect(p.body.cohort.description).toBeNull();
    const list = await w.t.api(
      'GET',
      `/cohorts?search=${encodeURIComponent(`product_prn:'${w.product}' and name:'beta'`)}`,
    );
    expect(list.body.cohorts.map((x: { prn: string }) => x.prn)).toEqual([c.body.cohort.prn]);
    const bad = await w.t.api('POST', '/cohorts', { product_prn: w.product });
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.body.errors)).toEqual(['name']);
    const badPrn = await w.t.api('POST', '/cohorts', { name: 'x', product_prn: w.cohort });
    expect(badPrn.body.errors.product_prn[0]).toMatch(/must be a product PRN/);
  });

  it('devices: unique identifier, patch cohort/tags/quarantine, search by cohort_prn', async () => {
    const d = await w.device({ tags: ['qa'], target: 'aarch64-linux-gnu' });
    const dup = await w.t.api('POST', '/devices', {
      identifier: (await w.t.api('GET', `/devices/${d.prn}`)).body.device.identifier,
      product_prn: w.product,
    });
    expect(dup.status).toBe(422);
    expect(dup.body.errors.identifier).toBeDefined();
    const p = await w.t.api('PATCH', `/devices/${d.prn}`, {
      tags: ['qa', 'beta'],
      quarantined: true,
      cohort_prn: null,
    });
    expectSpec('/devices/{device_prn}', 'patch', 200, p.body);
    expect(p.body.device).toMatchObject({ tags: ['qa', 'beta'], quarantined: true, cohort_prn: null });
    const list = await w.t.api(
      'GET',
      `/devices?search=${encodeURIComponent(`cohort_prn:'${w.cohort}'`)}&limit=100`,
    );
    expectSpec('/devices', 'get', 200, list.body);
    expect(list.body.devices.map((x: { prn: string }) => x.prn)).not.toContain(d.prn);
    const bad = await w.t.api('PATCH', `/devices/${d.prn}`, { tags: 'qa' });
    expect(bad.body.errors.tags[0]).toMatch(/array/);
  });
});

describe('bundles and bundle signatures', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
  });
  afterAll(() => w.t.close());

  it('keeps the binaries in order with resolved metadata and the documented hash', async () => {
    const a = await w.signedBinary('a', { from: 'binary' });
    const b = await w.signedBinary('b');
    const res = await w.t.api('POST', '/bundles', {
      binaries: [{ prn: b.prn, custom_metadata: { given: true } }, { prn: a.prn }],
      name: 'two',
    });
    expect(res.status).toBe(201);
    expect(res.body.bundle.binaries).toEqual([
      { prn: b.prn, custom_metadata: { given: true } },
      { prn: a.prn, custom_metadata: { from: 'binary' } },
    ]);
    const lines = `${b.hash}:${sha256('{"given":true}')}\n${a.hash}:${sha256('{"from":"binary"}')}`;
    expect(res.body.bundle.hash).toBe(sha256(lines));
    const got = await w.t.api('GET', `/bundles/${res.body.bundle.prn}`);
    expectSpec('/bundles/{bundle_prn}', 'get', 200, got.body);
    expect(got.body).toEqual(res.body);
  });

  it('refuses unsigned binaries, unknown ones and an empty list, and creates nothing', async () => {
    const before = (await w.t.api('GET', '/bundles?limit=100')).body.bundles.length;
    const signable = await (
      await import('../support.js')
    ).signableBinary(w.t, Buffer.from('unsigned content'), 'u');
    const res = await w.t.api('POST', '/bundles', { binaries: [{ prn: signable.prn }] });
    expect(res.status).toBe(422);
    expect(res.body.errors['binaries[0].prn'][0]).toMatch(/is signable; only signed binaries/);
    expect((await w.t.api('POST', '/bundles', { binaries: [] })).body.errors.binaries[0]).toMatch(
      /signed binaries/,
    );
    expect((await w.t.api('POST', '/bundles', { binaries: [{ prn: otherOrg(signable.prn) }] })).status).toBe(
      404,
    );
    expect((await w.t.api('GET', '/bundles?limit=100')).body.bundles.length).toBe(before);
  });

  it('a repeated id with the same content returns the existing bundle; other content is a 409', async () => {
    const a = await w.signedBinary();
    const b = await w.signedBinary();
    const id = '6f1b6a52-6b0f-4e43-9a77-0b7d36a1d0a1';
    const first = await w.t.api('POST', '/bundles', { id, binaries: [{ prn: a.prn }] });
    expect(first.status).toBe(201);
    const again = await w.t.api('POST', '/bundles', {
      id,
      binaries: [{ prn: a.prn, custom_metadata: null }],
    });
    expect(again.status).toBe(200);
    expect(again.body.bundle).toEqual(first.body.bundle);
    const other = await w.t.api('POST', '/bundles', { id, binaries: [{ prn: b.prn }] });
    expect(other.status).toBe(409);
    expect(other.body.errors.id[0]).toMatch(/other content/);
  });

  it('PATCH changes the name only; a bundle in use cannot be deleted', async () => {
    const bundle = await w.bundle([(await w.signedBinary()).prn]);
    const renamed = await w.t.api('PATCH', `/bundles/${bundle.prn}`, { name: 'renamed' });
    expectSpec('/bundles/{bundle_prn}', 'patch', 200, renamed.body);
    expect(renamed.body.bundle.name).toBe('renamed');
    const refused = await w.t.api('PATCH', `/bundles/${bundle.prn}`, { binaries: [] });
    expect(refused.status).toBe(422);
    expect(refused.body.errors.binaries[0]).toMatch(/immutable/);
    const release = await w.release(bundle.prn);
    const del = await w.t.api('DELETE', `/bundles/${bundle.prn}`);
    expect(del.status).toBe(409);
    expect(del.body.errors.bundle[0]).toContain(release.prn);
    expect((await w.t.api('GET', `/bundles/${bundle.prn}`)).status).toBe(200);
    const unused = await w.bundle([(await w.signedBinary()).prn]);
    expect((await w.t.api('DELETE', `/bundles/${unused.prn}`)).status).toBe(204);
  });

  it('bundle signatures verify over the ASCII of bundle.hash; a binary-style or wrong signature is refused', async () => {
    const bundle = await w.bundle([(await w.signedBinary()).prn]);
    const bad = await w.t.api('POST', '/bundle_signatures', {
      bundle_prn: bundle.prn,
      signing_key_prn: w.key.prn,
      signature: w.key.pair.sign('0'.repeat(64)),
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.signature[0]).toMatch(/sign the hash of the bundle/);
    const res = await w.t.api('POST', '/bundle_signatures', {
      bundle_prn: bundle.prn,
      signing_key_keyid: w.key.keyid,
      signature: w.key.pair.sign(bundle.hash),
    });
    expect(res.status).toBe(201);
    expectSpec('/bundle_signatures', 'post', 201, res.body);
    const ofBundle = await w.t.api('GET', `/bundles/${bundle.prn}/signatures`);
    expectSpec('/bundles/{bundle_prn}/signatures', 'get', 200, ofBundle.body);
    expect(ofBundle.body.bundle_signatures).toEqual([
      { signature: res.body.bundle_signature.signature, signing_key_prn: w.key.prn, keyid: w.key.keyid },
    ]);
    const list = await w.t.api(
      'GET',
      `/bundle_signatures?search=${encodeURIComponent(`bundle_prn:'${bundle.prn}'`)}`,
    );
    expectSpec('/bundle_signatures', 'get', 200, list.body);
    expect(list.body.bundle_signatures).toHaveLength(1);
    expect((await w.t.api('DELETE', `/bundle_signatures/${res.body.bundle_signature.prn}`)).status).toBe(204);
    expect((await w.t.api('GET', `/bundles/${bundle.prn}/signatures`)).body.bundle_signatures).toEqual([]);
  });
});
