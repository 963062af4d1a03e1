import { describe, expect, it } from 'vitest';
import { KNOWN_EVENTS } from '../../packages/registry/src/audit/event-names.js';
import { deviations } from './load.js';

// The audit-extension-events deviation was generated once from audit/event-names.ts; an event added there
// without the deviation would fail the wire check only when a test happens to emit it. This keeps them in step.
interface Extension {
  properties: { type: { const: string }; data: { properties: { type: { enum: string[] } } } };
}

const deviation = deviations.find((d) => d.id === 'audit-extension-events')!;
const valueAt = (path: string): unknown => deviation.patch.find((p) => p.path === path)?.value;
const oneOf = valueAt('/components/schemas/event/allOf/0/oneOf') as (
  { $ref: string } | { anyOf: Extension[] }
)[];
const subtypeEnum = valueAt('/components/schemas/event/allOf/1/properties/event_subtype/enum') as string[];

const peridioEvents = new Set(
  oneOf
    .filter((e): e is { $ref: string } => '$ref' in e)
    .map((e) => /([a-z-]+)-event$/.exec(e.$ref.split('/').pop()!)![1]!),
);
const extensionEvents = oneOf
  .filter((e): e is { anyOf: Extension[] } => 'anyOf' in e)
  .flatMap((e) => e.anyOf)
  .flatMap((x) => x.properties.data.properties.type.enum.map((s) => `${x.properties.type.const}.${s}`));

describe('the audit-extension-events deviation', () => {
  it('covers every event the registry can publish, as Peridio’s schema or an extension', () => {
    const uncovered = KNOWN_EVENTS.filter(
      (e) => !extensionEvents.includes(e) && !peridioEvents.has(e.replaceAll(/[._]/g, '-')),
    );
    expect(uncovered).toEqual([]);
  });

  it('lists no extension event the registry does not publish', () => {
    expect(extensionEvents.filter((e) => !KNOWN_EVENTS.includes(e))).toEqual([]);
  });

  it('allows every subtype of a known event, and otherwise only those of Peridio’s own events', () => {
    const known = new Set(KNOWN_EVENTS.map((e) => e.split('.')[1]!));
    expect([...known].filter((s) => !subtypeEnum.includes(s))).toEqual([]);
    const peridioSubtypes = [...peridioEvents].map((e) => e.replace(/^(api-key|device|webhook)-/, ''));
    expect(
      subtypeEnum.filter((s) => !known.has(s) && !peridioSubtypes.includes(s.replaceAll('_', '-'))),
    ).toEqual([]);
  });
});
