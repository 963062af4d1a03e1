import { isPhased, scheduleComplete } from './phase.js';
import type { ReleaseRecord } from './types.js';

/**
 * The release graph of one cohort (the "release channel"): each release has at most one next release,
 * and the releases converge on at most one sink, the latest release. Rules enforced on every change:
 *
 * - zero-to-one-sinks: at most one release has no next release;
 * - acyclic: following next releases always ends (a PATCH of next_release_prn could otherwise loop);
 * - only-sinks-constrain-availability: only the latest release may be phased or scheduled in the future;
 *   so a new latest release is refused while the current one is still phased or scheduled, since that one
 *   would stop being the sink (unconstrained-sink-before-new-sink);
 * - `phase_value: 1` (100%) is final (numeric mode): it can never change again.
 */
export type GraphNode = Pick<
  ReleaseRecord,
  'id' | 'name' | 'next_release_id' | 'phase_mode' | 'phase_value' | 'schedule_date'
>;

export class GraphError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export interface LinkChange {
  id: string;
  next_release_id: string | null;
}

const label = (n: GraphNode) => `'${n.name}' (${n.id})`;

function constraintOf(node: GraphNode, now: Date): string | undefined {
  if (node.phase_mode === 'tags') return 'phased by tags';
  if (isPhased(node)) return `phased (phase_value ${node.phase_value})`;
  if (!scheduleComplete(node, now)) return `scheduled for ${node.schedule_date}`;
  return undefined;
}

function sinks<T extends GraphNode>(nodes: readonly T[]): T[] {
  return nodes.filter((n) => n.next_release_id === null);
}

function predecessors<T extends GraphNode>(nodes: readonly T[], id: string): T[] {
  return nodes.filter((n) => n.next_release_id === id);
}

function apply<T extends GraphNode>(nodes: readonly T[], changes: readonly LinkChange[]): T[] {
  const next = new Map(changes.map((c) => [c.id, c.next_release_id]));
  return nodes.map((n) => (next.has(n.id) ? { ...n, next_release_id: next.get(n.id)! } : n));
}

/** Throws a GraphError on `field` when the graph breaks a rule. */
export function validateGraph(nodes: readonly GraphNode[], now: Date, field: string): void {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  for (const start of nodes) {
    const seen = new Set<string>();
    const path: GraphNode[] = [];
    for (
      let n: GraphNode | undefined = start;
      n;
      n = n.next_release_id ? byId.get(n.next_release_id) : undefined
    ) {
      if (seen.has(n.id)) {
        throw new GraphError(
          field,
          `would make a cycle of releases: ${[...path, n].map((p) => `'${p.name}'`).join(' → ')}; the next releases must lead to the latest release`,
        );
      }
      seen.add(n.id);
      path.push(n);
    }
  }
  const ends = sinks(nodes);
  if (ends.length > 1) {
    throw new GraphError(
      field,
      `would leave ${ends.length} latest releases (${ends.map(label).join(', ')}); a cohort has at most one release without a next release`,
    );
  }
  for (const n of nodes) {
    const constraint = constraintOf(n, now);
    if (constraint && n.next_release_id !== null) {
      throw new GraphError(
        field,
        `release ${label(n)} is ${constraint} but would not be the latest release; only the latest release may be phased or scheduled in the future: complete it first (PATCH it to phase_value 1 and a schedule_date in the past)`,
      );
    }
  }
}

/**
 * Where a new release goes. Neither neighbour: it becomes the latest release and the old latest points
 * at it. `next_release_prn` only: it joins the graph before that release (no other release is relinked).
 * Both: it goes between them, which needs previous → next to be an existing link. `previous_release_prn`
 * alone is accepted only when it names the latest release (the same as giving neither).
 */
