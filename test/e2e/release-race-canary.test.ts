/**
 * Two fan-in jobs at once make one bundle and one release (and one cohort and product, created by name);
 * a canary at phase-value 2 reaches two test devices and a third only after promotion to 1.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { apiInputs, expectSuccess, publishMatrix, startScene, step, type Scene } from './release-helpers.js';

let scene: Scene;

beforeAll(async () => {
  scene = await startScene();
  await publishMatrix(scene);
}, 120_000);
afterAll(async () => {
  await scene?.stop();
});

const list = async (path: string) =>
  Object.values((await scene.api<Record<string, unknown>>('GET', `${path}?limit=100`)).body).find(
    Array.isArray,
  ) as Record<string, unknown>[];

for (const phase of ['1', '0.1']) {
  it(`two fan-in jobs racing make one bundle and one release (phase-value ${phase})`, async () => {
    const cohort = `race-${phase}`;
    const bundles = await Promise.all(
      [1, 2].map(() =>
        step('create-bundle', { ...apiInputs(scene), artifact: 'firmware', name: `race ${phase}` }),
      ),
    );
    bundles.forEach(expectSuccess);
    expect(bundles[0]!.outputs['bundle-prn']).toBe(bundles[1]!.outputs['bundle-prn']);
    expect(bundles.map((b) => b.outputs.created).sort()).toEqual(['false', 'true']);
    const bundlePrn = bundles[0]!.outputs['bundle-prn']!;
    const releases = await Promise.all(
      [1, 2].map(() =>
        step('create-release', {
          ...apiInputs(scene),
          'bundle-prn': bundlePrn,
          cohort,
          product: 'race-product',
          'phase-value': phase,
        }),
      ),
    );
    releases.forEach(expectSuccess);
    expect(releases[0]!.outputs['release-prn']).toBe(releases[1]!.outputs['release-prn']);
    expect(releases[0]!.outputs['cohort-prn']).toBe(releases[1]!.outputs['cohort-prn']);
    expect(releases.map((r) => r.outputs.created).sort()).toEqual(['false', 'true']);
    const inCohort = (await list('/releases')).filter(
      (r) => r.cohort_prn === releases[0]!.outputs['cohort-prn'],
    );
    expect(inCohort.map((r) => r.prn)).toEqual([releases[0]!.outputs['release-prn']]);
    expect((await list('/products')).filter((p) => p.name === 'race-product')).toHaveLength(1);
    // A cohort created twice at once keeps its name once; the loser's copy, if any, is renamed out of the way.
    expect((await list('/cohorts')).filter((c) => c.name === cohort)).toHaveLength(1);
    expect((await list('/bundles')).filter((b) => b.prn === bundlePrn)).toHaveLength(1);
  }, 120_000);
}

it('a canary at phase-value 2 reaches two devices, and a third only after promotion to 1', async () => {
  const bundle = await step('create-bundle', { ...apiInputs(scene), artifact: 'firmware' });
  expectSuccess(bundle);
  const release = await step('create-release', {
    ...apiInputs(scene),
    'bundle-prn': bundle.outputs['bundle-prn']!,
    cohort: 'canary',
    product: 'gateway',
    'phase-value': '2',
  });
  expectSuccess(release);
  const check = (device: string) =>
    step('verify-update', {
      ...apiInputs(scene),
      device,
      'create-device': 'true',
      cohort: release.outputs['cohort-prn']!,
      'release-version': '0.9.0',
      'trusted-signing-keys': scene.key.publicPem,
    });
  const first = [await check('canary-1'), await check('canary-2'), await check('canary-3')];
  first.forEach(expectSuccess);
  expect(first.map((r) => [r.outputs.status, r.outputs.verified])).toEqual([
    ['update', '3'],
    ['update', '3'],
    ['no_update', '0'],
  ]);
  const promoted = await step('promote-release', {
    ...apiInputs(scene),
    'release-prn': release.outputs['release-prn']!,
    'phase-value': '1',
  });
  expectSuccess(promoted);
  const third = await check('canary-3');
  expectSuccess(third);
  expect(third.outputs).toMatchObject({
    status: 'update',
    'bundle-prn': bundle.outputs['bundle-prn'],
    verified: '3',
  });
}, 120_000);
