/**
 * The release-management views against the real registry process and real records, nothing intercepted:
 * two signed binaries published by the bundled publish-binary action, a product, a cohort of two devices
 * that report the first release, a bundle per binary, and two releases, the second (the latest) phased at
 * 50 % (one of the two devices). Also writes the release, devices and events screenshots (`npm run bundle`
 * first). Any console error or uncaught exception fails the test.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '../helpers/run-action.js';
import { publishInputs, startScene, writeTestFile, type Scene } from '../e2e/scene.js';
import { launchBrowser, watchErrors, type Browser } from './browser.js';

const shots = join(new URL('../..', import.meta.url).pathname, 'docs', 'screenshots');

interface World {
  binaries: [string, string];
  bundles: [string, string];
  releases: [string, string];
  devices: Record<'board-01' | 'board-02', string>;
}

async function created<T>(scene: Scene, path: string, body: unknown, key: string): Promise<T> {
  const { status, body: answer } = await scene.api<Record<string, T>>('POST', path, body);
  if (status !== 201 && status !== 200) throw new Error(`POST ${path}: ${status} ${JSON.stringify(answer)}`);
  return answer[key]!;
}

async function makeWorld(scene: Scene): Promise<World> {
  const binaries: string[] = [];
  for (const tag of ['v1.0.0', 'v1.1.0']) {
    const file = await writeTestFile(scene.dir, `rootfs-${tag}.img`, 64 * 1024);
    const run = await runAction(
      'publish-binary',
      publishInputs(scene, file, { artifact: 'gateway-rootfs' }),
      {
        env: { GITHUB_REF: `refs/tags/${tag}`, GITHUB_REF_NAME: tag },
      },
    );
    if (run.code !== 0 || run.outputs.state !== 'signed')
      throw new Error(`publish-binary ${tag} failed: ${run.stdout}${run.stderr}`);
    binaries.push(run.outputs['binary-prn']!);
  }
  const product = await created<{ prn: string }>(scene, '/products', { name: 'gateway' }, 'product');
  const cohort = await created<{ prn: string }>(
    scene,
    '/cohorts',
    { name: 'production', product_prn: product.prn },
    'cohort',
  );
  const devices: Record<string, string> = {};
  for (const identifier of ['board-01', 'board-02']) {
    const device = await created<{ prn: string }>(
      scene,
      '/devices',
      { identifier, product_prn: product.prn, cohort_prn: cohort.prn, tags: ['lab'] },
      'device',
    );
    devices[identifier] = device.prn;
  }
  const bundles: string[] = [];
  for (const [i, binary] of binaries.entries()) {
    const name = `gateway@v1.${i}.0`;
    bundles.push(
      (await created<{ prn: string }>(scene, '/bundles', { name, binaries: [{ prn: binary }] }, 'bundle'))
        .prn,
    );
  }
  const release = (i: number, phase: number) =>
    created<{ prn: string }>(
      scene,
      '/releases',
      {
        name: `v1.${i}.0`,
        version: `1.${i}.0`,
        bundle_prn: bundles[i],
        cohort_prn: cohort.prn,
        required: false,
        schedule_date: '2026-01-01T00:00:00Z',
        phase_value: phase,
      },
      'release',
    );
  const first = await release(0, 1);
  // Both devices installed the first release and say so, before the second exists (so no phase is claimed).
  for (const prn of Object.values(devices)) {
    const { status } = await scene.api('POST', `/devices/${prn}/update`, {
      release_prn: first.prn,
      write: true,
    });
    if (status !== 200) throw new Error(`reporting ${prn}: ${status}`);
  }
  const second = await release(1, 0.5);
  return {
    binaries: binaries as [string, string],
    bundles: bundles as [string, string],
    releases: [first.prn, second.prn],
    devices: devices,
  };
}

describe('release views against the real registry', () => {
  let scene: Scene;
  let world: World;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    scene = await startScene();
    world = await makeWorld(scene);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(15_000);
    errors = watchErrors(page);
    await page.goto(`${scene.registry.baseUrl}/console/`);
    await page.getByLabel('API key').fill(scene.registry.apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Artifacts' }).waitFor();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await scene?.stop();
  });

  it('draws the cohort’s two releases, the phased latest with its percentage; a click shows bundle and binaries', async () => {
    await page.goto(`${scene.registry.baseUrl}/console/#/releases`);
    await page.getByRole('heading', { name: 'Cohort production' }).waitFor();
    // The releases are read once the cohorts are in, so the graph fills in after the heading.
    await expect.poll(() => page.locator('.graph .node').count()).toBe(2);
    expect(await page.locator('.graph .edge').count()).toBe(1);
    const latest = page.locator('.graph .node.latest');
    expect(await latest.count()).toBe(1);
    expect(await latest.getAttribute('aria-label')).toBe('Release v1.1.0 1.1.0, 50 %');
    expect(await latest.textContent()).toContain('50 %');
    expect(await latest.locator('rect.phase').getAttribute('width')).toBe('50');
    const first = page.getByRole('button', { name: 'Release v1.0.0 1.0.0, 100 %' });
    expect(await first.getAttribute('class')).not.toContain('latest');
    // The latest release is the right-hand column, after the one pointing at it.
    const x = async (node: ReturnType<Page['locator']>) =>
      Number(await node.locator('rect').first().getAttribute('x'));
    expect(await x(latest)).toBeGreaterThan(await x(first));

    await latest.focus();
    await page.keyboard.press('Enter');
    const binaries = page.getByRole('list', { name: 'Bundle binaries' });
    await binaries.getByRole('link', { name: world.binaries[1] }).waitFor();
    expect(await binaries.getByRole('link').count()).toBe(1);
    await page.getByText(`Bundle gateway@v1.1.0 ${world.bundles[1]}`).waitFor();
    expect(page.url()).toContain(`release=${encodeURIComponent(world.releases[1])}`);
    await page.screenshot({ path: join(shots, 'release-graph.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(shots, 'release-graph-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    expect(errors).toEqual([]);
  });

  it('checks devices without write: the first to check takes the one phase slot, the other stays', async () => {
    await page.goto(`${scene.registry.baseUrl}/console/#/devices`);
    const row = page.getByRole('row', { name: /board-01/ });
    await row.waitFor();
    expect(await row.textContent()).toContain(`v1.0.0 ${world.releases[0]}`);
    expect(await row.textContent()).toContain('1.0.0');
    expect(await row.textContent()).toContain('lab');
    const status = (id: string) => page.getByRole('row', { name: new RegExp(id) }).getByRole('status');
    await page.getByRole('button', { name: 'Check for an update for board-01' }).click();
    await expect.poll(() => status('board-01').textContent()).toBe('update: gateway@v1.1.0 (release v1.1.0)');
    await page.getByRole('button', { name: 'Check for an update for board-02' }).click();
    await expect.poll(() => status('board-02').textContent()).toBe('no_update');
    // A check is not a report: both devices still report the first release.
    const { body } = await scene.api<{ device: { reported_release_prn: string } }>(
      'GET',
      `/devices/${world.devices['board-01']}`,
    );
    expect(body.device.reported_release_prn).toBe(world.releases[0]);
    await page.screenshot({ path: join(shots, 'devices.png') });
    expect(errors).toEqual([]);
  });

  it('lists the checks’ events and filters them by type and subtype through the URL', async () => {
    await page.goto(`${scene.registry.baseUrl}/console/#/events`);
    await page
      .getByRole('row', { name: /device \/ checked_for_release/ })
      .first()
      .waitFor();
    const rows = page.locator('tbody tr');

    await page.getByLabel('Subtype').selectOption('claimed_release');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => page.url()).toContain('#/events?subtype=claimed_release');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.textContent()).toContain(world.devices['board-01']);
    await page.screenshot({ path: join(shots, 'events.png') });

    await page.getByLabel('Subtype').selectOption('');
    await page.getByLabel('Type', { exact: true }).selectOption('webhook');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No events match.').waitFor();
    expect(await rows.count()).toBe(0);

    await page.getByLabel('Type', { exact: true }).selectOption('device');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('row', { name: /device \/ claimed_release/ }).waitFor();
    // 2 reports + 2 checks from the console, each recorded as a check; 2 release changes; 1 claim.
    expect(await page.getByRole('row', { name: /device \/ checked_for_release/ }).count()).toBe(4);
    expect(await page.getByRole('row', { name: /device \/ release_changed/ }).count()).toBe(2);
    expect(errors).toEqual([]);
  });

  it('shows on a binary’s page the release that includes it, and Destroy names that release', async () => {
    await page.goto(`${scene.registry.baseUrl}/console/#/binaries/${world.binaries[1]}`);
    const included = page.getByRole('listitem').filter({ hasText: 'Bundle gateway@v1.1.0:' });
    await included.getByRole('link', { name: 'v1.1.0' }).waitFor();
    expect(await included.getByRole('link').count()).toBe(1);
    expect(await included.getByRole('link').getAttribute('href')).toBe(
      `#/releases?release=${encodeURIComponent(world.releases[1])}`,
    );
    await page.getByRole('button', { name: 'Destroy…' }).click();
    await page.getByText('Releases that would lose this binary: v1.1.0;').waitFor();
    await page.screenshot({ path: join(shots, 'destroy-release.png'), fullPage: true });
    await page.getByLabel(/Type the target/).fill('aarch64-linux-gnu');
    await page.getByRole('button', { name: 'Destroy', exact: true }).click();
    await page.getByRole('heading', { name: /gateway-rootfs 1\.1\.0/ }).waitFor();

    // The release lost a signed binary: the device that had its phase slot now gets nothing new.
    await page.goto(`${scene.registry.baseUrl}/console/#/devices`);
    await page.getByRole('button', { name: 'Check for an update for board-01' }).click();
    await expect
      .poll(() =>
        page
          .getByRole('row', { name: /board-01/ })
          .getByRole('status')
          .textContent(),
      )
      .toBe('no_update');
    expect(errors).toEqual([]);
  });
});
