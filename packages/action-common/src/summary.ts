/** The job summary: one table per action with everything a release manager looks up afterwards. */
import * as core from '@actions/core';

export type SummaryRow = [label: string, value: string | undefined];

export async function writeSummary(title: string, rows: SummaryRow[]): Promise<void> {
  // Outside a runner (no summary file) there is nowhere to write; the log has the same facts.
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  const table = rows
    .filter((row): row is [string, string] => row[1] !== undefined && row[1] !== '')
    .map(([label, value]) => [
      { data: escapeHtml(label), header: true },
      `<code>${escapeHtml(value)}</code>`,
    ]);
  await core.summary.addHeading(escapeHtml(title), 3).addTable(table).write();
}

export function setOutputs(outputs: Record<string, string | number | boolean>): void {
  for (const [name, value] of Object.entries(outputs)) core.setOutput(name, String(value));
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
