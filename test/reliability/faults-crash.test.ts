/**
 * The registry process killed with SIGKILL and restarted on the same data dir, in the middle of a part
 * upload and while it verifies the content (`hashing`). Either the running action retries past the
 * outage, or (when the job dies too) a re-run resumes: parts the registry already holds as valid are
 * not sent again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MiB,
  PART_SIZE,
  api,
  bytesResent,
  expectPublished,
  findBinary,
  makeFile,
  partBytes,
  presignedPart,
  publish,
  reportMeasurement,
  startScene,
  type PublishRun,
  type Scene,
} from './faults-harness.js';

const LAST_PART = 11 * MiB - 2 * PART_SIZE;
// One part at a time, so "the middle of the upload" is a known point: part 1 stored, part 2 half sent.
const SEQUENTIAL = { concurrency: '1' };
const BINARY = /^\/binaries\/[^/?]+$/;

function failureText(run: PublishRun): string {
  return `${run.stdout}\n${run.stderr}`;
}

// Each test runs the action one to three times; generous under a loaded CI machine.
describe('registry killed (SIGKILL) and restarted on the same data dir', { timeout: 120_000 }, () => {
  let scene: Scene | undefined;
  afterEach(async () => {
    await scene?.close();
    scene = undefined;
  });

  it('in the middle of a part body: the running action retries past the outage; stored parts are not re-sent', async () => {
    scene = await startScene();
    const s = scene;
    const file = await makeFile(s.dir, 'crash-upload.bin');
    let restarted: Promise<unknown> | undefined;
    let downMs = 0;
    s.proxy.addRule({
      method: 'PUT',
      path: presignedPart(2),
      action: {
        kind: 'hold-mid-body',
        afterBytes: 1 * MiB,
        onHold: async () => {
          const killedAt = Date.now();
          await s.registry.kill('SIGKILL');
          restarted = sleep(500)
            .then(() => s.restartRegistry())
            .then(() => (downMs = Date.now() - killedAt));
        },
      },
    });
    const first = await publish(s, file, { target: 'crash-upload', inputs: SEQUENTIAL });
    await restarted;
    // The same run, not a re-run: the outage (about 0.5 s) is well inside the retry budget.
    expect(first.code, failureText(first)).toBe(0);
    expect(downMs).toBeGreaterThan(500);
    await expectPublished(s, 'crash-upload', file);
    const bytes = partBytes(s.proxy);
    expect(bytes[1]).toBe(PART_SIZE);
    expect(bytes[3]).toBe(LAST_PART);
    expect(bytes[2]).toBeGreaterThanOrEqual(PART_SIZE + 1 * MiB);
    expect(bytes[2]).toBeLessThan(PART_SIZE + 2 * MiB);
    reportMeasurement('registry SIGKILL mid part 2 body, restarted after 0.5 s', {
      ok: true,
      firstRunOk: first.code === 0,
      durationMs: first.durationMs,
      registryDownMs: downMs,
      bytesResent: Object.values(bytes).reduce((a, b) => a + b, 0) - file.size,
      partBytes: bytes,
    });
  });

  it('in the middle of a part body with the job killed too: the re-run skips the stored part', async () => {
    scene = await startScene();
    const s = scene;
    const file = await makeFile(s.dir, 'crash-both.bin');
    const job = new AbortController();
    s.proxy.addRule({
      method: 'PUT',
      path: presignedPart(2),
      action: {
        kind: 'hold-mid-body',
        afterBytes: 1 * MiB,
        onHold: async () => {
          job.abort();
          await s.registry.kill('SIGKILL');
        },
      },
    });
    const started = Date.now();
    const crashed = await publishCrashing(s, file, 'crash-both', job.signal);
    expect(crashed.signal).toBe('SIGKILL');
    await s.restartRegistry();
    const firstRunBytes = partBytes(s.proxy);
    s.proxy.stats.requests.length = 0;

    const rerun = await publish(s, file, { target: 'crash-both', inputs: SEQUENTIAL });
    expect(rerun.code, failureText(rerun)).toBe(0);
    expect(rerun.outputs).toMatchObject({ 'parts-skipped': '1', 'parts-uploaded': '2' });
    await expectPublished(s, 'crash-both', file);
    expect(firstRunBytes[1]).toBe(PART_SIZE);
    expect(firstRunBytes[3]).toBeUndefined();
    // The re-run sent parts 2 and 3 only: part 1 was stored before the crash and survived it.
    expect(partBytes(s.proxy)).toEqual({ 2: PART_SIZE, 3: LAST_PART });
    reportMeasurement('registry and job SIGKILL mid part 2 body; re-run', {
      ok: true,
      totalMs: Date.now() - started,
      rerunMs: rerun.durationMs,
      partsSkipped: 1,
      rerunPartBytes: partBytes(s.proxy),
      bytesResent:
        [...Object.values(firstRunBytes), ...Object.values(partBytes(s.proxy))].reduce((a, b) => a + b, 0) -
        file.size,
    });
  });

  it('during hashing: the restarted registry finishes the verification and the action signs', async () => {
    const env = { PERIDIO_REGISTRY_HASHING_DELAY_MS: '2000' };
    scene = await startScene({ env });
    const s = scene;
    const file = await makeFile(s.dir, 'crash-hashing.bin');
    let killedIn: string | undefined;
    s.proxy.addRule({
      method: 'GET',
      path: BINARY,
      times: Infinity,
      action: { kind: 'pass' },
      onFire: async (request) => {
        if (killedIn) return;
        const { binary } = await api<{ binary: { state: string } }>(s.registry, 'GET', request.path);
        if (binary.state !== 'hashing') return;
        killedIn = binary.state;
        await s.registry.kill('SIGKILL');
        await s.restartRegistry({ env });
      },
    });
    const run = await publish(s, file, {
      target: 'crash-hashing',
      inputs: { 'hashing-timeout': '20' },
    });
    expect(killedIn).toBe('hashing');
    // One run: the action keeps polling through the restart and signs once the re-queued check is done.
    expect(run.code, failureText(run)).toBe(0);
    await expectPublished(s, 'crash-hashing', file);
    expect(partBytes(s.proxy)).toEqual({ 1: PART_SIZE, 2: PART_SIZE, 3: LAST_PART });
    reportMeasurement('registry SIGKILL during hashing, restarted at once', {
      ok: true,
      firstRunOk: run.code === 0,
      durationMs: run.durationMs,
      bytesResent: bytesResent(s.proxy, file),
    });
  });

  it('during hashing with the job killed too: the re-run sends nothing and signs', async () => {
    const env = { PERIDIO_REGISTRY_HASHING_DELAY_MS: '2000' };
    scene = await startScene({ env });
    const s = scene;
    const file = await makeFile(s.dir, 'crash-hashing-both.bin');
    const job = new AbortController();
    const rule = s.proxy.addRule({
      method: 'GET',
      path: BINARY,
      times: Infinity,
      action: { kind: 'pass' },
      onFire: async (request) => {
        if (job.signal.aborted) return;
        const { binary } = await api<{ binary: { state: string } }>(s.registry, 'GET', request.path);
        if (binary.state !== 'hashing') return;
        job.abort();
        await s.registry.kill('SIGKILL');
      },
    });
    const crashed = await publishCrashing(s, file, 'crash-hashing-both', job.signal);
    expect(crashed.signal).toBe('SIGKILL');
    rule.remove();
    await s.restartRegistry({ env });
    // The restarted registry re-queued the check; its 2 s hashing delay has not passed yet.
    expect((await findBinary(s.registry, 'crash-hashing-both'))?.state).toBe('hashing');
    s.proxy.stats.requests.length = 0;

    const rerun = await publish(s, file, { target: 'crash-hashing-both' });
    expect(rerun.code, failureText(rerun)).toBe(0);
    expect(rerun.outputs).toMatchObject({ 'parts-uploaded': '0', 'parts-skipped': '3' });
    expect(partBytes(s.proxy)).toEqual({});
    await expectPublished(s, 'crash-hashing-both', file);
    reportMeasurement('registry and job SIGKILL during hashing; re-run', {
      ok: true,
      rerunMs: rerun.durationMs,
      rerunPartBytes: Object.values(partBytes(s.proxy)).reduce((sum, n) => sum + n, 0),
    });
  });
});

/** A publish run that the test kills (SIGKILL) through `signal`, as a crashed runner would end. */
function publishCrashing(
  scene: Scene,
  file: Awaited<ReturnType<typeof makeFile>>,
  target: string,
  signal: AbortSignal,
): Promise<PublishRun> {
  return publish(scene, file, { target, inputs: SEQUENTIAL, signal });
}
