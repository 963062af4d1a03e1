/**
 * The registry's command line as a new user meets it: an older Node says what it needs instead of a stack
 * trace, a start that cannot listen does not swallow the generated API key, runtime errors are not buried
 * under the usage text, and the usage names the command that works from a clone.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { registryBundle, startRegistry, type RegistryProcess } from '../helpers/registry-process.js';

const started: RegistryProcess[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((r) => r.kill('SIGKILL')));
});

/** A `node` older than 24 on this machine outside node_modules (the system Node a new user has), if any. */
function olderNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node', '/bin/node']) {
    if (!existsSync(candidate)) continue;
    const version = spawnSync(candidate, ['--version'], { encoding: 'utf8' }).stdout.trim();
    if (Number(/^v(\d+)/.exec(version)?.[1] ?? 99) < 24) return candidate;
  }
  return undefined;
}

describe('peridio-registry for a new user', () => {
  const node = olderNode();
  it.skipIf(node === undefined)('on Node < 24 says it needs Node 24, with no stack trace', () => {
    const bin = new URL('../../packages/registry/bin/peridio-registry.js', import.meta.url).pathname;
    for (const entry of [registryBundle, bin]) {
      const run = spawnSync(node!, [entry, 'serve', '--port', '0'], { encoding: 'utf8', timeout: 20_000 });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/^peridio-registry needs Node 24 or later \(found v\d+\.\d+\.\d+\)/);
      expect(run.stderr).not.toMatch(/ERR_UNKNOWN_BUILTIN_MODULE|\n\s+at /);
    }
  });

  it('--help names the command users run from a clone', () => {
    const out = execFileSync(process.execPath, [registryBundle, '--help'], { encoding: 'utf8' });
    expect(out).toMatch(/^Usage: npx peridio-registry serve/);
  });

  it('a start that cannot listen prints no usage, and the next start prints the generated key', async () => {
    const first = await startRegistry({ apiKey: 'first-registry-key' });
    started.push(first);
    const port = new URL(first.baseUrl).port;
    const dataDir = mkdtempSync(join(tmpdir(), 'peridio-registry-cli-'));

    const busy = spawnSync(
      process.execPath,
      [registryBundle, 'serve', '--port', port, '--data-dir', dataDir],
      { encoding: 'utf8', timeout: 20_000, env: { ...process.env, PERIDIO_REGISTRY_API_KEY: '' } },
    );
    expect(busy.status).toBe(1);
    expect(busy.stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+/);
    expect(busy.stderr).not.toContain('Usage');
    expect(busy.stdout).not.toContain('api key');

    const second = await startRegistry({ dataDir, env: { PERIDIO_REGISTRY_API_KEY: '' } });
    started.push(second);
    const { stdout } = second.output();
    expect(stdout).toMatch(
      new RegExp(`^peridio-registry api key: prk_\\S+ \\(stored in ${join(dataDir, 'api-key')}\\)$`, 'm'),
    );
    expect(second.apiKey).toMatch(/^prk_/);
  });
});
