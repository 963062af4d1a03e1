/**
 * Property test over the JSON validators: random nesting, sizes and characters in request bodies never make
 * a request fail without a 2xx/4xx answer, and nothing accepted fails to read back as it was sent.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../src/http.js';
import { startTestRegistry, type TestRegistry } from './support.js';

let t: TestRegistry;
beforeAll(async () => {
  t = await startTestRegistry();
});
afterAll(() => t.close());

/** A value nested `levels` deep through objects and arrays chosen at random, around a random leaf. */
const deepValue = fc
  .tuple(
    fc.array(fc.boolean(), { minLength: 1, maxLength: MAX_JSON_DEPTH + 20 }),
    fc.jsonValue({ maxDepth: 2 }),
  )
  .map(([path, leaf]) => path.reduce<unknown>((inner, asArray) => (asArray ? [inner] : { k: inner }), leaf));

const text = fc.string({ unit: 'binary', maxLength: 300 });
const metadata = fc.oneof(
  fc.dictionary(text, fc.jsonValue({ maxDepth: 6 }), { maxKeys: 20 }),
  deepValue.map((value) => ({ deep: value })),
  fc.constant({ big: 'x'.repeat(999_000) }),
  fc.constant({ tooBig: 'x'.repeat(1_000_001) }),
);

/** What the registry should hold: the value as JSON carries it (no -0, no undefined). */
const asJson = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

let n = 0;

describe('JSON request bodies (property)', () => {
  it('random metadata, descriptions and names are answered 201 or 4xx, and what is stored reads back', async () => {
    await fc.assert(
      fc.asyncProperty(metadata, fc.option(text), fc.option(text), async (custom, description, name) => {
        const body = { name: name ?? `p-${n++}`, description, custom_metadata: custom };
        const res = await t.api('POST', '/artifacts', body);
        expect([201, 400, 413, 422]).toContain(res.status);
        if (res.status !== 201) {
          expect(Object.keys(res.body.errors).length).toBeGreaterThan(0);
          return;
        }
        const read = await t.api('GET', `/artifacts/${res.body.artifact.prn}`);
        expect(read.status).toBe(200);
        expect(read.body.artifact.custom_metadata).toEqual(asJson(custom));
        expect(read.body.artifact.description).toBe(description === null ? null : description);
        expect(read.body.artifact.name).toBe(body.name);
        expect((await t.api('DELETE', `/artifacts/${res.body.artifact.prn}`)).status).toBe(204);
      }),
      { numRuns: 150 },
    );
    // Every list still answers: no stored record breaks serialization.
    expect((await t.api('GET', '/artifacts?limit=100')).status).toBe(200);
  });

  it('random raw bodies (not JSON, wrong types, deep arrays) never get a 5xx', async () => {
    const raw = fc.oneof(
      text,
      fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
      fc.integer({ min: 1, max: 6000 }).map((depth) => `{"name":${'['.repeat(depth)}${']'.repeat(depth)}}`),
      fc
        .integer({ min: 1, max: 6000 })
        .map(
          (depth) =>
            `{"name":"deep-${depth}","custom_metadata":${'{"a":'.repeat(depth)}1${'}'.repeat(depth + 1)}`,
        ),
    );
    await fc.assert(
      fc.asyncProperty(raw, async (payload) => {
        const res = await fetch(`${t.baseUrl}/artifacts`, {
          method: 'POST',
          headers: { authorization: `Token ${t.apiKey}`, 'content-type': 'application/json' },
          body: payload,
        });
        expect(res.status).toBeLessThan(500);
        const answer = (await res.json()) as { artifact?: { prn: string } };
        if (answer.artifact) await t.api('DELETE', `/artifacts/${answer.artifact.prn}`);
      }),
      { numRuns: 150 },
    );
  });
});
