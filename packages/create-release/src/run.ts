import { createRelease } from '@peridio-actions/core';
import { connect } from '@peridio-actions/action-common/connect';
import { runnerLogger as logger } from '@peridio-actions/action-common/logger';
import { setOutputs, writeSummary } from '@peridio-actions/action-common/summary';
import { readInputs } from './inputs.js';

export async function run(): Promise<void> {
  const inputs = readInputs();
  const api = await connect(inputs.api, {
    action: 'create-release',
    logger,
    probe: (c) => c.releases.listCohorts({ limit: 1 }),
  });
  const result = await createRelease({ ...inputs, api, logger });
  const r = result.release;
  setOutputs({
    'release-prn': r.prn,
    'cohort-prn': result.cohortPrn,
    'product-prn': result.productPrn,
    created: result.created,
    'phase-value': r.phase_value,
  });
  await writeSummary(`Release ${r.name}`, [
    ['Release PRN', r.prn],
    ['Version', r.version ?? undefined],
    ['Version requirement', r.version_requirement ?? undefined],
    ['Phase', r.phase_mode === 'tags' ? `tags ${r.phase_tags.join(', ')}` : String(r.phase_value)],
    ['Schedule', r.schedule_date],
    ['Bundle', r.bundle_prn],
    ['Cohort', result.cohortPrn],
    ['Created', result.created ? 'yes' : 'no (it existed)'],
    ['Completed previous', result.completedPrevious?.prn],
  ]);
}
