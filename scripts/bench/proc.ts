import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { KiB } from './files.js';

/** VmHWM of a live process in bytes: the kernel's own high-water mark of its resident set. */
export function readPeakRss(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * KiB : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Tracks a child's VmHWM until it exits. VmHWM only grows, so the last sample before exit is the peak up
 * to that moment; sampling every 10 ms leaves only the last few ms of a process (signing, exit) unseen.
 */
function watchPeakRss(pid: number, intervalMs = 10): { stop(): number } {
  let peak = 0;
  const sample = (): void => {
    peak = Math.max(peak, readPeakRss(pid) ?? 0);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      sample();
      clearInterval(timer);
      return peak;
    },
  };
}

/** Commands still running, killed by the bench's cleanup when it is interrupted. */
export const liveChildren = new Set<ChildProcess>();

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Each stdout line with the ms since spawn at which it arrived: the phases of an action's log. */
  lines: { ms: number; text: string }[];
  durationMs: number;
  peakRssBytes: number;
}

/** Runs a command, timing it from spawn to exit and tracking its peak RSS. */
export function runTimed(
  command: string,
  args: string[],
  options: SpawnOptions & { onSpawn?: (pid: number) => void } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let peak = 0;
    let durationMs = 0;
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    const watch = child.pid === undefined ? undefined : watchPeakRss(child.pid);
    liveChildren.add(child);
    let stdout = '';
    let stderr = '';
    const lines: { ms: number; text: string }[] = [];
    let partial = '';
    child.stdout?.on('data', (data: Buffer) => {
      const text = data.toString();
      stdout += text;
      const ms = performance.now() - started;
      const pieces = (partial + text).split('\n');
      partial = pieces.pop()!;
      for (const line of pieces) lines.push({ ms, text: line });
    });
    child.stderr?.on('data', (data: Buffer) => (stderr += data.toString()));
    child.on('error', (err) => {
      watch?.stop();
      reject(err);
    });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    child.on('exit', () => {
      liveChildren.delete(child);
      // Read before the close event: the pid is reaped right after exit.
      peak = watch?.stop() ?? 0;
      durationMs = performance.now() - started;
    });
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout, stderr, lines, durationMs, peakRssBytes: peak }),
    );
  });
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  kernel: string;
  node: string;
  loadAverage: string;
  /** `top` a moment before the run: shows whether the machine was shared. */
  top: string;
}

export async function machineInfo(): Promise<MachineInfo> {
  const loadAverage = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  // The second frame: the first one averages since boot, not over the last second.
  const top = await runTimed('top', ['-bn2', '-d', '1', '-w', '120']).catch(() => undefined);
  const frames = (top?.stdout ?? '').split(/^(?=top - )/m);
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryBytes: totalmem(),
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    node: process.version,
    loadAverage,
    top: (frames[frames.length - 1] ?? '').split('\n').slice(0, 15).join('\n'),
  };
}

/** `top`'s three summary lines (uptime and load, tasks, CPU), one line. */
export async function machineTop(): Promise<string> {
  return (await machineInfo()).top.split('\n').slice(0, 3).join(' / ');
}
