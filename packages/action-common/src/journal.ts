/**
 * What a step got through before it failed, for the failure summary: the log groups (phases) it entered,
 * in order. The registry holds the real state; this only tells the reader how far the run got.
 */
const phases: string[] = [];

export function recordPhase(name: string): void {
  phases.push(name);
}

export function phasesEntered(): readonly string[] {
  return phases;
}
