/**
 * The release-management views before the registry serves them: the real registry process for the console
 * and sign-in, with /cohorts, /releases, /bundles, /devices and /events answered in the browser by fixtures
 * in the Admin API spec's shapes (playwright's request routing). What is checked is the drawing and the
 * calls the page makes, not the registry. Also writes the dark-scheme screenshots.
 */
import { join } from 'node:path';
import type { Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RegistryProcess } from '../helpers/registry-process.js';
import { launchBrowser, watchErrors, type Browser } from './browser.js';

const shots = join(new URL('../..', import.meta.url).pathname, 'docs', 'screenshots');
const org = 'prn:1:7a1e0c4e-f222-4bb3-89dc-48320018875d';
const prn = (type: string, n: number) =>
  `${org}:${type}:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const cohort = { prn: prn('cohort', 1), name: 'production', product_prn: prn('product', 1) };
const release = (n: number, version: string, next: number | null, extra: object = {}) => ({
  prn: prn('release', n),
  name: `r${n}`,
  version,
  version_requirement: null,
  cohort_prn: cohort.prn,
  bundle_prn: prn('bundle', n),
  next_release_prn: next === null ? null : prn('release', next),
  phase_value: 1,
  required: false,
  disabled: false,
  schedule_date: '2026-11-01T00:00:00Z',
  ...extra,
});
// r1 → r2 → r4 (latest, phased at 40 %); r3 → r4 is a second path; r2 is required, r3 disabled.
const releases = [
  release(1, '1.0.0', 2),
  release(2, '1.1.0', 4, { required: true }),
  release(3, '1.1.1', 4, { disabled: true }),
  release(4, '2.0.0', null, { phase_value: 0.4 }),
];
const device = {
  prn: prn('device', 1),
  identifier: 'board-0042',
  cohort_prn: cohort.prn,
  reported_release_prn: prn('release', 2),
  reported_release_version: '1.1.0',
  reported_bundle_prn: prn('bundle', 2),
  tags: ['lab', 'rev-b'],
  last_connected_at: '2026-11-30T10:00:00Z',
};

describe('release views against spec-shaped answers', () => {
  let registry: RegistryProcess;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const updateBodies: unknown[] = [];

  beforeAll(async () => {
    registry = await startRegistry();
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(10_000);
    errors = watchErrors(page);
    const json = (route: Route, body: unknown) =>
      route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
    await page.route(/\/cohorts\?/, (r) => json(r, { cohorts: [cohort], next_page: null }));
    await page.route(/\/releases\?/, (r) => json(r, { releases, next_page: null }));
    await page.route(/\/bundles\//, (r) =>
      json(r, { bundle: { prn: prn('bundle', 4), name: 'b4', binaries: [{ prn: prn('binary', 9) }] } }),
    );
    await page.route(/\/devices\?/, (r) => json(r, { devices: [device], next_page: null }));
    await page.route(/\/devices\/[^/]+\/update$/, (r) => {
      updateBodies.push(r.request().postDataJSON());
      return json(r, { status: 'update', bundle_prn: prn('bundle', 4), source_type: 'release' });
    });
    await page.route(/\/events\?/, (r) =>
      json(r, {
        events: [
          {
            prn: prn('event', 1),
            type: 'binary',
            subtype: 'signed',
            inserted_at: '2026-11-30T10:00:00Z',
            resource_prn: prn('binary', 9),
            actor_prn: prn('user', 1),
          },
        ],
        next_page: null,
      }),
    );
    await page.goto(`${registry.baseUrl}/console/`);
    await page.getByLabel('API key').fill(registry.apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Artifacts' }).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await registry?.stop();
  });

  it('draws each cohort’s release graph: arrows along next_release_prn, latest highlighted, marks', async () => {
    await page.goto(`${registry.baseUrl}/console/#/releases`);
    await page.getByRole('heading', { name: 'Cohort production' }).waitFor();
    expect(await page.locator('.graph .node').count()).toBe(4);
    expect(await page.locator('.graph .edge').count()).toBe(3);
    expect(await page.locator('.graph .node.latest').getAttribute('aria-label')).toContain('r4 2.0.0');
    expect(await page.getByRole('button', { name: /Release r2 1\.1\.0, required/ }).count()).toBe(1);
    expect(await page.getByRole('button', { name: /Release r3 1\.1\.1, disabled/ }).count()).toBe(1);
    // The latest release is the rightmost column; the phase bar of r4 is 40 % wide.
    const x = async (name: string) =>
      Number(await page.getByRole('button', { name }).locator('rect').first().getAttribute('x'));
    expect(await x('Release r4 2.0.0')).toBeGreaterThan(await x('Release r2 1.1.0, required'));
    expect(await x('Release r2 1.1.0, required')).toBeGreaterThan(await x('Release r1 1.0.0'));
    expect(await page.locator('.graph .node.latest rect.phase').getAttribute('width')).toBe('40');

    await page.getByRole('button', { name: 'Release r4 2.0.0' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: prn('binary', 9) }).waitFor();
    expect(page.url()).toContain(`release=${encodeURIComponent(prn('release', 4))}`);
    await page.screenshot({ path: join(shots, 'release-graph.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(shots, 'release-graph-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('lists devices with reported release, version and tags; Check asks for an update without write', async () => {
    await page.goto(`${registry.baseUrl}/console/#/devices`);
    const row = page.getByRole('row', { name: /board-0042/ });
    await row.waitFor();
    expect(await row.textContent()).toContain('lab, rev-b');
    expect(await row.textContent()).toContain('1.1.0');
    await page.getByRole('button', { name: 'Check for an update for board-0042' }).click();
    await page.getByText(`update: ${prn('bundle', 4)}`).waitFor();
    expect(updateBodies).toEqual([{ write: false, release_prn: prn('release', 2) }]);
    await page.screenshot({ path: join(shots, 'devices.png') });
  });

  it('lists events and filters them by type through the URL', async () => {
    await page.goto(`${registry.baseUrl}/console/#/events`);
    await page.getByRole('row', { name: /binary \/ signed/ }).waitFor();
    const requested = page.waitForRequest(/\/events\?.*event_type=binary/);
    await page.getByLabel('Type').fill('binary');
    await page.getByRole('button', { name: 'Filter' }).click();
    await requested;
    expect(page.url()).toContain('#/events?type=binary');
    await page.screenshot({ path: join(shots, 'events.png') });
    expect(errors).toEqual([]);
  });
});
