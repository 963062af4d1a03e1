import { runCli } from './cli.js';

const controller = new AbortController();
// Ctrl-C stops the upload; what was sent stays on the registry and a re-run resumes from it.
process.once('SIGINT', () => controller.abort());
process.once('SIGTERM', () => controller.abort());

runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`error: ${(err as Error)?.message ?? err}\n`);
    process.exitCode = 1;
  },
);
