/**
 * Who may call which route: ONE table from route to permission, and one from role to permissions. An
 * extension of Peridio's API (Peridio's own keys have user-scoped permissions we cannot see); documented in
 * docs/access-audit-webhooks.md. The registry refuses to start with a route missing from ROUTE_ACCESS, and
 * a test walks every route against every role, so a new route cannot ship without a decision here.
 */

export const ROLES = ['admin', 'publisher', 'signer', 'releaser', 'reader', 'device-check'] as const;
export type Role = (typeof ROLES)[number];

export type Permission =
  /** No API key: presigned capability URLs and the health check. */
  | 'public'
  | 'read'
  /** Artifacts, versions, binaries and their parts. */
  | 'publish'
  | 'bundle'
  | 'sign'
  /** Releases (including promoting one by raising its phase) and bundle overrides. */
  | 'release'
  /** Deleting content, or moving a binary to `destroyed`. */
  | 'destroy'
  | 'device-check'
  /** Signing keys, products, cohorts, devices, API keys, webhooks. */
  | 'admin';

const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  admin: ['read', 'publish', 'bundle', 'sign', 'release', 'destroy', 'device-check', 'admin'],
  publisher: ['read', 'publish', 'bundle'],
  signer: ['read', 'sign'],
  releaser: ['read', 'bundle', 'release'],
  reader: ['read'],
  'device-check': ['device-check'],
};

/** A PATCH of a binary changes its state: the target state decides what it needs. */
export type Access = Permission | { binaryState: Record<string, Permission>; otherwise: Permission };

/** Keyed by `METHOD pattern` exactly as the routes declare them. */
export const ROUTE_ACCESS: Record<string, Access> = {
  'GET /health': 'public',
  'PUT /_presigned/parts/:binary/:index': 'public',
  'GET /_presigned/download/:binary': 'public',
  // The web console's static files; everything it shows comes through the API with the user's key.
  'GET /console': 'public',
  'GET /console/:file': 'public',

  'GET /artifacts': 'read',
  'GET /artifacts/:prn': 'read',
  'POST /artifacts': 'publish',
  'PATCH /artifacts/:prn': 'publish',
  'DELETE /artifacts/:prn': 'destroy',
  'GET /artifact_versions': 'read',
  'GET /artifact_versions/:prn': 'read',
  'POST /artifact_versions': 'publish',
  'PATCH /artifact_versions/:prn': 'publish',
  'DELETE /artifact_versions/:prn': 'destroy',
  'GET /binaries': 'read',
  'GET /binaries/:prn': 'read',
  'GET /binaries/:prn/download_url': 'read',
  'POST /binaries': 'publish',
  'PATCH /binaries/:prn': {
    binaryState: { signed: 'sign', destroyed: 'destroy' },
    otherwise: 'publish',
  },
  'DELETE /binaries/:prn': 'destroy',
  'GET /binaries/:prn/parts': 'read',
  'PUT /binaries/:prn/parts/:index': 'publish',

  'GET /binary_signatures': 'read',
  'GET /binary_signatures/:prn': 'read',
  'POST /binary_signatures': 'sign',
  'DELETE /binary_signatures/:prn': 'sign',
  'GET /signing_keys': 'read',
  'GET /signing_keys/:prn': 'read',
  'POST /signing_keys': 'admin',
  'PATCH /signing_keys/:prn': 'admin',
  'DELETE /signing_keys/:prn': 'admin',

  'GET /bundles': 'read',
  'GET /bundles/:prn': 'read',
  'POST /bundles': 'bundle',
  'PATCH /bundles/:prn': 'bundle',
  'DELETE /bundles/:prn': 'destroy',
  'GET /bundles/:prn/signatures': 'read',
  'GET /bundle_signatures': 'read',
  'GET /bundle_signatures/:prn': 'read',
  'POST /bundle_signatures': 'sign',
  'DELETE /bundle_signatures/:prn': 'sign',

  'GET /releases': 'read',
  'GET /releases/:prn': 'read',
  'POST /releases': 'release',
  'PATCH /releases/:prn': 'release',
  'DELETE /releases/:prn': 'release',
  'GET /bundle_overrides': 'read',
  'GET /bundle_overrides/:prn': 'read',
  'POST /bundle_overrides': 'release',
  'PATCH /bundle_overrides/:prn': 'release',
  'DELETE /bundle_overrides/:prn': 'release',
  'GET /bundle_overrides/:prn/devices': 'read',
  'POST /bundle_overrides/:prn/devices': 'release',
  'DELETE /bundle_overrides/:prn/devices/:device': 'release',

  'GET /products': 'read',
  'GET /products/:prn': 'read',
  'POST /products': 'admin',
  'PATCH /products/:prn': 'admin',
  'GET /cohorts': 'read',
  'GET /cohorts/:prn': 'read',
  'POST /cohorts': 'admin',
  'PATCH /cohorts/:prn': 'admin',
  'GET /devices': 'read',
  'GET /devices/:prn': 'read',
  'POST /devices': 'admin',
  'PATCH /devices/:prn': 'admin',
  'POST /devices/:prn/update': 'device-check',

  'GET /events': 'read',

  'GET /api_keys': 'admin',
  'GET /api_keys/:prn': 'admin',
  'POST /api_keys': 'admin',
  'PATCH /api_keys/:prn': 'admin',
  'DELETE /api_keys/:prn': 'admin',

  'GET /webhooks': 'admin',
  'GET /webhooks/:prn': 'admin',
  'POST /webhooks': 'admin',
  'PATCH /webhooks/:prn': 'admin',
  'DELETE /webhooks/:prn': 'admin',
  'POST /webhooks/:prn/roll_secret': 'admin',
  'POST /webhooks/:prn/test_fire': 'admin',
};

export const routeKey = (method: string, pattern: string) => `${method} ${pattern}`;

/** The permission a request needs; a binary PATCH looks at the requested `state`. */
export function permissionFor(access: Access, body: Record<string, unknown> | undefined): Permission {
  if (typeof access === 'string') return access;
  const state = body?.state;
  return (typeof state === 'string' && access.binaryState[state]) || access.otherwise;
}

export function allows(role: Role, permission: Permission): boolean {
  return permission === 'public' || ROLE_PERMISSIONS[role].includes(permission);
}

/** The roles that may, least powerful first (admin always last). */
export function rolesAllowing(permission: Permission): Role[] {
  return [...ROLES].filter((r) => allows(r, permission)).sort((a, b) => rank(a) - rank(b));
}

const rank = (role: Role) => (role === 'admin' ? 99 : ROLE_PERMISSIONS[role].length);

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
