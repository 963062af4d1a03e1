import { describe, expect, it } from 'vitest';
import { checkUpdate, GraphError, placeNew, planDelete, validateGraph } from '../../src/releases/graph.js';
import { chain, FUTURE, NOW, release } from './fixtures.js';

const fresh = (id: string, over = {}) => {
  const { next_release_id: _, ...rest } = release(id, over);
  return rest;
};

function refusal(fn: () => unknown): GraphError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GraphError) return err;
    throw err;
  }
  throw new Error('expected a GraphError');
}

describe('release graph: placement', () => {
  it('the first release of a cohort becomes its latest release', () => {
    expect(placeNew([], fresh('a'), {}, NOW)).toEqual([{ id: 'a', next_release_id: null }]);
  });

  it('append as latest by default: the old latest release now points at the new one', () => {
    expect(placeNew(chain(['a', 'b']), fresh('c'), {}, NOW)).toEqual([
      { id: 'b', next_release_id: 'c' },
      { id: 'c', next_release_id: null },
    ]);
  });

  it('next_release_prn only: joins before that release, relinking nothing else', () => {
    expect(placeNew(chain(['a', 'b']), fresh('x'), { next: 'b' }, NOW)).toEqual([
      { id: 'x', next_release_id: 'b' },
    ]);
  });

  it('both: inserted between previous and next', () => {
    expect(placeNew(chain(['a', 'b']), fresh('x'), { previous: 'a', next: 'b' }, NOW)).toEqual([
      { id: 'a', next_release_id: 'x' },
      { id: 'x', next_release_id: 'b' },
    ]);
  });

  it('between two releases that are not linked is refused, naming previous_release_prn', () => {
    const err = refusal(() =>
      placeNew(chain(['a', 'b', 'c']), fresh('x'), { previous: 'a', next: 'c' }, NOW),
    );
    expect(err.field).toBe('previous_release_prn');
    expect(err.message).toMatch(/must point at next_release_prn/);
  });

  it('previous_release_prn alone appends only after the latest release', () => {
    expect(placeNew(chain(['a', 'b']), fresh('c'), { previous: 'b' }, NOW)).toHaveLength(2);
    expect(refusal(() => placeNew(chain(['a', 'b']), fresh('c'), { previous: 'a' }, NOW)).field).toBe(
      'previous_release_prn',
    );
  });

  it('neighbours outside the cohort are refused', () => {
    expect(refusal(() => placeNew(chain(['a']), fresh('x'), { next: 'zz' }, NOW)).field).toBe(
      'next_release_prn',
    );
  });
});

describe('release graph: rules', () => {
  it('zero-to-one-sinks: a graph with two latest releases is invalid', () => {
    expect(refusal(() => validateGraph([release('a'), release('b')], NOW, 'f')).message).toMatch(
      /2 latest releases/,
    );
  });

  it('no new latest release while the latest one is phased (phase_value 0.2)', () => {
    const err = refusal(() => placeNew(chain(['a', 'b'], { b: { phase_value: 0.2 } }), fresh('c'), {}, NOW));
    expect(err.message).toMatch(/'b'.*phased \(phase_value 0.2\).*complete it first/);
  });

  it('no new latest release while the latest one is phased by tags', () => {
    const rels = chain(['a'], { a: { phase_mode: 'tags', phase_tags: ['beta'] } });
    expect(refusal(() => placeNew(rels, fresh('c'), {}, NOW)).message).toMatch(/phased by tags/);
  });

  it('no new latest release while the latest one is scheduled in the future', () => {
    const err = refusal(() => placeNew(chain(['a'], { a: { schedule_date: FUTURE } }), fresh('c'), {}, NOW));
    expect(err.message).toMatch(/scheduled for 2027/);
  });

  it('only the latest release may be phased: a phased release inserted before another is refused', () => {
    const err = refusal(() =>
      placeNew(chain(['a', 'b']), fresh('x', { phase_value: 10 }), { previous: 'a', next: 'b' }, NOW),
    );
    expect(err.field).toBe('next_release_prn');
  });

  it('only the latest release may be scheduled later: PATCHing a non-latest schedule_date into the future is refused', () => {
    expect(refusal(() => checkUpdate(chain(['a', 'b']), 'a', { schedule_date: FUTURE }, NOW)).field).toBe(
      'schedule_date',
    );
    expect(() => checkUpdate(chain(['a', 'b']), 'b', { schedule_date: FUTURE }, NOW)).not.toThrow();
  });

  it('the latest release may become phased and be completed again', () => {
    const rels = chain(['a', 'b'], { b: { phase_value: 0.5 } });
    expect(() => checkUpdate(rels, 'b', { phase_value: 0.8 }, NOW)).not.toThrow();
    expect(() => checkUpdate(rels, 'b', { phase_value: 1 }, NOW)).not.toThrow();
  });

  it('phase_value 1 is final: PATCH away from it is refused', () => {
    const err = refusal(() => checkUpdate(chain(['a']), 'a', { phase_value: 0.5 }, NOW));
    expect(err.field).toBe('phase_value');
    expect(err.message).toMatch(/final/);
    expect(refusal(() => checkUpdate(chain(['a']), 'a', { phase_mode: 'tags' }, NOW)).field).toBe(
      'phase_mode',
    );
  });

  it('a cycle through PATCH next_release_prn is refused', () => {
    const err = refusal(() => checkUpdate(chain(['a', 'b', 'c']), 'c', { next_release_id: 'a' }, NOW));
    expect(err.field).toBe('next_release_prn');
    expect(err.message).toMatch(/cycle/);
  });

  it('a release cannot be its own next release', () => {
    expect(refusal(() => checkUpdate(chain(['a', 'b']), 'a', { next_release_id: 'a' }, NOW)).message).toMatch(
      /itself/,
    );
  });

  it('clearing next_release_prn of a non-latest release would make two latest releases', () => {
    expect(
      refusal(() => checkUpdate(chain(['a', 'b']), 'a', { next_release_id: null }, NOW)).message,
    ).toMatch(/2 latest/);
  });

  it('repointing a branch to skip a release is allowed', () => {
    expect(() => checkUpdate(chain(['a', 'b', 'c']), 'a', { next_release_id: 'c' }, NOW)).not.toThrow();
  });
});

describe('release graph: delete', () => {
  it('relinks predecessors to the deleted release’s next release', () => {
    expect(planDelete(chain(['a', 'b', 'c']), 'b', NOW)).toEqual([{ id: 'a', next_release_id: 'c' }]);
  });

  it('deleting the latest release makes its only predecessor the latest', () => {
    expect(planDelete(chain(['a', 'b']), 'b', NOW)).toEqual([{ id: 'a', next_release_id: null }]);
  });

  it('the latest release with two predecessors cannot be deleted', () => {
    const rels = [
      release('a', { next_release_id: 'c' }),
      release('b', { next_release_id: 'c' }),
      release('c'),
    ];
    expect(refusal(() => planDelete(rels, 'c', NOW)).message).toMatch(/2 releases point at it/);
  });
});
