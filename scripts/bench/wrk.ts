/**
 * wrk (Debian) as the load generator: a Lua script that POSTs to a random one of many paths, either as fast
 * as the connections go (the server's capacity) or paced to a fixed rate (the latency a fleet of that size
 * sees). Pacing hands out send slots per wrk thread from a monotonic clock (LuaJIT's ffi), so the offered
 * rate holds while the server keeps up; when it does not, the achieved rate falls below the offered one and
 * the table shows it.
 */
import { spawnSync } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { runTimed } from './proc.js';

export interface WrkRun {
  /** Requests per second to offer; undefined: as fast as the connections go. */
  rate?: number;
  connections: number;
  seconds: number;
}

export interface WrkFigures {
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  errors: string;
}

const THREADS = 2;

export function wrkMissing(): string | undefined {
  return spawnSync('wrk', ['--version']).error ? 'wrk is not installed (apt-get install wrk)' : undefined;
}

function pacing(rate: number): string {
  const intervalMs = (THREADS * 1000) / rate;
  return `local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } bench_timespec; int clock_gettime(int, bench_timespec *); ]]
local ts = ffi.new("bench_timespec")
local function now() ffi.C.clock_gettime(1, ts); return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6 end
local slot = 0
function delay()
  local t = now()
  if slot < t then slot = t end
  local wait = slot - t
  slot = slot + ${intervalMs}
  return math.floor(wait)
end
`;
}

/** POSTs `body` to a random one of `paths` on `baseUrl`; latency percentiles are wrk's own. */
export async function runWrk(
  file: string,
  baseUrl: string,
  request: { paths: string[]; body: string; headers: Record<string, string> },
  run: WrkRun,
): Promise<WrkFigures> {
  const headers = Object.entries(request.headers)
    .map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}\n`)
    .join('');
  await writeFile(
    file,
    `local paths = {${request.paths.map((p) => JSON.stringify(p)).join(',')}}\n` +
      `wrk.method = "POST"\nwrk.body = [[${request.body}]]\n${headers}` +
      `request = function() return wrk.format(nil, paths[math.random(#paths)]) end\n` +
      (run.rate ? pacing(run.rate) : ''),
  );
  try {
    const out = await runTimed('wrk', [
      `-t${THREADS}`,
      `-c${run.connections}`,
      `-d${run.seconds}s`,
      '--latency',
      '-s',
      file,
      baseUrl,
    ]);
    return parseWrk(out.stdout);
  } finally {
    await rm(file, { force: true });
  }
}

function parseWrk(text: string): WrkFigures {
  const ms = (v: string, unit: string): number => Number(v) * ({ us: 0.001, ms: 1, s: 1000 }[unit] ?? NaN);
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(text);
    return m ? ms(m[1]!, m[2]!) : NaN;
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const errors = [/Socket errors:.*$/m.exec(text)?.[0], /Non-2xx or 3xx responses: \d+/.exec(text)?.[0]]
    .filter(Boolean)
    .join('; ');
  return { rps, p50: pct('50'), p90: pct('90'), p99: pct('99'), errors: errors || 'none' };
}
