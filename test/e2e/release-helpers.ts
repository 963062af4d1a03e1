/**
 * What the release e2e tests share: a registry process with signed binaries published as a matrix would
 * (publish-binary once per target, all at once), and the inputs every release action takes.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { expect } from 'vitest';
import { errorAnnotations, runAction, type ActionName, type ActionRun } from '../helpers/run-action.js';
import { publishInputs, startScene, writeTestFile, type Scene, type TestFile } from './scene.js';

export const TARGETS = ['aarch64-linux-gnu', 'armv7-linux-gnueabihf', 'x86_64-linux-gnu'];

export function apiInputs(scene: Scene): Record<string, string> {
  return { 'api-key': scene.registry.apiKey, 'base-url': scene.registry.baseUrl };
}

export async function publishMatrix(
  scene: Scene,
  options: { artifact?: string; tag?: string; targets?: string[]; size?: number } = {},
): Promise<Map<string, { run: ActionRun; file: TestFile }>> {
  const tag = options.tag ?? 'v1.0.0';
  const dir = join(scene.dir, `${options.artifact ?? 'firmware'}-${tag}`);
  mkdirSync(dir, { recursive: true });
  const out = new Map<string, { run: ActionRun; file: TestFile }>();
  await Promise.all(
    (options.targets ?? TARGETS).map(async (target) => {
      const file = await writeTestFile(dir, `${target}.img`, options.size ?? 64 * 1024);
      const run = await runAction(
        'publish-binary',
        publishInputs(scene, file, { target, artifact: options.artifact ?? 'firmware' }),
        { env: { GITHUB_REF: `refs/tags/${tag}`, GITHUB_REF_NAME: tag } },
      );
      expect(run.code, run.stdout + run.stderr).toBe(0);
      out.set(target, { run, file });
    }),
  );
  return out;
}

export async function step(
  name: ActionName,
  inputs: Record<string, string>,
  tag = 'v1.0.0',
  options: { env?: Record<string, string> } = {},
): Promise<ActionRun> {
  return runAction(name, inputs, {
    env: {
      GITHUB_REF: `refs/tags/${tag}`,
      GITHUB_REF_NAME: tag,
      GITHUB_JOB: 'bundle-and-release',
      ...options.env,
    },
    timeoutMs: 120_000,
  });
}

export function expectSuccess(run: ActionRun): void {
  expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
}

/** The step failed with exactly one error annotation, which contains every given text. */
export function expectOneAnnotation(run: ActionRun, ...texts: string[]): string {
  expect(run.code, run.stdout).not.toBe(0);
  const annotations = errorAnnotations(run);
  expect(annotations, run.stdout).toHaveLength(1);
  for (const t of texts) expect(annotations[0]).toContain(t);
  return annotations[0]!;
}

export { startScene, type Scene };
