/**
 * The second half of `npm start`: from the tag's signed binaries to what a device receives. Three targets
 * published at once (as a matrix would), the fan-in bundle and a release to a cohort at 10 %, a test
 * device's check (every binary downloaded and verified against our own public key), the promotion to
 * 100 %, and what any device of the cohort now gets. Every step is a bundled action run as a runner runs it.
 */
import { readFileSync } from 'node:fs';
import type { RegistryProcess } from '../test/helpers/registry-process.js';
import { errorAnnotations, runAction, type ActionName, type ActionRun } from '../test/helpers/run-action.js';
import { runnerLog } from './runner-log.js';

export const RELEASE_TARGETS = ['aarch64-linux-gnu', 'armv7-linux-gnueabihf', 'x86_64-linux-gnu'];

export interface ReleaseStoryInput {
  registry: RegistryProcess;
  tag: string;
  privatePath: string;
  publicPath: string;
  /** Publishes one target (a matrix job); resolves with its outputs. */
  publish(target: string): Promise<ActionRun>;
  step(title: string): void;
}

async function action(name: ActionName, inputs: Record<string, string>, tag: string): Promise<ActionRun> {
  // The log as the runner shows it: secrets as ***, no workflow commands, annotations by level.
  const log = runnerLog((text) => process.stdout.write(`  ${text}`));
  const run = await runAction(name, inputs, {
    env: { GITHUB_REF: `refs/tags/${tag}`, GITHUB_REF_NAME: tag },
    timeoutMs: 120_000,
    onStdout: (chunk) => log.write(chunk),
  });
  log.end();
  if (run.code !== 0) throw new Error(`${name} failed: ${errorAnnotations(run).join('; ') || run.stderr}`);
  return run;
}

export async function releaseStory(s: ReleaseStoryInput): Promise<string> {
  const api = { 'api-key': s.registry.apiKey, 'base-url': s.registry.baseUrl };
  s.step(`Matrix: publishing ${RELEASE_TARGETS.join(', ')} at once (publish-binary, one job each)`);
  const published = await Promise.all(RELEASE_TARGETS.map((t) => s.publish(t)));
  for (const [i, run] of published.entries())
    console.log(`  ${RELEASE_TARGETS[i]}: ${run.outputs['binary-prn']} ${run.outputs.state}`);

  s.step('Fan-in job: create-bundle (expect-targets = the matrix list)');
  const bundle = await action(
    'create-bundle',
    { ...api, artifact: 'demo-firmware', 'expect-targets': RELEASE_TARGETS.join('\n') },
    s.tag,
  );
  console.log(
    `  bundle-prn = ${bundle.outputs['bundle-prn']}\n  bundle-hash = ${bundle.outputs['bundle-hash']}`,
  );

  s.step(
    'Fan-in job: create-release to cohort "production" of product "demo-gateway" at phase-value 0.1 (10 %)',
  );
  const release = await action(
    'create-release',
    {
      ...api,
      'bundle-prn': bundle.outputs['bundle-prn']!,
      cohort: 'production',
      product: 'demo-gateway',
      'phase-value': '0.1',
    },
    s.tag,
  );
  console.log(
    `  release-prn = ${release.outputs['release-prn']}  phase-value = ${release.outputs['phase-value']}`,
  );

  const trusted = readFileSync(s.publicPath, 'utf8');
  const verify = (device: string, write: boolean) =>
    action(
      'verify-update',
      {
        ...api,
        device,
        'create-device': 'true',
        cohort: release.outputs['cohort-prn']!,
        'release-version': '0.9.0',
        'expect-bundle-prn': bundle.outputs['bundle-prn']!,
        'expect-targets': RELEASE_TARGETS.join('\n'),
        'trusted-signing-keys': trusted,
        write: String(write),
      },
      s.tag,
    );
  s.step(
    'Verify job: verify-update on test device "ci-device-1" (reports 0.9.0; trusted key = our public.pem)',
  );
  const checked = await verify('ci-device-1', true);
  console.log(`  status = ${checked.outputs.status}  verified = ${checked.outputs.verified} binaries`);

  s.step('Canary job (after approval): promote-release to phase-value 1 (every device)');
  const promoted = await action(
    'promote-release',
    { ...api, 'release-prn': release.outputs['release-prn']!, 'phase-value': '1' },
    s.tag,
  );
  console.log(`  phase-value = ${promoted.outputs['phase-value']}  changed = ${promoted.outputs.changed}`);

  s.step('What a device of the cohort gets now (a new device "field-device-7" on 0.9.0)');
  const field = await verify('field-device-7', false);
  return `A device in cohort production reporting 0.9.0 now receives release ${s.tag} (${release.outputs['release-prn']}): bundle ${field.outputs['bundle-prn']}, ${field.outputs.verified} binaries, each verified against public.pem`;
}
