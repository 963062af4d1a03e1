import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRegistry, type TestRegistry } from '../support.js';

const DOC = new URL('../../../../docs/release-management.md', import.meta.url);

/** The shell block of docs/release-management.md between the walk markers, exactly as a reader copies it. */
function walkScript(): string {
  const text = readFileSync(DOC, 'utf8');
  const m = /<!-- walk:start -->\n```sh\n([\s\S]*?)```\n<!-- walk:end -->/.exec(text);
  if (!m) throw new Error('walk block not found in docs/release-management.md');
  return m[1]!;
}

describe('docs/release-management.md walk-through', () => {
  let t: TestRegistry;
  let dir: string;
  beforeAll(async () => {
    t = await startTestRegistry();
    dir = mkdtempSync(join(tmpdir(), 'doc-walk-'));
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs in sh with curl, openssl and xxd and prints what the doc says', async () => {
    const { stdout } = await promisify(execFile)('sh', ['-c', `set -eu\n${walkScript()}`], {
      cwd: dir,
      env: { ...process.env, BASE: t.baseUrl, API_KEY: t.apiKey },
      timeout: 120_000,
    });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe('"status":"update"');
    expect(lines.filter((l) => /^item \d: sha256 matches$/.test(l))).toHaveLength(2);
    expect(lines.filter((l) => l === 'Signature Verified Successfully')).toHaveLength(2);
    expect(lines).toContain('bytes are the uploaded ones, in bundle order');
    expect(lines.some((l) => /^"reported_release_prn":"prn:1:[^"]+:release:[^"]+"$/.test(l))).toBe(true);
    expect(lines).toContain('"status":"no_update"');
    expect(lines.map((l) => l.trim())).toEqual(
      expect.arrayContaining(['3 "status":"update"', '7 "status":"no_update"']),
    );
    expect(lines[lines.length - 2]!.trim()).toBe('3');
    expect(lines[lines.length - 1]).toBe('"source_type":"bundle_override"');
  }, 150_000);
});
