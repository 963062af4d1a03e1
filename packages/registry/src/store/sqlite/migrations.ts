/**
 * Versioned schema. Each entry runs once, in order, inside a transaction; `PRAGMA user_version` records
 * how many have run. Never edit a shipped entry: append a new one.
 *
 * `seq` is the insertion order (what `order` and the `page` cursor use); `id` is the UUID in the PRN.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE artifacts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    custom_metadata TEXT,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (org, name)
  );

  CREATE TABLE artifact_versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    artifact_id TEXT NOT NULL REFERENCES artifacts (id),
    version TEXT NOT NULL,
    description TEXT,
    custom_metadata TEXT,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (artifact_id, version)
  );

  CREATE TABLE binaries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    artifact_version_id TEXT NOT NULL REFERENCES artifact_versions (id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    state TEXT NOT NULL,
    description TEXT,
    custom_metadata TEXT,
    revision INTEGER NOT NULL DEFAULT 0,
    upload_generation INTEGER NOT NULL DEFAULT 0,
    blob_hash TEXT,
    hash_error TEXT,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE UNIQUE INDEX binaries_one_live_per_target ON binaries (artifact_version_id, target)
    WHERE state <> 'destroyed';
  CREATE INDEX binaries_state ON binaries (state);
  CREATE INDEX binaries_blob ON binaries (blob_hash);

  CREATE TABLE binary_parts (
    binary_id TEXT NOT NULL REFERENCES binaries (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    state TEXT NOT NULL,
    file TEXT,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (binary_id, idx)
  );

  CREATE TABLE signing_keys (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    keyid TEXT NOT NULL,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (org, keyid)
  );

  CREATE TABLE binary_signatures (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    binary_id TEXT NOT NULL REFERENCES binaries (id) ON DELETE CASCADE,
    signing_key_id TEXT NOT NULL REFERENCES signing_keys (id),
    signature TEXT NOT NULL,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (binary_id, signing_key_id)
  );
  `,
  `
  CREATE TABLE content_garbage (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item TEXT NOT NULL,
    inserted_at TEXT NOT NULL
  );
  `,
  `
  CREATE TABLE leases (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  `,
  `
  CREATE TABLE multipart_uploads (
    binary_id TEXT NOT NULL,
    generation INTEGER NOT NULL,
    upload_id TEXT NOT NULL,
    inserted_at TEXT NOT NULL,
    PRIMARY KEY (binary_id, generation)
  );
  `,
  `
  -- What ensureBinary searches by (version and target), in listing order; the partial unique index cannot
  -- serve a search that does not name the state.
  CREATE INDEX binaries_version_target ON binaries (artifact_version_id, target, seq);
  `,
  // release management (docs/release-management.md). Only new tables: binaries and their content stay.
  `
  CREATE TABLE products (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    name TEXT NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (org, name)
  );

  CREATE TABLE cohorts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id),
    name TEXT NOT NULL,
    description TEXT,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );

  CREATE TABLE devices (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id),
    cohort_id TEXT REFERENCES cohorts (id),
    identifier TEXT NOT NULL,
    description TEXT,
    quarantined INTEGER NOT NULL DEFAULT 0,
    tags TEXT,
    target TEXT,
    last_connected_at TEXT,
    reported_bundle_prn TEXT,
    reported_release_prn TEXT,
    reported_release_version TEXT,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (org, identifier)
  );
  CREATE INDEX devices_cohort ON devices (cohort_id);

  CREATE TABLE bundles (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    name TEXT,
    hash TEXT NOT NULL,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );

  CREATE TABLE bundle_binaries (
    bundle_id TEXT NOT NULL REFERENCES bundles (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    binary_id TEXT NOT NULL,
    custom_metadata TEXT NOT NULL,
    PRIMARY KEY (bundle_id, idx)
  );
  CREATE INDEX bundle_binaries_binary ON bundle_binaries (binary_id);

  CREATE TABLE bundle_signatures (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    bundle_id TEXT NOT NULL REFERENCES bundles (id) ON DELETE CASCADE,
    signing_key_id TEXT NOT NULL,
    keyid TEXT NOT NULL,
    signature TEXT NOT NULL,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (bundle_id, signing_key_id)
  );

  CREATE TABLE releases (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    cohort_id TEXT NOT NULL REFERENCES cohorts (id),
    bundle_id TEXT NOT NULL REFERENCES bundles (id),
    name TEXT NOT NULL,
    description TEXT,
    required INTEGER NOT NULL,
    disabled INTEGER NOT NULL,
    schedule_date TEXT NOT NULL,
    phase_mode TEXT NOT NULL,
    phase_value REAL NOT NULL,
    phase_tags TEXT,
    version TEXT,
    version_requirement TEXT,
    next_release_id TEXT,
    claims INTEGER NOT NULL DEFAULT 0,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX releases_cohort ON releases (cohort_id);
  CREATE INDEX releases_bundle ON releases (bundle_id);

  CREATE TABLE release_claims (
    release_id TEXT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    device_id TEXT NOT NULL,
    inserted_at TEXT NOT NULL,
    PRIMARY KEY (release_id, device_id)
  );

  CREATE TABLE bundle_overrides (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    bundle_id TEXT NOT NULL REFERENCES bundles (id),
    name TEXT NOT NULL,
    description TEXT,
    starts_at TEXT NOT NULL,
    ends_at TEXT,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );

  CREATE TABLE bundle_override_devices (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    org TEXT NOT NULL,
    override_id TEXT NOT NULL REFERENCES bundle_overrides (id) ON DELETE CASCADE,
    device_id TEXT NOT NULL REFERENCES devices (id),
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (override_id, device_id)
  );
  CREATE INDEX bundle_override_devices_device ON bundle_override_devices (device_id);

  CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    type TEXT NOT NULL,
    subtype TEXT NOT NULL,
    resource_prn TEXT,
    actor_prn TEXT,
    data TEXT NOT NULL,
    inserted_at TEXT NOT NULL
  );
  CREATE INDEX events_resource ON events (resource_prn);
  `,
  // Access, audit and webhooks (w-audit): scoped API keys, webhooks and their durable delivery queue. Audit
  // events go into the existing events table; the index serves `audit export --since` and actor filters.
  `
  CREATE TABLE api_keys (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    hash TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );

  CREATE TABLE webhooks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    url TEXT NOT NULL,
    description TEXT,
    enabled_events TEXT NOT NULL,
    state TEXT NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_expires_at TEXT,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );

  CREATE TABLE webhook_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    org TEXT NOT NULL,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    first_queued_at INTEGER NOT NULL
  );
  CREATE INDEX webhook_deliveries_head ON webhook_deliveries (org, webhook_id, seq);

  CREATE TABLE webhook_cursor (org TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);

  CREATE INDEX events_inserted_at ON events (org, inserted_at);
  CREATE INDEX events_actor ON events (actor_prn);
  `,
  // The signing-key lookup the actions make on every sign (search by value), indexed so it stays flat.
  `
  CREATE INDEX signing_keys_value ON signing_keys (org, value);
  `,
];
