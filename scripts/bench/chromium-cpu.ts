/**
 * CPU seconds per thread of the Chromium processes this bench started (its descendants), from
 * /proc/<pid>/task/<tid>/stat, sampled every 100 ms so that threads which end during the measurement (a
 * terminated worker's) are counted up to their last sample. On a shared machine a wall-clock rate says how
 * much CPU the other jobs left; CPU seconds say what the work itself costs, and on which thread.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: the unit of utime and stime in /proc stat files on Linux. */
const TICKS_PER_SECOND = 100;

export interface ThreadCpu {
  /** browser, renderer, gpu-process, utility:<service>, … */
  process: string;
  thread: string;
  seconds: number;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Fields after the command name of a stat line; the name itself may hold spaces and parentheses. */
const statFields = (stat: string) => stat.slice(stat.lastIndexOf(')') + 2).split(' ');

function chromiumProcesses(): { pid: number; kind: string }[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const stat = /^\d+$/.test(entry) ? read(`/proc/${entry}/stat`) : undefined;
    if (stat) parents.set(Number(entry), Number(statFields(stat)[1]));
  }
  const mine = new Set([process.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (mine.has(parent) && !mine.has(pid)) grew = Boolean(mine.add(pid));
    }
  }
  const found: { pid: number; kind: string }[] = [];
  for (const pid of mine) {
    // Chromium rewrites its children's command lines into one space-separated string.
    const cmdline = read(`/proc/${pid}/cmdline`)?.replaceAll('\0', ' ') ?? '';
    if (!/^\S*chrom/.test(cmdline)) continue;
    const type = /--type=([\w-]+)/.exec(cmdline)?.[1] ?? 'browser';
    const service = /--utility-sub-type=(\w+)/.exec(cmdline)?.[1];
    found.push({ pid, kind: service ? `${type}:${service}` : type });
  }
  return found;
}

type Sample = Map<string, { process: string; thread: string; ticks: number }>;

function sample(): Sample {
  const threads: Sample = new Map();
  for (const { pid, kind } of chromiumProcesses()) {
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      const stat = read(`/proc/${pid}/task/${tid}/stat`);
      if (!stat) continue;
      const fields = statFields(stat);
      const thread = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      threads.set(`${pid}/${tid}`, { process: kind, thread, ticks: Number(fields[11]) + Number(fields[12]) });
    }
  }
  return threads;
}

/** Starts sampling; `stop()` gives each thread's CPU seconds since the start, busiest first. */
export function sampleChromiumCpu(intervalMs = 100): { stop(): ThreadCpu[] } {
  const start = sample();
  const last: Sample = new Map(start);
  const take = () => {
    for (const [key, value] of sample()) last.set(key, value);
  };
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      const threads: ThreadCpu[] = [];
      for (const [key, { process, thread, ticks }] of last) {
        const seconds = (ticks - (start.get(key)?.ticks ?? 0)) / TICKS_PER_SECOND;
        if (seconds > 0) threads.push({ process, thread, seconds });
      }
      return threads.sort((a, b) => b.seconds - a.seconds);
    },
  };
}
