/**
 * The CI templates of examples/, run word for word against the registry process: the script lines of
 * examples/.gitlab-ci.yml (the version job, then the publish matrix with its TARGETs in parallel, as
 * GitLab runs them) and the `sh` steps of examples/Jenkinsfile. Only the CLI download (before_script)
 * and the user's own `make` are left out: the bundled CLI is on PATH instead.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runShell } from '../helpers/run-cli.js';
import {
  downloadSha256,
  getBinary,
  signatureVerifies,
  startScene,
  writeTestFile,
  type Scene,
} from './scene.js';

const root = new URL('../..', import.meta.url).pathname;

interface GitLabJob {
  extends?: string;
  script: string[];
  before_script?: string[];
  parallel?: { matrix: Record<string, string[]>[] };
}

let scene: Scene;
let env: Record<string, string>;

beforeAll(async () => {
  scene = await startScene();
  env = {
    PERIDIO_BASE_URL: scene.registry.baseUrl,
    PERIDIO_API_KEY: scene.registry.apiKey,
    PERIDIO_SIGNING_KEY_PRN: scene.key.prn,
  };
});
afterAll(() => scene?.stop());

it('examples/.gitlab-ci.yml: the version job, twice, then the publish matrix in parallel → every target signed', async () => {
  const ci = parse(readFileSync(join(root, 'examples', '.gitlab-ci.yml'), 'utf8')) as Record<
    string,
    GitLabJob
  > & {
    variables: Record<string, string>;
  };
  // What the test leaves out is only the download of the CLI.
  expect(ci['.peridio-cli']!.before_script!.join('\n')).toMatch(/curl -fsSL "\$PERIDIO_CLI_URL"/);
  expect(ci.version!.extends).toBe('.peridio-cli');
  expect(ci.publish!.extends).toBe('.peridio-cli');
  const jobEnv = {
    ...env,
    ARTIFACT_NAME: ci.variables.ARTIFACT_NAME!,
    CI_COMMIT_TAG: 'v1.4.0',
    PERIDIO_SIGNING_KEY_B64: Buffer.from(scene.key.privatePem).toString('base64'),
  };

  const versionPrns: string[] = [];
  for (let run = 0; run < 2; run++) {
    const dir = mkdtempSync(join(tmpdir(), 'gitlab-version-'));
    const job = await runShell(ci.version!.script.join('\n'), { env: jobEnv, cwd: dir });
    expect(job.code, job.stderr).toBe(0);
    versionPrns.push(/^VERSION_PRN=(\S+)$/m.exec(readFileSync(join(dir, 'version.env'), 'utf8'))![1]!);
  }
  // The re-run found what the first run created.
  expect(versionPrns[0]).toMatch(/^prn:1:[^:]+:artifact_version:/);
  expect(versionPrns[1]).toBe(versionPrns[0]);

  const targets = ci.publish!.parallel!.matrix[0]!.TARGET!;
  expect(targets.length).toBeGreaterThanOrEqual(3);
  const jobs = await Promise.all(
    targets.map(async (target, i) => {
      const dir = mkdtempSync(join(tmpdir(), `gitlab-publish-${target}-`));
      mkdirSync(join(dir, 'build', target), { recursive: true });
      const file = await writeTestFile(
        join(dir, 'build', target),
        'firmware.img',
        5_242_880 + 1000 * (i + 1),
      );
      const job = await runShell(ci.publish!.script.join('\n'), {
        env: { ...jobEnv, TARGET: target, VERSION_PRN: versionPrns[0]! },
        cwd: dir,
        timeoutMs: 120_000,
      });
      return { target, file, job };
    }),
  );
  for (const { target, file, job } of jobs) {
    expect(job.code, job.stderr).toBe(0);
    const prn = /^Published (\S+)$/m.exec(job.stdout)![1]!;
    expect(job.stdout).toMatch(new RegExp(`^${prn}\\s+${target}\\s+signed\\s+${file.size}\\s`, 'm'));
    const record = await getBinary(scene, prn);
    expect(record).toMatchObject({ state: 'signed', target, hash: file.sha256 });
    expect(signatureVerifies(file.sha256, record.signatures![0]!.signature, scene.key.publicPem)).toBe(true);
    expect(await downloadSha256(scene, prn)).toBe(file.sha256);
    // The key never shows in the job log.
    expect(job.stdout + job.stderr).not.toContain(jobEnv.PERIDIO_SIGNING_KEY_B64);
  }
});

it('examples/Jenkinsfile: its sh steps publish a target signed', async () => {
  const jenkinsfile = readFileSync(join(root, 'examples', 'Jenkinsfile'), 'utf8');
  // Groovy '''…''' and '…' strings: `\\` is one backslash, nothing is interpolated.
  const steps = [...jenkinsfile.matchAll(/sh '''([\s\S]*?)'''|sh '([^'\n]*)'/g)].map((m) =>
    (m[1] ?? m[2]!).replace(/\\\\/g, '\\'),
  );
  const own = steps.filter((s) => !/^\s*make /.test(s));
  expect(own).toHaveLength(3);
  const dir = mkdtempSync(join(tmpdir(), 'jenkins-'));
  const target = 'x86_64-linux-gnu';
  mkdirSync(join(dir, 'build', target), { recursive: true });
  const file = await writeTestFile(join(dir, 'build', target), 'firmware.img', 2_000_000);
  const keyFile = join(dir, 'signing-key.pem');
  writeFileSync(keyFile, scene.key.privatePem);
  const jobEnv = {
    ...env,
    ARTIFACT_NAME: /ARTIFACT_NAME = '([^']+)'/.exec(jenkinsfile)![1]!,
    TAG_NAME: 'v2.0.0',
    TARGET: target,
    KEY_FILE: keyFile,
    SIGNING_KEY_PRN: scene.key.prn,
  };
  let output = '';
  for (const step of own) {
    const run = await runShell(step, { env: jobEnv, cwd: dir, timeoutMs: 120_000 });
    expect(run.code, run.stderr).toBe(0);
    output += run.stdout;
  }
  const prn = readFileSync(join(dir, `binary-prn-${target}`), 'utf8').trim();
  expect(output).toMatch(new RegExp(`^${prn}\\s+${target}\\s+signed\\s+${file.size}\\s`, 'm'));
  expect((await getBinary(scene, prn)).hash).toBe(file.sha256);
});
