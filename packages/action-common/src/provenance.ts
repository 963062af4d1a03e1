/** The run's provenance, from the runner's context, as plain data for core to record. */
import * as github from '@actions/github';
import type { Provenance } from '@peridio-actions/core';

export function provenanceFromContext(context: typeof github.context = github.context): Provenance {
  // context.repo throws without GITHUB_REPOSITORY (a local run); provenance is then simply absent.
  const repository = process.env.GITHUB_REPOSITORY ? `${context.repo.owner}/${context.repo.repo}` : undefined;
  const attempt = context.runAttempt > 1 ? `/attempts/${context.runAttempt}` : '';
  return {
    repository,
    commit: context.sha || undefined,
    ref: context.ref || undefined,
    workflowRunUrl:
      repository && context.runId
        ? `${context.serverUrl}/${repository}/actions/runs/${context.runId}${attempt}`
        : undefined,
  };
}

/** The repository and commit a kept signed binary must name (`if-signed-differs: keep-same-commit`). */
export function sameCommitOf(provenance: Provenance): { repository: string; commit: string } | undefined {
  return provenance.repository && provenance.commit
    ? { repository: provenance.repository, commit: provenance.commit }
    : undefined;
}
