import { describe, expect, it } from 'vitest';
import { activeOverride, resolve, type ResolveInput } from '../../src/releases/resolve.js';
import type { OverrideRecord, ReleaseRecord } from '../../src/releases/types.js';
import { chain, FUTURE, NOW, release } from './fixtures.js';

const ORG = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const [A, B, C, D] = [uuid(1), uuid(2), uuid(3), uuid(4)];
const relPrn = (id: string, org = ORG) => `prn:1:${org}:release:${id}`;
const bunPrn = (id: string, org = ORG) => `prn:1:${org}:bundle:${id}`;

function input(releases: ReleaseRecord[], over: Partial<ResolveInput> = {}): ResolveInput {
  return {
    org: ORG,
    device: { id: 'dev', cohort_id: 'c', quarantined: false, tags: null },
    request: {},
    now: NOW,
    overrides: [],
    releases,
    bundleSigned: () => true,
    numericPhaseAdmits: async () => true,
    ...over,
  };
}

const target = async (i: ResolveInput) => {
  const r = await resolve(i);
  return r.status === 'update' && r.source === 'release' ? r.release.id : r.status;
};

function override(id: string, over: Partial<OverrideRecord> = {}): OverrideRecord {
  return {
    id,
    bundle_id: `ob-${id}`,
    name: id,
    description: null,
    starts_at: '2026-05-01T00:00:00.000000Z',
    ends_at: null,
    inserted_at: '2026-05-01T00:00:00.000000Z',
    updated_at: '2026-05-01T00:00:00.000000Z',
    ...over,
  };
}

describe('resolution step 1: bundle override', () => {
  it('an active override wins over releases', async () => {
    const r = await resolve(
      input(chain([A, B]), { request: { release_prn: relPrn(A) }, overrides: [override('o1')] }),
    );
    expect(r).toMatchObject({ status: 'update', source: 'bundle_override', override: { id: 'o1' } });
  });

  it('of several active overrides the most recently started applies; ended and future ones do not', () => {
    const o = [
      override('old', { starts_at: '2026-04-01T00:00:00.000000Z' }),
      override('recent', { starts_at: '2026-05-20T00:00:00.000000Z' }),
      override('ended', { starts_at: '2026-05-25T00:00:00.000000Z', ends_at: '2026-05-30T00:00:00.000000Z' }),
      override('future', { starts_at: '2026-07-01T00:00:00.000000Z' }),
    ];
    expect(activeOverride(o, NOW)?.id).toBe('recent');
  });

  it('a device already on the override’s bundle gets no_update', async () => {
    const o = override('o1', { bundle_id: D });
    expect(
      (await resolve(input(chain([A, B]), { request: { bundle_prn: bunPrn(D) }, overrides: [o] }))).status,
    ).toBe('no_update');
  });

  it('an override whose bundle has an unsigned binary gives no_update', async () => {
    const i = input([], { overrides: [override('o1')], bundleSigned: (id) => id !== 'ob-o1' });
    expect((await resolve(i)).status).toBe('no_update');
  });
});

describe('resolution: device state', () => {
  it('a quarantined device gets device_quarantine', async () => {
    const i = input(chain([A, B]), {
      device: { id: 'd', cohort_id: 'c', quarantined: true, tags: null },
      request: { release_prn: relPrn(A) },
    });
    expect((await resolve(i)).status).toBe('device_quarantine');
  });

  it('a device in no cohort gets no_update', async () => {
    const i = input(chain([A, B]), {
      device: { id: 'd', cohort_id: null, quarantined: false, tags: null },
      request: { release_prn: relPrn(A) },
    });
    expect(await resolve(i)).toMatchObject({ status: 'no_update', reason: 'the device is in no cohort' });
  });
});

describe('resolution step 2: release PRN', () => {
  it('the next release of the reported release is the candidate (PRN path)', async () => {
    const r = await resolve(input(chain([A, B, C], { B: {} }), { request: { release_prn: relPrn(A) } }));
    expect(r).toMatchObject({ status: 'update', via: 'release_prn' });
  });

  it('the reported release being the latest gives no_update', async () => {
    expect(await target(input(chain([A, B]), { request: { release_prn: relPrn(B) } }))).toBe('no_update');
  });

  it('a release PRN of another cohort, another org or malformed falls through to the bundle PRN', async () => {
    for (const release_prn of [relPrn(uuid(99)), relPrn(A, OTHER), 'not-a-prn']) {
      const rels = chain([A, B], { [A]: { bundle_id: uuid(50) } });
      const r = await resolve(input(rels, { request: { release_prn, bundle_prn: bunPrn(uuid(50)) } }));
      expect(r, release_prn).toMatchObject({ status: 'update', via: 'bundle_prn' });
    }
  });
});

describe('resolution step 3: bundle PRN', () => {
  const withBundles = () => chain([A, B, C]).map((r, i) => ({ ...r, bundle_id: uuid(60 + i) }));
  it('the next release after the release carrying the bundle is the candidate (bundle-PRN path)', async () => {
    const r = await resolve(input(withBundles(), { request: { bundle_prn: bunPrn(uuid(60)) } }));
    expect(r).toMatchObject({ status: 'update', via: 'bundle_prn', release: { id: C } });
  });

  it('the bundle of the latest release gives no_update', async () => {
    expect(await target(input(withBundles(), { request: { bundle_prn: bunPrn(uuid(62)) } }))).toBe(
      'no_update',
    );
  });

  it('a bundle in no release of the cohort falls through to the version', async () => {
    const rels = chain([A, B], { [B]: { version: '2.0.0', version_requirement: '< 2.0.0' } });
    const r = await resolve(
      input(rels, { request: { bundle_prn: bunPrn(uuid(77)), release_version: '1.0.0' } }),
    );
    expect(r).toMatchObject({ status: 'update', via: 'release_version', release: { id: B } });
  });
});

