import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyDeviations, deviations, expectRequest, expectResponse, loadContract } from './load.js';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/peridio-docs/${name}`, import.meta.url), 'utf8'));

describe('the API contract', () => {
  it('covers the registry resources and the release-management ones', () => {
    const paths = Object.keys(loadContract().operations as object);
    for (const p of [
      '/artifacts',
      '/binaries/{binary_prn}/parts/{index}',
      '/signing_keys',
      '/products',
      '/cohorts',
    ]) {
      expect(paths).toContain(p);
    }
    for (const p of [
      '/devices/{device_prn}/update',
      '/bundles',
      '/bundle_signatures',
      '/releases',
      '/bundle_overrides',
    ]) {
      expect(paths).toContain(p);
    }
    expect(paths).toContain('/events');
    expect(paths).toContain('/webhooks');
  });

  it('carries no prose from the spec', () => {
    const text = readFileSync(new URL('./peridio-admin-contract.json', import.meta.url), 'utf8');
    expect(text).not.toMatch(/"(example|examples|summary|title)":/);
    // `description` survives only as a field name inside `properties`, whose value is a schema object.
    expect(text).not.toMatch(/"description": "/);
  });

  it('every deviation names a place that exists in the contract', () => {
    const missing = {
      id: 'x',
      why: 'test',
      patch: [{ op: 'remove' as const, path: '/components/schemas/no-such' }],
    };
    expect(() => applyDeviations(loadContract(), [missing])).toThrow(/no-such is not in the contract/);
    expect(deviations.length).toBeGreaterThanOrEqual(4);
  });

  it('accepts the real responses of Peridio’s getting-started guide', () => {
    expectResponse('/artifacts', 'post', 201, fixture('artifact-create-201.json'));
    expectResponse('/artifact_versions', 'post', 201, fixture('artifact-version-create-201.json'));
    expectResponse('/signing_keys', 'post', 201, fixture('signing-key-create-201.json'));
    expectResponse('/binaries/{binary_prn}', 'get', 200, fixture('binary-signed-200.json'));
  });

  it('applies the deviations: next_page null, the SDK’s explicit nulls, a small last part', () => {
    expectResponse('/artifacts', 'get', 200, { artifacts: [], next_page: null });
    expectRequest('/artifacts', 'post', { name: 'fw', description: null, custom_metadata: null });
    expect(() => expectRequest('/artifacts', 'post', { name: 'fw', description: 7 })).toThrow(
      /does not match/,
    );
    expect(() => expectResponse('/artifacts', 'get', 200, { artifacts: [], next_page: 3 })).toThrow(
      /does not match/,
    );
    const contract = loadContract() as { components: { parameters: Record<string, { schema: unknown }> } };
    expect(contract.components.parameters['x-api-version']?.schema).toEqual({ type: 'string', enum: ['2'] });
  });
});
