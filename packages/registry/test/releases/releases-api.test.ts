import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSpec } from '../support.js';
import { startWorld, type World } from './world.js';

describe('releases over the API', () => {
  let w: World;
  let bundle: string;
  beforeAll(async () => {
    w = await startWorld();
    bundle = (await w.bundle([(await w.signedBinary()).prn])).prn;
  });
  afterAll(() => w.t.close());

  const releases = async () =>
    (await w.t.api('GET', `/releases?search=${encodeURIComponent(`cohort_prn:'${w.cohort}'`)}&limit=100`))
      .body.releases as any[];

  it('takes every spec field, accepts version-requirement and the SDK nulls, derives phase_type and schedule_complete', async () => {
    const r = await w.release(bundle, {
      description: null,
      version: '1.0.0',
      'version-requirement': '>= 0.1.0 and < 1.0.0',
      disabled: false,
      next_release_prn: null,
      previous_release_prn: null,
    });
    expect(r).toMatchObject({
      version: '1.0.0',
      version_requirement: '>= 0.1.0 and < 1.0.0',
      phase_mode: 'numeric',
      phase_value: 1,
      phase_type: 'percent',
      schedule_complete: true,
      next_release_prn: null,
      cohort_prn: w.cohort,
      bundle_prn: bundle,
    });
    const got = await w.t.api('GET', `/releases/${r.prn}`);
    expectSpec('/releases/{release_prn}', 'get', 200, got.body);
    const list = await w.t.api('GET', `/releases?search=${encodeURIComponent(`version:'1.0.0'`)}`);
    expectSpec('/releases', 'get', 200, list.body);
    expect(list.body.releases.map((x: { prn: string }) => x.prn)).toEqual([r.prn]);
  });

  it('a malformed version or requirement is refused quoting it', async () => {
    const before = await releases();
    for (const [field, body] of [
      ['version', { version: 'v2.0.0' }],
      ['version_requirement', { version_requirement: '^1.0.0' }],
      ['version_requirement', { 'version-requirement': '>= 1.0' }],
      ['phase_value', { phase_value: 1.5 }],
      ['phase_tags', { phase_mode: 'tags' }],
      ['required', { required: null }],
      ['schedule_date', { schedule_date: 'tomorrow' }],
    ] as const) {
      const res = await w.t.api('POST', '/releases', {
        bundle_prn: bundle,
        cohort_prn: w.cohort,
        name: 'bad',
        required: false,
        schedule_date: '2026-01-01T00:00:00Z',
        ...body,
      });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(Object.keys(res.body.errors), JSON.stringify(res.body)).toEqual([field]);
      const quoted = Object.values(body)[0];
      if (typeof quoted === 'string' && field.startsWith('version'))
        expect(res.body.errors[field][0]).toContain(`'${quoted}'`);
    }
    expect(await releases()).toEqual(before);
  });

  it('appends as latest: the old latest release now points at the new one', async () => {
    const [latest] = (await releases()).filter((r) => r.next_release_prn === null);
    const r = await w.release(bundle, { version: '2.0.0', version_requirement: '< 2.0.0' });
    expect((await w.t.api('GET', `/releases/${latest.prn}`)).body.release.next_release_prn).toBe(r.prn);
  });

  it('inserts between two releases', async () => {
    const all = await releases();
    const [a, b] = [all[0], all[1]];
    const x = await w.release(bundle, { previous_release_prn: a.prn, next_release_prn: b.prn });
    expect(x.next_release_prn).toBe(b.prn);
    expect((await w.t.api('GET', `/releases/${a.prn}`)).body.release.next_release_prn).toBe(x.prn);
  });

  it('refuses a new latest release while the latest is phased or scheduled, changing nothing', async () => {
    const phased = await w.release(bundle, { phase_value: 0.2 });
    expect(phased.phase_type).toBe('percent');
    const before = await releases();
    const res = await w.t.api('POST', '/releases', {
      bundle_prn: bundle,
      cohort_prn: w.cohort,
      name: 'next',
      required: false,
      schedule_date: '2026-01-01T00:00:00Z',
    });
    expect(res.status).toBe(422);
    expect(res.body.errors.phase_value[0]).toMatch(/phased \(phase_value 0.2\).*complete it first/);
    expect(await releases()).toEqual(before);
    const done = await w.t.api('PATCH', `/releases/${phased.prn}`, {
      phase_value: 1,
      schedule_date: '2099-01-01T00:00:00Z',
    });
    expect(done.body.release.schedule_complete).toBe(false);
    const again = await w.t.api('POST', '/releases', {
      bundle_prn: bundle,
      cohort_prn: w.cohort,
      name: 'next',
      required: false,
      schedule_date: '2026-01-01T00:00:00Z',
    });
    expect(again.body.errors.phase_value[0]).toMatch(/scheduled for 2099/);
    await w.t.api('PATCH', `/releases/${phased.prn}`, { schedule_date: '2026-01-01T00:00:00Z' });
  });

  it('refuses a cycle through PATCH next_release_prn and a change of bundle, changing nothing', async () => {
    const all = await releases();
    const latest = all.find((r) => r.next_release_prn === null);
    const before = await releases();
    const res = await w.t.api('PATCH', `/releases/${latest.prn}`, { next_release_prn: all[0].prn });
    expect(res.status).toBe(422);
    expect(res.body.errors.next_release_prn[0]).toMatch(/cycle/);
    expect(
      (await w.t.api('PATCH', `/releases/${latest.prn}`, { bundle_prn: bundle })).body.errors.bundle_prn[0],
    ).toMatch(/cannot change/);
    expect(await releases()).toEqual(before);
  });

  it('delete relinks the predecessors to the next release', async () => {
    const all = await releases();
    const a = all[0];
    const b = all.find((r) => r.prn === a.next_release_prn);
    expect((await w.t.api('DELETE', `/releases/${b.prn}`)).status).toBe(204);
    expect((await w.t.api('GET', `/releases/${a.prn}`)).body.release.next_release_prn).toBe(
      b.next_release_prn,
    );
    expect((await w.t.api('GET', `/releases/${b.prn}`)).status).toBe(404);
  });
});
