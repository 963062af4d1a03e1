/**
 * Versioned schema for PostgreSQL, the same records as the SQLite schema (../sqlite/migrations.ts). Each entry
 * runs once, in order, in one transaction under an advisory lock, so instances starting together migrate once;
 * `schema_migrations` records which have run. Never edit a shipped entry: append a new one.
 *
 * Text compared by `<`/`>` (timestamps, names) uses the "C" collation, so ordering is by bytes as in SQLite
 * whatever locale the database was created with. Timestamps stay text in the wire format (microseconds,
 * `Z`): equality and ordering of what the API shows, without a round trip through a timestamp type.
 */
const T = 'TEXT COLLATE "C"';

export const PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key ${T} PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE artifacts (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    name ${T} NOT NULL,
    description ${T},
    custom_metadata TEXT,
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL,
    UNIQUE (org, name)
  );

  CREATE TABLE artifact_versions (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    artifact_id ${T} NOT NULL REFERENCES artifacts (id),
    version ${T} NOT NULL,
    description ${T},
    custom_metadata TEXT,
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL,
    UNIQUE (artifact_id, version)
  );
  CREATE INDEX artifact_versions_org_seq ON artifact_versions (org, seq);

  CREATE TABLE binaries (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    artifact_version_id ${T} NOT NULL REFERENCES artifact_versions (id) ON DELETE CASCADE,
    target ${T} NOT NULL,
    hash ${T} NOT NULL,
    size BIGINT NOT NULL,
    state ${T} NOT NULL,
    description ${T},
    custom_metadata TEXT,
    revision INTEGER NOT NULL DEFAULT 0,
    upload_generation INTEGER NOT NULL DEFAULT 0,
    blob_hash ${T},
    hash_error TEXT,
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL
  );
  -- The rule "one live binary per version and target" is the database's, so no two instances can break it.
  CREATE UNIQUE INDEX binaries_one_live_per_target ON binaries (artifact_version_id, target)
    WHERE state <> 'destroyed';
  CREATE INDEX binaries_state ON binaries (state);
  CREATE INDEX binaries_blob ON binaries (blob_hash);
  CREATE INDEX binaries_org_seq ON binaries (org, seq);
  -- What ensureBinary searches by (version and target), in listing order.
  CREATE INDEX binaries_version_target ON binaries (artifact_version_id, target, seq);

  CREATE TABLE binary_parts (
    binary_id ${T} NOT NULL REFERENCES binaries (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    hash ${T} NOT NULL,
    size BIGINT NOT NULL,
    state ${T} NOT NULL,
    file ${T},
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL,
    PRIMARY KEY (binary_id, idx)
  );

  CREATE TABLE signing_keys (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    name ${T} NOT NULL,
    value ${T} NOT NULL,
    keyid ${T} NOT NULL,
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL,
    UNIQUE (org, keyid)
  );

  CREATE TABLE binary_signatures (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    binary_id ${T} NOT NULL REFERENCES binaries (id) ON DELETE CASCADE,
    signing_key_id ${T} NOT NULL REFERENCES signing_keys (id),
    signature ${T} NOT NULL,
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL,
    UNIQUE (binary_id, signing_key_id)
  );

  CREATE TABLE content_garbage (
    id BIGSERIAL PRIMARY KEY,
    item TEXT NOT NULL,
    inserted_at ${T} NOT NULL
  );

  -- Background work claimed by one instance at a time; the clock is the database's.
  CREATE TABLE leases (
    key ${T} PRIMARY KEY,
    owner ${T} NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
  );

  -- The S3 multipart upload of each binary's upload generation (not a foreign key: the content may outlive
  -- its record until the janitor deletes it).
  CREATE TABLE multipart_uploads (
    binary_id ${T} NOT NULL,
    generation INTEGER NOT NULL,
    upload_id TEXT NOT NULL,
    inserted_at ${T} NOT NULL,
    PRIMARY KEY (binary_id, generation)
  );
  `,
  // The signing-key lookup the actions make on every sign (search by value), indexed so it stays flat.
  `
  CREATE INDEX signing_keys_value ON signing_keys (org, value);
  `,
  // The event log both later stores write: device events from release management, audit events from access
  // control. Same columns as SQLite's; `seq` orders the log and is the webhooks' fan-out cursor.
  `
  CREATE TABLE events (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    type ${T} NOT NULL,
    subtype ${T} NOT NULL,
    resource_prn ${T},
    actor_prn ${T},
    data TEXT NOT NULL,
    inserted_at ${T} NOT NULL
  );
  CREATE INDEX events_resource ON events (resource_prn);
  CREATE INDEX events_inserted_at ON events (org, inserted_at);
  CREATE INDEX events_actor ON events (actor_prn);
  `,
  // Release management (SQLite's migration 6, docs/release-management.md). Flags are BOOLEAN, JSON stays text.
  // The rules several instances must not break are the database's: one product name and one device
  // identifier per organization, one bundle per id, one signature per bundle and key, one membership per
  // override and device, one claim per release and device. Cohort names are not unique (the API's rule):
  // clients that race to create one keep the oldest, which is the lowest `seq` whatever the commit order.
  `
  CREATE TABLE products (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    name ${T} NOT NULL,
    archived BOOLEAN NOT NULL DEFAULT false,
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL,
    UNIQUE (org, name)
  );

  CREATE TABLE cohorts (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    product_id ${T} NOT NULL REFERENCES products (id),
    name ${T} NOT NULL,
    description ${T},
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL
  );

  CREATE TABLE devices (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    product_id ${T} NOT NULL REFERENCES products (id),
    cohort_id ${T} REFERENCES cohorts (id),
    identifier ${T} NOT NULL,
    description ${T},
    quarantined BOOLEAN NOT NULL DEFAULT false,
    tags TEXT,
    target ${T},
    last_connected_at ${T},
    reported_bundle_prn ${T},
    reported_release_prn ${T},
    reported_release_version ${T},
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL,
    UNIQUE (org, identifier)
  );
  -- A share phase counts the cohort's devices at every claim.
  CREATE INDEX devices_cohort ON devices (cohort_id);

  CREATE TABLE bundles (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    name ${T},
    hash ${T} NOT NULL,
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL
  );

  CREATE TABLE bundle_binaries (
    bundle_id ${T} NOT NULL REFERENCES bundles (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    binary_id ${T} NOT NULL,
    custom_metadata TEXT NOT NULL,
    PRIMARY KEY (bundle_id, idx)
  );
  CREATE INDEX bundle_binaries_binary ON bundle_binaries (binary_id);

  CREATE TABLE bundle_signatures (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    bundle_id ${T} NOT NULL REFERENCES bundles (id) ON DELETE CASCADE,
    signing_key_id ${T} NOT NULL,
    keyid ${T} NOT NULL,
    signature ${T} NOT NULL,
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL,
    UNIQUE (bundle_id, signing_key_id)
  );

  CREATE TABLE releases (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    cohort_id ${T} NOT NULL REFERENCES cohorts (id),
    bundle_id ${T} NOT NULL REFERENCES bundles (id),
    name ${T} NOT NULL,
    description ${T},
    required BOOLEAN NOT NULL,
    disabled BOOLEAN NOT NULL,
    schedule_date ${T} NOT NULL,
    phase_mode ${T} NOT NULL,
    phase_value DOUBLE PRECISION NOT NULL,
    phase_tags TEXT,
    version ${T},
    version_requirement ${T},
    next_release_id ${T},
    claims INTEGER NOT NULL DEFAULT 0,
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL
  );
  CREATE INDEX releases_cohort ON releases (cohort_id, seq);
  CREATE INDEX releases_bundle ON releases (bundle_id);

  CREATE TABLE release_claims (
    release_id ${T} NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    device_id ${T} NOT NULL,
    inserted_at ${T} NOT NULL,
    PRIMARY KEY (release_id, device_id)
  );

  CREATE TABLE bundle_overrides (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    bundle_id ${T} NOT NULL REFERENCES bundles (id),
    name ${T} NOT NULL,
    description ${T},
    starts_at ${T} NOT NULL,
    ends_at ${T},
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL
  );
  CREATE INDEX bundle_overrides_bundle ON bundle_overrides (bundle_id);

  CREATE TABLE bundle_override_devices (
    seq BIGSERIAL PRIMARY KEY,
    org ${T} NOT NULL,
    override_id ${T} NOT NULL REFERENCES bundle_overrides (id) ON DELETE CASCADE,
    device_id ${T} NOT NULL REFERENCES devices (id),
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL,
    UNIQUE (override_id, device_id)
  );
  CREATE INDEX bundle_override_devices_device ON bundle_override_devices (device_id);
  `,
  // Access, audit and webhooks (SQLite migration 7): scoped API keys, webhooks and their durable delivery
  // queue; audit events go into the events table above. Unlike SQLite, the fan-out cursor is a position in
  // (inserting transaction, seq) order: transactions commit in any order, so `seq` alone could pass an event
  // that becomes visible later (store/pg/access-store.ts). `xid` is filled by its default on every insert,
  // whoever inserts.
  `
  CREATE TABLE api_keys (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    name ${T} NOT NULL,
    role ${T} NOT NULL,
    hash ${T} NOT NULL,
    expires_at ${T},
    revoked_at ${T},
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL
  );
  CREATE INDEX api_keys_org_seq ON api_keys (org, seq);

  CREATE TABLE webhooks (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    url ${T} NOT NULL,
    description ${T},
    enabled_events TEXT NOT NULL,
    state ${T} NOT NULL,
    secret ${T} NOT NULL,
    previous_secret ${T},
    previous_secret_expires_at ${T},
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL
  );
  CREATE INDEX webhooks_org_seq ON webhooks (org, seq);

  CREATE TABLE webhook_deliveries (
    seq BIGSERIAL PRIMARY KEY,
    org ${T} NOT NULL,
    webhook_id ${T} NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id ${T} NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    first_queued_at BIGINT NOT NULL
  );
  CREATE INDEX webhook_deliveries_head ON webhook_deliveries (org, webhook_id, seq);

  CREATE TABLE webhook_cursor (org ${T} PRIMARY KEY, last_xid xid8 NOT NULL, last_seq BIGINT NOT NULL);

  ALTER TABLE events ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
  CREATE INDEX events_fanout ON events (org, xid, seq);
  `,
  // The catalog's version, for the update check's cache (releases/catalog-cache.ts): one counter, raised at
  // commit by every transaction that changes what a check reads of the catalog (cohorts, releases but not
  // their claims, bundles, binaries, their signatures, keys, versions, artifacts). Deferred to commit, the
  // counter's row lock is the last lock a transaction takes, so it cannot be part of a deadlock; and a
  // reader that sees the new number sees the changes committed with it.
  `
  CREATE TABLE catalog_version (only_row BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row), n BIGINT NOT NULL);
  INSERT INTO catalog_version (n) VALUES (0);
  CREATE FUNCTION catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    UPDATE catalog_version SET n = n + 1;
    RETURN NULL;
  END
  $$;
  ${[
    'cohorts',
    'bundles',
    'bundle_binaries',
    'binaries',
    'binary_signatures',
    'signing_keys',
    'artifacts',
    'artifact_versions',
  ]
    .map(
      (table) => `CREATE CONSTRAINT TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE ON ${table}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog_changed();`,
    )
    .join('\n  ')}
  CREATE CONSTRAINT TRIGGER catalog_changed AFTER INSERT OR DELETE OR UPDATE OF cohort_id, bundle_id, name,
    description, required, disabled, schedule_date, phase_mode, phase_value, phase_tags, version,
    version_requirement, next_release_id ON releases
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog_changed();
  `,
];
