import { describe, expect, it } from 'vitest';
import { ApiError, ConflictError, InputError, NetworkError, TimeoutError, UserError } from '../src/errors.js';
import { memoryLogger } from '../src/logger.js';
import {
  DEFAULT_RETRY_POLICY,
  backoffDelay,
  isRetryable,
  parseRetryAfter,
  withRetry,
  type RetryPolicy,
} from '../src/retry.js';

const api = (status: number, retryAfterMs?: number): ApiError =>
  new ApiError(status, 'PUT', '/binaries/x/parts/1', 'boom', {}, retryAfterMs);

/** Deterministic PRNG (mulberry32) so jitter tests are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A clock that only moves when the fake sleep is called, recording each sleep. */
function fakeClock(start = 1_000_000): {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  sleeps: number[];
} {
  let t = start;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
    sleeps,
  };
}

describe('isRetryable', () => {
  it.each([
    [408, true],
    [425, true],
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [504, true],
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [409, false],
    [410, false],
    [413, false],
    [422, false],
    [501, false],
    [505, false],
  ])('HTTP %i → %s', (status, expected) => {
    expect(isRetryable(api(status))).toBe(expected);
  });

  it.each(['ECONNRESET', 'ETIMEDOUT', 'ECONNREFUSED', 'EPIPE', 'UND_ERR_SOCKET', undefined])(
    'NetworkError %s is retryable',
    (code) => {
      expect(isRetryable(new NetworkError('socket hang up', code))).toBe(true);
    },
  );

  it('a stall TimeoutError is retryable', () => {
    expect(isRetryable(new TimeoutError('part 3 stalled for 60 s'))).toBe(true);
  });

  it.each([
    ['InputError', new InputError('file', 'missing')],
    ['ConflictError', new ConflictError('already signed')],
    ['UserError', new UserError('bad key')],
    ['plain Error', new Error('bug')],
    ['TypeError', new TypeError('undefined is not a function')],
    ['a string', 'ECONNRESET'],
    ['undefined', undefined],
  ])('%s is never retried', (_name, err) => {
    expect(isRetryable(err)).toBe(false);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
  it.each([
    ['120', 120_000],
    ['0', 0],
    [' 5 ', 5_000],
    ['Wed, 21 Oct 2015 07:28:30 GMT', 30_000],
    ['Wed, 21 Oct 2015 07:27:00 GMT', 0],
    ['', undefined],
    [null, undefined],
    [undefined, undefined],
    ['soon', undefined],
    ['-5', undefined],
    ['1.5', undefined],
  ])('%j → %j', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe('backoffDelay', () => {
  const policy: RetryPolicy = { maxAttempts: 20, baseDelayMs: 100, maxDelayMs: 5_000, deadlineMs: 60_000 };

  it('stays within [0, min(max, base·2^(n-1))] over many seeded samples and spreads over the range', () => {
    const random = seeded(42);
    for (let attempt = 1; attempt <= 10; attempt++) {
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const samples = Array.from({ length: 2_000 }, () => backoffDelay(attempt, policy, random));
      expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...samples)).toBeLessThanOrEqual(ceiling);
      // Full jitter: samples cover both ends, and the mean sits near the middle.
      expect(Math.min(...samples)).toBeLessThan(ceiling * 0.05);
      expect(Math.max(...samples)).toBeGreaterThan(ceiling * 0.95);
      const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
      expect(mean / ceiling).toBeGreaterThan(0.45);
      expect(mean / ceiling).toBeLessThan(0.55);
    }
  });

  it('reaches exactly the ceiling for random() just below 1, and 0 for 0', () => {
    expect(backoffDelay(3, policy, () => 0.999_999_9)).toBe(400);
    expect(backoffDelay(30, policy, () => 0.999_999_9)).toBe(5_000);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
  });
});

describe('withRetry', () => {
  it('returns the first success and passes the attempt number', async () => {
    const clock = fakeClock();
    const seen: number[] = [];
    const result = await withRetry(
      async (attempt) => {
        seen.push(attempt);
        if (attempt < 3) throw new NetworkError('reset', 'ECONNRESET');
        return 'ok';
      },
      { label: 'GET x', sleep: clock.sleep, now: clock.now, random: seeded(1) },
    );
    expect(result).toBe('ok');
    expect(seen).toEqual([1, 2, 3]);
    expect(clock.sleeps).toHaveLength(2);
  });

  it('does not retry a non-retryable error', async () => {
    const clock = fakeClock();
    let calls = 0;
    const err = new InputError('file', 'missing');
    await expect(
      withRetry(
        async () => {
          calls++;
          throw err;
        },
        { label: 'x', sleep: clock.sleep, now: clock.now },
      ),
    ).rejects.toBe(err);
    expect(calls).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const clock = fakeClock();
    let calls = 0;
    const failure = withRetry(
      async () => {
        calls++;
        throw api(503);
      },
      { label: 'x', policy: { maxAttempts: 4 }, sleep: clock.sleep, now: clock.now, random: seeded(2) },
    );
    await expect(failure).rejects.toMatchObject({ status: 503 });
    expect(calls).toBe(4);
  });

  it('never sleeps past the deadline', async () => {
    const random = seeded(7);
    for (let run = 0; run < 50; run++) {
      const clock = fakeClock();
      const start = clock.now();
      const policy = { maxAttempts: 100, baseDelayMs: 300, maxDelayMs: 4_000, deadlineMs: 10_000 };
      await expect(
        withRetry(
          async () => {
            throw new NetworkError('refused', 'ECONNREFUSED');
          },
          { label: 'x', policy, sleep: clock.sleep, now: clock.now, random },
        ),
      ).rejects.toBeInstanceOf(NetworkError);
      expect(clock.now() - start).toBeLessThanOrEqual(policy.deadlineMs);
      expect(clock.sleeps.length).toBeGreaterThan(2);
    }
  });

  it('waits at least Retry-After, even beyond the jitter ceiling', async () => {
    const clock = fakeClock();
    let calls = 0;
    await withRetry(
      async () => {
        if (++calls === 1) throw api(429, 7_000);
        return 'ok';
      },
      { label: 'x', policy: { baseDelayMs: 10, maxDelayMs: 100 }, sleep: clock.sleep, now: clock.now },
    );
    expect(clock.sleeps).toEqual([7_000]);
  });

  it('honours a Retry-After given as an HTTP date', async () => {
    const clock = fakeClock(Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'));
    const retryAfterMs = parseRetryAfter('Wed, 21 Oct 2015 07:28:12 GMT', clock.now());
    let calls = 0;
    await withRetry(
      async () => {
        if (++calls === 1) throw api(503, retryAfterMs);
        return 'ok';
      },
      { label: 'x', policy: { baseDelayMs: 10, maxDelayMs: 100 }, sleep: clock.sleep, now: clock.now },
    );
    expect(clock.sleeps).toEqual([12_000]);
  });

  it('gives up at once when Retry-After lies beyond the deadline', async () => {
    const clock = fakeClock();
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw api(429, 120_000);
        },
        { label: 'x', policy: { deadlineMs: 60_000 }, sleep: clock.sleep, now: clock.now },
      ),
    ).rejects.toMatchObject({ status: 429 });
    expect(calls).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('stops immediately when aborted during a real sleep', async () => {
    const controller = new AbortController();
    let calls = 0;
    const started = Date.now();
    const promise = withRetry(
      async () => {
        calls++;
        throw new NetworkError('reset', 'ECONNRESET');
      },
      {
        label: 'x',
        policy: { baseDelayMs: 60_000, maxDelayMs: 60_000 },
        signal: controller.signal,
        random: () => 0.9,
      },
    );
    setTimeout(() => controller.abort(new Error('cancelled by user')), 20);
    await expect(promise).rejects.toThrow('cancelled by user');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(calls).toBe(1);
  });

  it('does not start when already aborted, and does not retry after an abort during the attempt', async () => {
    let calls = 0;
    const aborted = AbortSignal.abort(new Error('gone'));
    await expect(withRetry(async () => ++calls, { label: 'x', signal: aborted })).rejects.toThrow('gone');
    expect(calls).toBe(0);

    const controller = new AbortController();
    const clock = fakeClock();
    await expect(
      withRetry(
        async () => {
          calls++;
          controller.abort(new Error('stop'));
          throw new NetworkError('reset', 'ECONNRESET');
        },
        { label: 'x', signal: controller.signal, sleep: clock.sleep, now: clock.now },
      ),
    ).rejects.toThrow('stop');
    expect(calls).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('logs each failed attempt at debug with label, count and delay', async () => {
    const clock = fakeClock();
    const logger = memoryLogger();
    let calls = 0;
    await withRetry(
      async () => {
        if (++calls < 3) throw new NetworkError(`reset #${calls}`, 'ECONNRESET');
        return 'ok';
      },
      { label: 'PUT part 2', logger, sleep: clock.sleep, now: clock.now, random: seeded(3) },
    );
    expect(logger.lines).toEqual([
      {
        level: 'debug',
        message: `PUT part 2: attempt 1/8 failed: reset #1; retrying in ${clock.sleeps[0]} ms`,
      },
      {
        level: 'debug',
        message: `PUT part 2: attempt 2/8 failed: reset #2; retrying in ${clock.sleeps[1]} ms`,
      },
    ]);
  });

  it('uses a custom shouldRetry', async () => {
    const clock = fakeClock();
    let calls = 0;
    const result = await withRetry(
      async () => {
        if (++calls < 2) throw new Error('custom transient');
        return calls;
      },
      {
        label: 'x',
        shouldRetry: (e) => (e as Error).message === 'custom transient',
        sleep: clock.sleep,
        now: clock.now,
      },
    );
    expect(result).toBe(2);
  });

  it('has sane defaults', () => {
    expect(DEFAULT_RETRY_POLICY).toEqual({
      maxAttempts: 8,
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      deadlineMs: 600_000,
    });
  });
});
