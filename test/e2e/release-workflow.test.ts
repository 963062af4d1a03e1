/**
 * The example workflows' release jobs, step for step: each `uses: ./packages/<action>` step of
 * example-release.yml's `bundle-and-release` and `verify` jobs, and of example-canary.yml's `promote` job,
 * runs as the bundled action with the `with:` inputs written in the YAML, its `${{ … }}` expressions
 * resolved the way the runner would from the jobs before it. Only `base-url` is added (the registry under
 * test instead of Peridio's cloud).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runAction, type ActionName, type ActionRun } from '../helpers/run-action.js';
import { expectSuccess, startScene, type Scene } from './release-helpers.js';
import { publishInputs, writeTestFile } from './scene.js';

interface Step {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string>;
}
interface Job {
  steps: Step[];
  outputs?: Record<string, string>;
  strategy?: { matrix: Record<string, string> };
}
const root = new URL('../..', import.meta.url).pathname;
const workflow = (file: string) =>
  parse(readFileSync(join(root, '.github/workflows', file), 'utf8')) as { jobs: Record<string, Job> };
const release = workflow('example-release.yml');
const canary = workflow('example-canary.yml');

let scene: Scene;
let workspace: string;
const context: Record<string, string> = {};

/** `${{ a.b.c }}` → the value of that name in `context`; an unknown name fails the test. */
function resolve(value: string): string {
  return value.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, name: string) => {
    expect(context, `the test cannot resolve \${{ ${name} }}`).toHaveProperty([name]);
    return context[name]!;
  });
}

async function runJob(job: Job, prefix: string): Promise<Record<string, ActionRun>> {
  const runs: Record<string, ActionRun> = {};
  for (const s of job.steps) {
    if (!s.uses?.startsWith('./packages/')) continue;
    const name = s.uses.slice('./packages/'.length) as ActionName;
    const inputs = Object.fromEntries(Object.entries(s.with ?? {}).map(([k, v]) => [k, resolve(String(v))]));
    const run = await runAction(
      name,
      { ...inputs, 'base-url': scene.registry.baseUrl },
      {
        cwd: workspace,
        env: { GITHUB_REF: 'refs/tags/v1.0.0', GITHUB_REF_NAME: 'v1.0.0' },
        timeoutMs: 120_000,
      },
    );
    expectSuccess(run);
    runs[s.id ?? name] = run;
    if (s.id) for (const [k, v] of Object.entries(run.outputs)) context[`steps.${s.id}.outputs.${k}`] = v;
  }
  for (const [k, v] of Object.entries(job.outputs ?? {}))
    context[`needs.${prefix}.outputs.${k}`] = resolve(v);
  for (const key of Object.keys(context)) if (key.startsWith('steps.')) delete context[key];
  return runs;
}

beforeAll(async () => {
  scene = await startScene();
  workspace = join(scene.dir, 'workspace');
  mkdirSync(join(workspace, 'keys'), { recursive: true });
  // What the repository commits: the public key the verify job trusts.
  writeFileSync(join(workspace, 'keys/peridio-release.pem'), scene.key.publicPem);
  context['secrets.PERIDIO_API_KEY'] = scene.registry.apiKey;
  context['github.run_id'] = '4242';

  // The targets job's output, from its own `run:` line.
  const line = release.jobs.targets!.steps[0]!.run!;
  const list = /list=(\[.*\])/.exec(line)![1]!;
  context['needs.targets.outputs.list'] = list;
  // The matrix, as the publish job's steps give it: one publish-binary per target, all at once.
  const publish = release.jobs.publish!.steps.find((s) => s.id === 'publish')!;
  expect(release.jobs.publish!.strategy!.matrix.target).toBe('${{ fromJSON(needs.targets.outputs.list) }}');
  await Promise.all(
    (JSON.parse(list) as string[]).map(async (target) => {
      const file = await writeTestFile(scene.dir, `${target}.img`, 32 * 1024);
      const run = await runAction(
        'publish-binary',
        publishInputs(scene, file, { artifact: publish.with!.artifact!, target }),
        {
          env: { GITHUB_REF: 'refs/tags/v1.0.0' },
        },
      );
      expectSuccess(run);
    }),
  );
}, 120_000);
afterAll(async () => {
  await scene?.stop();
});

it("example-release.yml's bundle-and-release job bundles all four targets and releases at 10 %", async () => {
  const runs = await runJob(release.jobs['bundle-and-release']!, 'bundle-and-release');
  expect(JSON.parse(runs.bundle!.outputs.binaries!)).toHaveLength(4);
  expect(runs.release!.outputs).toMatchObject({ created: 'true', 'phase-value': '0.1' });
  expect(context['needs.bundle-and-release.outputs.release-prn']).toBe(runs.release!.outputs['release-prn']);
});

it("example-release.yml's verify job verifies every binary against the repository's key file", async () => {
  const runs = await runJob(release.jobs.verify!, 'verify');
  expect(runs['verify-update']!.outputs).toMatchObject({
    status: 'update',
    'bundle-prn': context['needs.bundle-and-release.outputs.bundle-prn'],
    verified: '4',
  });
});

it("example-canary.yml's promote job promotes to the default phase 1 and a new device then gets the bundle", async () => {
  context['inputs.release-prn'] = context['needs.bundle-and-release.outputs.release-prn']!;
  context['inputs.phase-value'] = String(
    (
      parse(readFileSync(join(root, '.github/workflows/example-canary.yml'), 'utf8')) as {
        on: { workflow_dispatch: { inputs: Record<string, { default: string }> } };
      }
    ).on.workflow_dispatch.inputs['phase-value']!.default,
  );
  const runs = await runJob(canary.jobs.promote!, 'promote');
  expect(runs.promote!.outputs).toMatchObject({ 'phase-value': '1', changed: 'true' });
  expect(runs['verify-update']!.outputs).toMatchObject({ status: 'update', verified: '4' });
});
