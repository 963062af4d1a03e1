import { describe, expect, it } from 'vitest';
import { memoryLogger, TimeoutError, waitWhileHashing, type Binary } from '../../src/index.js';

/** A registry whose check takes `hashingMs` of fake time; sleeping advances the clock. */
function fakeRegistry(hashingMs: number) {
  let t = 0;
  const binary = (state: Binary['state']) => ({ prn: 'prn:1:o:binary:b', state }) as Binary;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
    api: { getBinary: async () => binary(t >= hashingMs ? 'signable' : 'hashing') },
  };
}

describe('waiting for the registry hash check', () => {
  it('says when it starts waiting and then every 10 s how long so far and until the deadline', async () => {
    const logger = memoryLogger();
    const fake = fakeRegistry(35_000);
    await waitWhileHashing({ ...fake, binaryPrn: 'prn:1:o:binary:b', timeoutMs: 60_000, logger });
    const lines = logger.lines.map((l) => l.message);
    expect(lines[0]).toBe("Waiting for the registry's hash check (deadline 1 min 0 s, hashing-timeout)");
    const progress = lines.filter((line) => line.includes('elapsed'));
    // Polls back off to one every 10 s, so a line comes 10 to 20 s after the last one.
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[0]).toMatch(
      /^Waiting for the registry's hash check: 1\d\.\d s elapsed, deadline in [45]\d\.\d s \(hashing-timeout 1 min 0 s\)$/,
    );
    expect(lines.at(-1)).toMatch(/^The registry verified the content in [34]\d\.\d s: state signable$/);
  });

  it('still stops at the deadline', async () => {
    const fake = fakeRegistry(Infinity);
    await expect(
      waitWhileHashing({ ...fake, binaryPrn: 'prn:1:o:binary:b', timeoutMs: 20_000 }),
    ).rejects.toBeInstanceOf(TimeoutError);
  });
});
