/** The job summary of a failed step: what it got through, why it stopped, and what a re-run does. */
import * as core from '@actions/core';
import { InputError, InputErrors } from '@peridio-actions/core';
import { phasesEntered } from './journal.js';

export async function writeFailureSummary(action: string, message: string, err: unknown): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  if (core.getInput('summary').trim().toLowerCase() === 'false') return;
  const inputMistake = err instanceof InputError || err instanceof InputErrors;
  const phases = phasesEntered();
  const done =
    phases.length === 0
      ? 'Nothing was sent to the registry.'
      : `Phases started: ${phases.map((p) => escapeHtml(p)).join(' → ')}.`;
  const next = inputMistake
    ? 'Fix the input(s) above and re-run: nothing was created.'
    : 'A re-run of this job continues from what the registry holds: parts already uploaded are not sent ' +
      'again, a verified binary is not uploaded again, and a signed one is not signed again.';
  await core.summary
    .addHeading(`${escapeHtml(action)} failed`, 3)
    .addCodeBlock(message)
    .addRaw(`<p>${done}</p><p>${next}</p>`)
    .write();
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
