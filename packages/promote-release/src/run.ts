import { promoteRelease } from '@peridio-actions/core';
import { connect } from '@peridio-actions/action-common/connect';
import { runnerLogger as logger } from '@peridio-actions/action-common/logger';
import { setOutputs, writeSummary } from '@peridio-actions/action-common/summary';
import { readInputs } from './inputs.js';

export async function run(): Promise<void> {
  const inputs = readInputs();
  const api = await connect(inputs.api, {
    action: 'promote-release',
    logger,
    probe: (c) => c.releases.listReleases({ limit: 1 }),
  });
  const { release: r, before, changed } = await promoteRelease({ ...inputs, api, logger });
  setOutputs({ 'release-prn': r.prn, 'phase-value': r.phase_value, 'phase-mode': r.phase_mode, changed });
  const phase = (x: typeof r) =>
    x.phase_mode === 'tags' ? `tags ${x.phase_tags.join(', ')}` : String(x.phase_value);
  await writeSummary(`Promoted ${r.name}`, [
    ['Release PRN', r.prn],
    ['Phase before', phase(before)],
    ['Phase now', phase(r)],
    ['Disabled', String(r.disabled)],
    ['Changed', changed ? 'yes' : 'no (already so)'],
  ]);
}
