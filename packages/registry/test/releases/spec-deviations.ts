/**
 * Where Peridio's spec schemas are stricter than what the API (and this registry) sends for release
 * management, relaxed before validating (docs/release-management.md, "Spec deviations"):
 * - values the spec types as plain strings are null when unset (a device with no cohort or no reported
 *   state, a release without version, a bundle without name, the update check's source on no_update);
 * - the event schemas write `type: null` (YAML null), meaning the JSON type "null";
 * - the audit trail's extension events (docs/access-audit-webhooks.md) are one more kind of event: a
 *   `type`/`data.type` pair Peridio does not define.
 */
import { KNOWN_EVENTS, PERIDIO_EVENTS } from '../../src/audit/event-names.js';
type Schema = Record<string, any>;

const nullable = (schema: Schema | undefined) => (schema ? { oneOf: [{ type: 'null' }, schema] } : undefined);

function fixYamlNullTypes(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(fixYamlNullTypes);
  if (node === null || typeof node !== 'object') return;
  const obj = node as Schema;
  if ('type' in obj && obj.type === null) obj.type = 'null';
  for (const value of Object.values(obj)) fixYamlNullTypes(value);
}

export function relaxReleaseSchemas(doc: Schema): void {
  const s = doc.components.schemas;
  for (const key of [
    'cohort_prn',
    'last_connected_at',
    'reported_bundle_prn',
    'reported_release_prn',
    'reported_release_version',
  ])
    s.device.properties[key] = nullable(s.device.properties[key]);
  for (const key of ['version', 'version_requirement'])
    s.release.properties[key] = nullable(s.release.properties[key]);
  s['bundle-name'] = nullable({ ...s['bundle-name'], nullable: undefined });
  const update =
    doc.paths['/devices/{device_prn}/update'].post.responses['200'].content['application/json'].schema;
  for (const key of ['source_prn', 'bundle_prn']) update.properties[key] = nullable(update.properties[key]);
  for (const key of ['actor_prn', 'resource_prn'])
    s.event.allOf[1].properties[key] = nullable(s.event.allOf[1].properties[key]);
  const extension = new Map<string, string[]>();
  for (const name of KNOWN_EVENTS.filter((e) => !PERIDIO_EVENTS.includes(e))) {
    const [type, subtype] = name.split('.') as [string, string];
    extension.set(type, [...(extension.get(type) ?? []), subtype]);
  }
  const subtypes = s.event.allOf[1].properties.event_subtype;
  subtypes.enum = [...new Set([...subtypes.enum, ...[...extension.values()].flat()])];
  s.event.allOf[0].oneOf.push({
    anyOf: [...extension].map(([type, subtypes]) => ({
      type: 'object',
      required: ['type', 'data'],
      properties: {
        type: { const: type },
        data: { type: 'object', required: ['type'], properties: { type: { enum: subtypes } } },
      },
    })),
  });
  fixYamlNullTypes(doc.components.schemas);
}
