/**
 * Timestamps as Peridio writes them: ISO-8601 UTC with microseconds and `Z`. Strictly increasing within
 * the process, so `inserted_at` never ties and ordering by it agrees with insertion order.
 */
let lastMicros = 0;

export function nowTimestamp(): string {
  let micros = Date.now() * 1000 + Math.floor((performance.now() % 1) * 1000);
  if (micros <= lastMicros) micros = lastMicros + 1;
  lastMicros = micros;
  const ms = Math.floor(micros / 1000);
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, 23)}${String(micros % 1000).padStart(3, '0')}Z`;
}