describe('resolution step 4: version', () => {
  it('the lowest satisfying version wins, then the walk goes forward', async () => {
    const rels = chain([A, B, C], {
      [A]: { version: '1.0.0', version_requirement: '< 1.0.0' },
      [B]: { version: '2.0.0', version_requirement: '< 2.0.0', required: true },
      [C]: { version: '3.0.0', version_requirement: '< 3.0.0' },
    });
    expect(await target(input(rels, { request: { release_version: '0.5.0' } }))).toBe(B);
    expect(await target(input(rels, { request: { release_version: '1.5.0' } }))).toBe(B);
    expect(await target(input(rels, { request: { release_version: '2.5.0' } }))).toBe(C);
  });

  it('releases without both version and version_requirement are ignored', async () => {
    const rels = chain([A, B], { [A]: { version: '1.0.0' }, [B]: { version_requirement: '>= 0.0.0' } });
    expect(await target(input(rels, { request: { release_version: '0.1.0' } }))).toBe('no_update');
  });

  it('no satisfied requirement, or a malformed reported version, gives no_update', async () => {
    const rels = chain([A], { [A]: { version: '1.0.0', version_requirement: '< 1.0.0' } });
    expect(await target(input(rels, { request: { release_version: '1.0.0' } }))).toBe('no_update');
    expect(await target(input(rels, { request: { release_version: 'v0.1.0' } }))).toBe('no_update');
    expect(await target(input(rels, { request: {} }))).toBe('no_update');
  });
});

describe('resolution step 5: walk forward', () => {
  it('walks to the latest release when none is required', async () => {
    expect(await target(input(chain([A, B, C, D]), { request: { release_prn: relPrn(A) } }))).toBe(D);
  });

  it('stops at a required release', async () => {
    expect(
      await target(
        input(chain([A, B, C, D], { [C]: { required: true } }), { request: { release_prn: relPrn(A) } }),
      ),
    ).toBe(C);
  });

  it('stops at the candidate itself when it is required', async () => {
    expect(
      await target(
        input(chain([A, B, C], { [B]: { required: true } }), { request: { release_prn: relPrn(A) } }),
      ),
    ).toBe(B);
  });
});

describe('resolution step 6: walk back', () => {
  const prnA = { request: { release_prn: relPrn(A), release_version: '1.0.0' } };
  it('skips a disabled release', async () => {
    expect(await target(input(chain([A, B, C], { [C]: { disabled: true } }), prnA))).toBe(B);
  });

  it('skips a release whose version_requirement the device does not satisfy', async () => {
    expect(await target(input(chain([A, B, C], { [C]: { version_requirement: '>= 2.0.0' } }), prnA))).toBe(B);
  });

  it('skips a release scheduled in the future', async () => {
    expect(await target(input(chain([A, B, C], { [C]: { schedule_date: FUTURE } }), prnA))).toBe(B);
  });

  it('skips a tag-phased release the device has none of the tags of, and serves it to one that has one', async () => {
    const rels = chain([A, B, C], { [C]: { phase_mode: 'tags', phase_tags: ['beta', 'qa'] } });
    expect(await target(input(rels, prnA))).toBe(B);
    const tagged = { id: 'd', cohort_id: 'c', quarantined: false, tags: ['qa'] };
    expect(await target(input(rels, { ...prnA, device: tagged }))).toBe(C);
  });

  it('skips a numeric-phased release that does not admit the device, and never asks about unphased ones', async () => {
    const asked: string[] = [];
    const rels = chain([A, B, C], { [C]: { phase_value: 0.5 } });
    const i = input(rels, { ...prnA, numericPhaseAdmits: async (r) => (asked.push(r.id), false) });
    expect(await target(i)).toBe(B);
    expect(asked).toEqual([C]);
  });

  it('claims (commit) only when the release would be served, i.e. its bundle is signed', async () => {
    const commits: boolean[] = [];
    const rels = chain([A, B], { [B]: { phase_value: 10 } });
    const i = input(rels, {
      ...prnA,
      bundleSigned: () => false,
      numericPhaseAdmits: async (_r, commit) => (commits.push(commit), true),
    });
    expect(await target(i)).toBe('no_update');
    expect(commits).toEqual([false]);
  });

  it('with nothing left on the path gives no_update', async () => {
    expect(await target(input(chain([A, B], { [B]: { disabled: true } }), prnA))).toBe('no_update');
  });

  it('never steps back before the candidate (the reported release itself is not offered)', async () => {
    expect(
      await target(input(chain([A, B, C], { [B]: { disabled: true }, [C]: { disabled: true } }), prnA)),
    ).toBe('no_update');
  });
});

describe('resolution step 7: signed bundles only', () => {
  it('a release with an unsigned binary gives no_update, without stepping back', async () => {
    const i = input(chain([A, B, C]), {
      request: { release_prn: relPrn(A) },
      bundleSigned: (id) => id !== `bundle-${C}`,
    });
    expect(await target(i)).toBe('no_update');
  });
});

it('a cyclic graph (corrupt data) never loops the check', async () => {
  const rels = [
    release(A, { next_release_id: B }),
    release(B, { next_release_id: C }),
    release(C, { next_release_id: B }),
  ];
  expect(await target(input(rels, { request: { release_prn: relPrn(A) } }))).toBe(C);
});
