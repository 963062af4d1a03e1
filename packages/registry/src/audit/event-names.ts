/**
 * The audit trail's event for each state-changing route (`type.subtype`), and every event name the
 * registry can publish (what a webhook's `enabled_events` may list). Extension types sit beside Peridio's
 * own (`device.*`, `webhook.test_fire`, `api_key.created`); docs/access-audit-webhooks.md lists them.
 * `null`: the route records its own events (the update check records device events; test_fire its event).
 */
export const ROUTE_EVENTS: Record<string, string | null> = {
  'POST /artifacts': 'artifact.created',
  'PATCH /artifacts/:prn': 'artifact.updated',
  'DELETE /artifacts/:prn': 'artifact.deleted',
  'POST /artifact_versions': 'artifact_version.created',
  'PATCH /artifact_versions/:prn': 'artifact_version.updated',
  'DELETE /artifact_versions/:prn': 'artifact_version.deleted',
  'POST /binaries': 'binary.created',
  // `binary.state_changed` instead when the state moved.
  'PATCH /binaries/:prn': 'binary.updated',
  'DELETE /binaries/:prn': 'binary.deleted',
  'PUT /binaries/:prn/parts/:index': 'binary_part.created',
  'PUT /_presigned/parts/:binary/:index': 'binary_part.uploaded',
  'POST /binary_signatures': 'binary_signature.created',
  'DELETE /binary_signatures/:prn': 'binary_signature.deleted',
  'POST /signing_keys': 'signing_key.created',
  'PATCH /signing_keys/:prn': 'signing_key.updated',
  'DELETE /signing_keys/:prn': 'signing_key.deleted',
  'POST /bundles': 'bundle.created',
  'PATCH /bundles/:prn': 'bundle.updated',
  'DELETE /bundles/:prn': 'bundle.deleted',
  'POST /bundle_signatures': 'bundle_signature.created',
  'DELETE /bundle_signatures/:prn': 'bundle_signature.deleted',
  'POST /releases': 'release.created',
  'PATCH /releases/:prn': 'release.updated',
  'DELETE /releases/:prn': 'release.deleted',
  'POST /bundle_overrides': 'bundle_override.created',
  'PATCH /bundle_overrides/:prn': 'bundle_override.updated',
  'DELETE /bundle_overrides/:prn': 'bundle_override.deleted',
  'POST /bundle_overrides/:prn/devices': 'bundle_override.device_added',
  'DELETE /bundle_overrides/:prn/devices/:device': 'bundle_override.device_removed',
  'POST /products': 'product.created',
  'PATCH /products/:prn': 'product.updated',
  'POST /cohorts': 'cohort.created',
  'PATCH /cohorts/:prn': 'cohort.updated',
  'POST /devices': 'device.created',
  // Not `device.updated`: that is Peridio's event with its own payload.
  'PATCH /devices/:prn': 'device.record_updated',
  'POST /devices/:prn/update': null,
  'POST /api_keys': 'api_key.created',
  'PATCH /api_keys/:prn': 'api_key.updated',
  'DELETE /api_keys/:prn': 'api_key.revoked',
  'POST /webhooks': 'webhook.created',
  'PATCH /webhooks/:prn': 'webhook.updated',
  'DELETE /webhooks/:prn': 'webhook.deleted',
  'POST /webhooks/:prn/roll_secret': 'webhook.secret_rolled',
  'POST /webhooks/:prn/test_fire': null,
};

/** Peridio's own event names. `webhook.request_failed` is recorded but never delivered (no recursion). */
const PERIDIO_EVENTS = [
  'device.release_changed',
  'device.claimed_release',
  'device.checked_for_release',
  'device.connected',
  'device.disconnected',
  'device.updated',
  'api_key.created',
  'webhook.test_fire',
];

const EXTRA_EVENTS = ['binary.state_changed', 'webhook.request_failed'];

export const KNOWN_EVENTS: readonly string[] = [
  ...new Set([
    ...PERIDIO_EVENTS,
    ...Object.values(ROUTE_EVENTS).filter((e): e is string => e !== null),
    ...EXTRA_EVENTS,
  ]),
].sort();

/** Event `type`s and `subtype`s the /events filters accept beside Peridio's. */
export const AUDIT_EVENT_TYPES = [...new Set(KNOWN_EVENTS.map((e) => e.split('.')[0]!))];
export const AUDIT_EVENT_SUBTYPES = [...new Set(KNOWN_EVENTS.map((e) => e.split('.')[1]!))];