export function placeNew(
  nodes: readonly GraphNode[],
  fresh: Omit<GraphNode, 'next_release_id'>,
  opts: { next?: string; previous?: string },
  now: Date,
): LinkChange[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const changes: LinkChange[] = [];
  if (opts.next !== undefined && !byId.has(opts.next))
    throw new GraphError('next_release_prn', 'is not a release of this cohort');
  if (opts.previous !== undefined && !byId.has(opts.previous))
    throw new GraphError('previous_release_prn', 'is not a release of this cohort');
  const sink = sinks(nodes)[0];
  if (opts.next === undefined) {
    if (opts.previous !== undefined && opts.previous !== sink?.id) {
      throw new GraphError(
        'previous_release_prn',
        `alone only appends after the latest release ${sink ? label(sink) : ''}; to insert after another release give next_release_prn too (its current next release)`,
      );
    }
    if (sink) changes.push({ id: sink.id, next_release_id: fresh.id });
    changes.push({ id: fresh.id, next_release_id: null });
  } else {
    if (opts.previous !== undefined) {
      const previous = byId.get(opts.previous)!;
      if (previous.next_release_id !== opts.next) {
        throw new GraphError(
          'previous_release_prn',
          `must point at next_release_prn to insert between them; its next release is ${previous.next_release_id ?? 'none (it is the latest release)'}`,
        );
      }
      changes.push({ id: previous.id, next_release_id: fresh.id });
    }
    changes.push({ id: fresh.id, next_release_id: opts.next });
  }
  const field = opts.next !== undefined ? 'next_release_prn' : 'phase_value';
  const after = apply([...nodes, { ...fresh, next_release_id: null }], changes);
  validateGraph(after, now, field);
  return changes;
}

export type GraphPatch = Partial<
  Pick<GraphNode, 'next_release_id' | 'phase_mode' | 'phase_value' | 'schedule_date'>
>;

/** Checks a PATCH of one release against the graph rules; throws GraphError naming the field. */
export function checkUpdate(nodes: readonly GraphNode[], id: string, patch: GraphPatch, now: Date): void {
  const before = nodes.find((n) => n.id === id);
  if (!before) throw new GraphError('prn', 'is not a release of this cohort');
  if (before.phase_mode === 'numeric' && before.phase_value === 1) {
    if (patch.phase_value !== undefined && patch.phase_value !== 1) {
      throw new GraphError('phase_value', 'is 1 (100%), which is final: it can never change again');
    }
    if (patch.phase_mode === 'tags') {
      throw new GraphError('phase_mode', 'cannot change: phase_value is 1 (100%), which is final');
    }
  }
  if (patch.next_release_id !== undefined && patch.next_release_id !== null) {
    if (patch.next_release_id === id)
      throw new GraphError('next_release_prn', 'cannot be the release itself');
    if (!nodes.some((n) => n.id === patch.next_release_id))
      throw new GraphError('next_release_prn', 'is not a release of this cohort');
  }
  const field =
    patch.next_release_id !== undefined
      ? 'next_release_prn'
      : patch.phase_value !== undefined
        ? 'phase_value'
        : patch.phase_mode !== undefined
          ? 'phase_mode'
          : 'schedule_date';
  validateGraph(
    nodes.map((n) => (n.id === id ? { ...n, ...patch } : n)),
    now,
    field,
  );
}

/**
 * Deleting a release relinks its predecessors to its next release, so their devices still reach the rest
 * of the channel. The latest release with several predecessors cannot go: that would leave several sinks.
 */
export function planDelete(nodes: readonly GraphNode[], id: string, now: Date): LinkChange[] {
  const target = nodes.find((n) => n.id === id);
  if (!target) throw new GraphError('prn', 'is not a release of this cohort');
  const preds = predecessors(nodes, id);
  if (target.next_release_id === null && preds.length > 1) {
    throw new GraphError(
      'release',
      `is the latest release and ${preds.length} releases point at it (${preds.map(label).join(', ')}); delete or relink them first`,
    );
  }
  const changes = preds.map((p) => ({ id: p.id, next_release_id: target.next_release_id }));
  validateGraph(
    apply(
      nodes.filter((n) => n.id !== id),
      changes,
    ),
    now,
    'release',
  );
  return changes;
}
