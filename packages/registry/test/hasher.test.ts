/**
 * The hasher's guard against stale results: a binary reset while its content was being read must not get
 * the verdict of the old content (hasher.ts, "the binary may have been reset while we read").
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createBinary,
  sha256,
  startTestRegistry,
  uploadParts,
  waitForState,
  type TestRegistry,
} from './support.js';

let t: TestRegistry | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('hasher', () => {
  it('drops the result of a read the binary was reset during: new, wrong content is not published', async () => {
    t = await startTestRegistry();
    const good = Buffer.alloc(4096, 1);
    const binary = await createBinary(t, good, 'reset-during-read');
    await uploadParts(t, binary.prn, good);

    // Hold the first read's verdict (computed from the good content) until the binary has moved on.
    const prefixes = t.registry.hasher.prefixes;
    const original = prefixes.digestOf.bind(prefixes);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const reading = new Promise<void>((resolve) => (entered = resolve));
    let calls = 0;
    prefixes.digestOf = async (...args) => {
      const result = await original(...args);
      if (calls++ === 0) {
        entered();
        await gate;
      }
      return result;
    };

    await t.api('PATCH', `/binaries/${binary.prn}`, { state: 'hashable' });
    await t.api('PATCH', `/binaries/${binary.prn}`, { state: 'hashing' });
    await reading;

    // Reset, upload other bytes of the same size, and ask for the check again, all during that read.
    expect((await t.api('PATCH', `/binaries/${binary.prn}`, { state: 'uploadable' })).status).toBe(200);
    const wrong = Buffer.alloc(4096, 2);
    expect((await uploadParts(t, binary.prn, wrong, 5_242_880, good.length))[0]!.status).toBe(200);
    await t.api('PATCH', `/binaries/${binary.prn}`, { state: 'hashable' });
    await t.api('PATCH', `/binaries/${binary.prn}`, { state: 'hashing' });

    release();
    const after = await waitForState(t, binary.prn, ['uploadable', 'signable']);
    expect(after.state).toBe('uploadable');
    expect(after.hash_error).toBe(
      `server-side hash check failed: the content's SHA-256 is ${sha256(wrong)}, the binary's hash is ${sha256(good)}`,
    );
    expect(t.logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(t.logger.lines.some((l) => l.message.includes('content verified'))).toBe(false);
  });
});
