/** Hints for mistakes whose cause is outside the workflow file. */

/**
 * A secret that arrives empty is rarely unset: GitHub withholds secrets from pull requests of forks, from
 * Dependabot runs, and environment secrets from jobs whose `environment:` does not match or allow the ref.
 */
export const EMPTY_SECRET_HINT = (secret: string) =>
  `Pass it from a secret, e.g. \${{ secrets.${secret} }}. If you do, the secret did not reach this job: ` +
  `secrets are withheld from pull requests from forks and from Dependabot, and an environment secret only ` +
  `reaches a job that names the environment (\`environment:\`) on a branch or tag the environment allows.`;
