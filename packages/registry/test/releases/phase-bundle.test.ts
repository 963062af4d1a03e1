import { describe, expect, it } from 'vitest';
import { bundleHash, canonicalJson, resolveMetadata, sameContent } from '../../src/releases/bundle.js';
import { claimLimit, isPhased, phaseLimit, phaseType, phaseValueProblem } from '../../src/releases/phase.js';

describe('phase values', () => {
  it('accepts shares in [0, 1] and whole counts in [2, 1e9]; refuses the rest naming what is allowed', () => {
    for (const v of [0, 0.2, 0.5, 1, 2, 50, 1_000_000_000])
      expect(phaseValueProblem(v), String(v)).toBeUndefined();
    for (const v of [-0.1, 1.5, 2.5, 1_000_000_001, Number.NaN])
      expect(phaseValueProblem(v), String(v)).toBeDefined();
    expect(phaseValueProblem(1.5)).toMatch(/share from 0 to 1.*count from 2/);
    expect(phaseValueProblem('0.5')).toBe('must be a number');
  });

  it('a share admits ceil(share × cohort devices); a count admits that many; 1 admits all', () => {
    expect(claimLimit(phaseLimit({ phase_value: 0.25 }), 200)).toBe(50);
    expect(claimLimit(phaseLimit({ phase_value: 0.1 }), 30)).toBe(3); // not 4 from 3.0000000000000004
    expect(claimLimit(phaseLimit({ phase_value: 0.5 }), 3)).toBe(2); // claims < 1.5 admits 2
    expect(claimLimit(phaseLimit({ phase_value: 0 }), 100)).toBe(0);
    expect(claimLimit(phaseLimit({ phase_value: 50 }), 10)).toBe(50);
    expect(claimLimit(phaseLimit({ phase_value: 1 }), 10)).toBe(Number.POSITIVE_INFINITY);
  });

  it('derives phase_type and phased', () => {
    expect(phaseType({ phase_value: 40 })).toBe('static');
    expect(phaseType({ phase_value: 0.2 })).toBe('percent');
    expect(phaseType({ phase_value: 1 })).toBe('percent');
    expect(isPhased({ phase_mode: 'numeric', phase_value: 1 })).toBe(false);
    expect(isPhased({ phase_mode: 'numeric', phase_value: 0.99 })).toBe(true);
    expect(isPhased({ phase_mode: 'tags', phase_value: 1 })).toBe(true);
  });
});

describe('bundle hash', () => {
  const a = '403ccc806332775b59558608031ce2656bfee95b32229bdd9aed5aab433af55b';
  const b = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

  it('matches the documented test vector', () => {
    // docs/release-management.md, "Bundle hash": the same two lines hashed with sha256sum.
    expect(canonicalJson({ z: 1, a: { y: [2, { c: null, b: true }] } })).toBe(
      '{"a":{"y":[2,{"b":true,"c":null}]},"z":1}',
    );
    expect(
      bundleHash([
        { hash: a, custom_metadata: { peridiod: { installer: 'file' } } },
        { hash: b, custom_metadata: {} },
      ]),
    ).toBe('384e96f2790b2ea0ed3bdf4ec1a2fa89b3bd769bfe51fe0b37daedcf7877677e');
  });

  it('changes with order and with metadata, not with key order', () => {
    const x = bundleHash([
      { hash: a, custom_metadata: {} },
      { hash: b, custom_metadata: {} },
    ]);
    expect(
      bundleHash([
        { hash: b, custom_metadata: {} },
        { hash: a, custom_metadata: {} },
      ]),
    ).not.toBe(x);
    expect(
      bundleHash([
        { hash: a, custom_metadata: { k: 1 } },
        { hash: b, custom_metadata: {} },
      ]),
    ).not.toBe(x);
    expect(bundleHash([{ hash: a, custom_metadata: { p: 1, q: 2 } }])).toBe(
      bundleHash([{ hash: a, custom_metadata: { q: 2, p: 1 } }]),
    );
    expect(bundleHash([{ hash: a.toUpperCase(), custom_metadata: {} }])).toBe(
      bundleHash([{ hash: a, custom_metadata: {} }]),
    );
  });
});

describe('custom_metadata inheritance', () => {
  const levels = {
    artifact: { from: 'artifact' },
    artifactVersion: { from: 'version' },
    binary: { from: 'binary' },
  };
  it('the value given at bundle creation wins, then binary, then version, then artifact; null means inherit', () => {
    expect(resolveMetadata({ ...levels, given: { from: 'bundle' } })).toEqual({ from: 'bundle' });
    expect(resolveMetadata({ ...levels, given: null })).toEqual({ from: 'binary' });
    expect(resolveMetadata({ ...levels, binary: null, given: undefined })).toEqual({ from: 'version' });
    expect(resolveMetadata({ ...levels, binary: null, artifactVersion: null, given: null })).toEqual({
      from: 'artifact',
    });
    expect(resolveMetadata({ artifact: null, artifactVersion: null, binary: null, given: null })).toEqual({});
  });

  it('the most specific object wins whole: levels are not merged', () => {
    expect(
      resolveMetadata({ artifact: { a: 1 }, artifactVersion: null, binary: { b: 2 }, given: null }),
    ).toEqual({ b: 2 });
  });

  it('same content compares binaries, order and canonical metadata', () => {
    const one = [{ binary_id: 'x', custom_metadata: { a: 1, b: 2 } }];
    expect(sameContent(one, [{ binary_id: 'x', custom_metadata: { b: 2, a: 1 } }])).toBe(true);
    expect(sameContent(one, [{ binary_id: 'x', custom_metadata: {} }])).toBe(false);
  });
});
