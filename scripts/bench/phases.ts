/**
 * Where a publish spends its time, read from the action's own log: the hashing time it reports, the
 * upload rate it reports, and how long the "Registry verification" group lasted (by line arrival time).
 * Any figure the log does not give stays undefined; the totals never depend on it.
 */
export interface Phases {
  hashMs?: number;
  uploadMs?: number;
  verifyMs?: number;
}

/** The action logs IEC units (core's formatBytes/formatRate); the SI ones are what it logged before. */
const UNIT_BYTES: Record<string, number> = {
  B: 1,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
  kB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
};

function durationMs(text: string): number | undefined {
  const match = /^(?:(\d+) min )?([\d.]+) (ms|s)$/.exec(text.trim());
  if (!match) return undefined;
  const minutes = Number(match[1] ?? 0);
  return minutes * 60_000 + Number(match[2]) * (match[3] === 'ms' ? 1 : 1000);
}

export function phasesOf(lines: { ms: number; text: string }[]): Phases {
  const phases: Phases = {};
  for (const { text } of lines) {
    const hashed = /hashed in ((?:\d+ min )?[\d.]+ (?:ms|s))/.exec(text);
    if (hashed) phases.hashMs = durationMs(hashed[1]!);
    const sent = /, ([\d.]+) (B|KiB|MiB|GiB|TiB|kB|MB|GB|TB) at ([\d.]+) (MiB|MB)\/s/.exec(text);
    if (sent && Number(sent[3]) > 0) {
      const rate = Number(sent[3]) * UNIT_BYTES[sent[4]!]!;
      phases.uploadMs = ((Number(sent[1]) * UNIT_BYTES[sent[2]!]!) / rate) * 1000;
    }
  }
  const start = lines.findIndex((l) => /::group::Registry verification/.test(l.text));
  if (start >= 0) {
    const end = lines.findIndex((l, i) => i > start && l.text.startsWith('::endgroup::'));
    if (end > start) phases.verifyMs = lines[end]!.ms - lines[start]!.ms;
  }
  return phases;
}
