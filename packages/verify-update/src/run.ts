import * as core from '@actions/core';
import { verifyUpdate } from '@peridio-actions/core';
import { connect } from '@peridio-actions/action-common/connect';
import { runnerLogger as logger } from '@peridio-actions/action-common/logger';
import { setOutputs } from '@peridio-actions/action-common/summary';
import { readInputs } from './inputs.js';

export async function run(): Promise<void> {
  const inputs = readInputs();
  const api = await connect(inputs.api, {
    action: 'verify-update',
    logger,
    probe: (c) => c.releases.listDevices({ limit: 1 }),
  });
  const result = await verifyUpdate({ ...inputs, api, logger });
  const { check } = result;
  setOutputs({
    status: check.status,
    'source-type': check.source_type ?? '',
    'bundle-prn': check.bundle_prn ?? '',
    verified: result.items.length,
  });
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  const s = core.summary.addHeading(
    `Device ${result.device.identifier}: ${check.status}${check.bundle_prn ? ` → ${check.bundle_prn}` : ''}`,
    3,
  );
  if (result.items.length > 0) {
    s.addTable([
      [
        { data: 'Target', header: true },
        { data: 'Binary', header: true },
        { data: 'Size', header: true },
        { data: 'SHA-256', header: true },
        { data: 'Trusted signers', header: true },
      ],
      ...result.items.map((i) => [
        i.target,
        i.binary_prn,
        String(i.size),
        i.sha256,
        i.trustedSigners.join(', '),
      ]),
    ]);
  }
  if (result.recheck)
    s.addRaw(`Reported as installed; the next check answers <code>${result.recheck.status}</code>.`, true);
  await s.write();
}
