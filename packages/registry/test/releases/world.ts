/** A registry with a signing key, a product, a cohort and signed binaries, for release-management API tests. */
import { expect } from 'vitest';
import { expectSpec, newKeyPair, signableBinary, startTestRegistry, type TestRegistry } from '../support.js';

export interface World {
  t: TestRegistry;
  key: { prn: string; keyid: string; pair: ReturnType<typeof newKeyPair> };
  product: string;
  cohort: string;
  /** A signed binary of fresh content; returns it with its content. */
  signedBinary(
    target?: string,
    metadata?: Record<string, unknown>,
  ): Promise<{ prn: string; hash: string; content: Buffer }>;
  device(over?: Record<string, unknown>): Promise<{ prn: string }>;
  bundle(binaries: string[], extra?: Record<string, unknown>): Promise<{ prn: string; hash: string }>;
  release(bundle: string, extra?: Record<string, unknown>): Promise<{ prn: string; [k: string]: unknown }>;
  check(device: string, body?: Record<string, unknown>): Promise<any>;
}

let counter = 0;

export async function startWorld(options: Parameters<typeof startTestRegistry>[0] = {}): Promise<World> {
  const t = await startTestRegistry(options);
  const pair = newKeyPair();
  const k = await t.api('POST', '/signing_keys', { name: `key-${++counter}`, value: pair.value });
  const product = await t.api('POST', '/products', { name: `product-${counter}` });
  expect(product.status).toBe(201);
  const cohort = await t.api('POST', '/cohorts', { name: 'stable', product_prn: product.body.product.prn });
  expect(cohort.status).toBe(201);
  const w: World = {
    t,
    key: { prn: k.body.signing_key.prn, keyid: k.body.signing_key.keyid, pair },
    product: product.body.product.prn,
    cohort: cohort.body.cohort.prn,
    async signedBinary(target = `target-${++counter}`, metadata) {
      const content = Buffer.from(`firmware ${target} ${++counter} ${'x'.repeat(counter % 97)}\n`);
      const b = await signableBinary(t, content, target);
      if (metadata) await t.api('PATCH', `/binaries/${b.prn}`, { custom_metadata: metadata });
      const sig = await t.api('POST', '/binary_signatures', {
        binary_prn: b.prn,
        signing_key_prn: w.key.prn,
        signature: pair.sign(b.hash),
      });
      expect(sig.status).toBe(201);
      return { prn: b.prn, hash: b.hash, content };
    },
    async device(over = {}) {
      const res = await t.api('POST', '/devices', {
        identifier: `device-${++counter}`,
        product_prn: w.product,
        cohort_prn: w.cohort,
        ...over,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.device;
    },
    async bundle(binaries, extra = {}) {
      const res = await t.api('POST', '/bundles', {
        binaries: binaries.map((prn) => ({ prn, custom_metadata: null })),
        ...extra,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expectSpec('/bundles', 'post', 201, res.body);
      return res.body.bundle;
    },
    async release(bundle, extra = {}) {
      const res = await t.api('POST', '/releases', {
        bundle_prn: bundle,
        cohort_prn: w.cohort,
        name: `release-${++counter}`,
        required: false,
        schedule_date: '2026-01-01T00:00:00Z',
        phase_value: 1,
        ...extra,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expectSpec('/releases', 'post', 201, res.body);
      return res.body.release;
    },
    async check(device, body = {}) {
      const res = await t.api('POST', `/devices/${device}/update`, body);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expectSpec('/devices/{device_prn}/update', 'post', 200, res.body);
      return res.body;
    },
  };
  return w;
}
