/**
 * The `outcome` and `result` outputs, and the summary a step writes (or skips, `summary: false`). One
 * word for what the run did, so a workflow can branch on it without comparing PRNs across runs.
 */
import type { EnsuredArtifactVersion, SignBinaryResult, UploadBinaryResult } from '@peridio-actions/core';
import { setOutputs, writeSummary, type SummaryRow } from './summary.js';

export type Outcome = 'created' | 'resumed' | 'unchanged' | 'kept-existing' | 'dry-run';

export function versionOutcome(result: EnsuredArtifactVersion): Outcome {
  return result.created || result.artifactCreated ? 'created' : 'unchanged';
}

export function uploadOutcome(result: UploadBinaryResult): Outcome {
  if (result.outcome === 'kept-existing') return 'kept-existing';
  if (result.outcome === 'created' || result.outcome === 'reset') return 'created';
  return result.initialState === 'signable' || result.initialState === 'signed' ? 'unchanged' : 'resumed';
}

export function signOutcome(result: SignBinaryResult): Outcome {
  if (result.alreadySigned) return 'unchanged';
  return result.resumed ? 'resumed' : 'created';
}

/** publish-binary: the upload decides, except that a run which only had to sign resumed an earlier one. */
export function publishOutcome(upload: UploadBinaryResult, sign: SignBinaryResult): Outcome {
  const uploaded = uploadOutcome(upload);
  if (uploaded === 'kept-existing' || uploaded === 'created') return uploaded;
  return uploaded === 'unchanged' && signOutcome(sign) === 'unchanged' ? 'unchanged' : 'resumed';
}

/** Sets every output, plus `outcome` and `result` (all of them as one JSON object), and the summary. */
export async function finish(
  outputs: Record<string, string | number | boolean>,
  outcome: Outcome,
  summary: { enabled: boolean; title: string; rows: SummaryRow[] },
): Promise<void> {
  const all = { ...outputs, outcome };
  setOutputs({ ...all, result: JSON.stringify(all) });
  if (summary.enabled) await writeSummary(summary.title, [['Outcome', outcome], ...summary.rows]);
}
