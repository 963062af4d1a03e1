import type {
  ArtifactRow,
  ArtifactVersionRow,
  BinaryRow,
  PartRow,
  PartStateName,
  SignatureRow,
  SigningKeyRow,
} from './rows.js';
import type { AccessStore } from './access-store.js';
import type { ReleaseStore } from './release-store.js';

/**
 * The registry's records, behind one interface so the routes never see SQL. A Store is composed of one
 * repository per resource; later resources (release management, API keys, events) add a repository here
 * and to `Repositories`. Every method is async so a networked database (PostgreSQL) can implement it.
 *
 * Methods outside `transaction` run on their own. Inside `transaction(fn)`, `fn` gets the repositories
 * bound to that transaction and must use only them (the SQLite implementation serialises transactions, so
 * calling the outer store from inside would wait for itself). Methods validate nothing about the protocol:
 * routes decide what is allowed, the store keeps the invariants that the data model needs (one live
 * binary per version and target, one version string per artifact, one keyid per organization).
 */
export interface Store extends Repositories {
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T>;
  /**
   * Release management's records (release-store.ts) of one organization, over this store's database. Its
   * methods are domain operations that are each one transaction, so they are not part of `Repositories`.
   */
  releaseStore(org: string): ReleaseStore;
  /** API keys, webhooks and the webhook delivery queue (access-store.ts), each method one transaction. */
  accessStore(org: string): AccessStore;
  close(): Promise<void>;
}

export interface Repositories {
  meta: MetaRepository;
  artifacts: ArtifactRepository;
  artifactVersions: ArtifactVersionRepository;
  binaries: BinaryRepository;
  parts: PartRepository;
  signingKeys: SigningKeyRepository;
  signatures: SignatureRepository;
  contentGarbage: ContentGarbageRepository;
}

/** Raised by inserts and updates that would break a uniqueness invariant; names what clashed. */
export class UniqueViolation extends Error {
  constructor(readonly what: string) {
    super(`unique violation: ${what}`);
  }
}

// ---- listing -------------------------------------------------------------------------------------------

export type FilterOp = '=' | '<' | '<=' | '>' | '>=' | 'contains' | 'icontains';

/**
 * One parsed search clause. `value` is already typed by the field's kind: a number for integers, a
 * timestamp string for dates (`secondsOnly` compares only YYYY-MM-DDTHH:MM:SS), a record id for PRNs
 * (`org` too), `never` when nothing can match (a PRN of another type).
 */
export type Filter =
  | { field: string; op: FilterOp; value: string | number; secondsOnly?: boolean }
  | { field: string; op: '='; prn: { org: string; id: string } }
  | { field: string; never: true };

export interface ListQuery {
  org: string;
  limit: number;
  order: 'asc' | 'desc';
  /** Rows strictly after this `seq` in `order` (0 / MAX_SAFE_INTEGER for the first page). */
  after: number;
  filters: Filter[];
}

export interface Page<T> {
  rows: T[];
  /** Whether rows follow the last one of this page. */
  more: boolean;
}

/** A resource that lists in pages; which filter fields it knows is the implementation's column map. */
export interface Listable<T> {
  list(query: ListQuery): Promise<Page<T>>;
}

// ---- repositories --------------------------------------------------------------------------------------

export interface MetaRepository {
  get(key: string): Promise<string | undefined>;
  /** Sets the key only when unset; returns the value it holds afterwards. */
  setIfAbsent(key: string, value: string): Promise<string>;
}

type Timestamps = { inserted_at: string; updated_at: string };
export type NewArtifact = Omit<ArtifactRow, 'seq'>;
export type NewArtifactVersion = Omit<ArtifactVersionRow, 'seq'>;
export type NewBinary = Pick<
  BinaryRow,
  'id' | 'org' | 'artifact_version_id' | 'target' | 'hash' | 'size' | 'description' | 'custom_metadata'
> &
  Timestamps;
export type NewSigningKey = Omit<SigningKeyRow, 'seq'>;
export type NewSignature = Omit<SignatureRow, 'seq'>;

/** Fields to change; undefined keeps the stored value. */
export type Changes<T> = { [K in keyof T]?: T[K] } & { updated_at: string };

export interface ArtifactRepository extends Listable<ArtifactRow> {
  find(org: string, id: string): Promise<ArtifactRow | undefined>;
  idTaken(id: string): Promise<boolean>;
  nameTaken(org: string, name: string, exceptId?: string): Promise<boolean>;
  /** @throws UniqueViolation('id' | 'name') */
  insert(row: NewArtifact): Promise<ArtifactRow>;
  update(
    id: string,
    changes: Changes<Pick<ArtifactRow, 'name' | 'description' | 'custom_metadata'>>,
  ): Promise<ArtifactRow>;
  hasVersions(id: string): Promise<boolean>;
  delete(id: string): Promise<void>;
}

export interface ArtifactVersionRepository extends Listable<ArtifactVersionRow> {
  find(org: string, id: string): Promise<ArtifactVersionRow | undefined>;
  idTaken(id: string): Promise<boolean>;
  versionTaken(artifactId: string, version: string): Promise<boolean>;
  /** @throws UniqueViolation('id' | 'version') */
  insert(row: NewArtifactVersion): Promise<ArtifactVersionRow>;
  update(
    id: string,
    changes: Changes<Pick<ArtifactVersionRow, 'description' | 'custom_metadata'>>,
  ): Promise<ArtifactVersionRow>;
  /** Deletes the version with its destroyed binaries (and their signatures). */
  delete(id: string): Promise<void>;
}

/** A state change of a binary, as the lifecycle (lifecycle.ts) decides it. */
export type BinaryTransition =
  | { to: 'hashable' | 'hashing' | 'signed' }
  /** Back to uploadable for a new upload: content reference cleared, upload generation bumped. */
  | { to: 'uploadable'; hashError: string | null }
  /** Only when still `hashing` in `generation`: the server's check of that upload passed. */
  | { to: 'signable'; generation: number; blobHash: string }
  | { to: 'destroyed' };

export interface BinaryRepository extends Listable<BinaryRow> {
  find(org: string, id: string): Promise<BinaryRow | undefined>;
  idTaken(id: string): Promise<boolean>;
  /** The binary of this version and target that is not destroyed (there is at most one). */
  findLive(versionId: string, target: string): Promise<BinaryRow | undefined>;
  hasLive(versionId: string): Promise<boolean>;
  /** Starts in `uploadable`. @throws UniqueViolation('id' | 'target') */
  insert(row: NewBinary): Promise<BinaryRow>;
  update(
    id: string,
    changes: Changes<Pick<BinaryRow, 'hash' | 'size' | 'description' | 'custom_metadata'>>,
  ): Promise<BinaryRow>;
  /** Applies the change; false when its precondition (signable's generation) no longer holds. */
  transition(id: string, change: BinaryTransition, at: string): Promise<boolean>;
  /** Ids of binaries in this state, oldest change first. */
  idsInState(state: BinaryRow['state']): Promise<string[]>;
  /** Whether any binary still refers to this content. */
  blobReferenced(blobHash: string): Promise<boolean>;
  /** Deletes the record with its parts and signatures. */
  delete(id: string): Promise<void>;
}

export interface RegisterPart {
  binaryId: string;
  idx: number;
  id: string;
  org: string;
  hash: string;
  size: number;
  at: string;
}

export interface PartRepository {
  /** All parts of a binary by index. */
  list(binaryId: string): Promise<PartRow[]>;
  find(binaryId: string, idx: number): Promise<PartRow | undefined>;
  hasAfter(binaryId: string, idx: number): Promise<boolean>;
  /**
   * Creates the part, or overwrites it to wait for new bytes (`uploadable`). The stored content stays
   * attached only when the hash is the same; `replacedFile` is content that can go.
   */
  register(part: RegisterPart): Promise<{ row: PartRow; replacedFile: string | null }>;
  /**
   * The part's bytes arrived and match: `valid` with its content reference. Only when the part still has
   * this hash and size and its binary is `uploadable`; false otherwise.
   */
  markValid(
    binaryId: string,
    idx: number,
    expect: { hash: string; size: number },
    file: string,
    at: string,
  ): Promise<boolean>;
  /**
   * A PUT was refused. Only a part that is not `valid`, still has this hash and size, and whose binary is
   * `uploadable` changes: a bad request never undoes a good upload nor touches a binary past upload.
   */
  markRejected(
    binaryId: string,
    idx: number,
    expect: { hash: string; size: number },
    state: Exclude<PartStateName, 'valid' | 'uploadable'>,
    at: string,
  ): Promise<boolean>;
  /** Deletes the part records; returns the content references they held. */
  deleteAll(binaryId: string): Promise<string[]>;
}

export interface SigningKeyRepository extends Listable<SigningKeyRow> {
  find(org: string, id: string): Promise<SigningKeyRow | undefined>;
  /** By full keyid, or the first key whose keyid starts with `prefix16` (16 hex). */
  findByKeyid(org: string, keyid: string): Promise<SigningKeyRow | undefined>;
  findByKeyidPrefix(org: string, prefix16: string): Promise<SigningKeyRow | undefined>;
  keyidTaken(org: string, keyid: string, exceptId?: string): Promise<boolean>;
  /** @throws UniqueViolation('keyid') */
  insert(row: NewSigningKey): Promise<SigningKeyRow>;
  update(
    id: string,
    changes: Changes<Pick<SigningKeyRow, 'name' | 'value' | 'keyid'>>,
  ): Promise<SigningKeyRow>;
  inUse(id: string): Promise<boolean>;
  delete(id: string): Promise<void>;
}

export interface SignatureWithKey {
  signature: string;
  signing_key_id: string;
  keyid: string;
  value: string;
}

export interface SignatureRepository extends Listable<SignatureRow> {
  find(org: string, id: string): Promise<SignatureRow | undefined>;
  findByKey(binaryId: string, signingKeyId: string): Promise<SignatureRow | undefined>;
  /** A binary's signatures in creation order, with their keys. */
  forBinary(binaryId: string): Promise<SignatureWithKey[]>;
  count(binaryId: string): Promise<number>;
  /** @throws UniqueViolation('signing_key_id') when this key signed the binary already */
  insert(row: NewSignature): Promise<SignatureRow>;
  delete(id: string): Promise<void>;
}

/** Content to delete once the transaction that made it unreachable has committed. */
export type ContentGarbage =
  | { kind: 'parts'; binaryId: string }
  | { kind: 'part'; binaryId: string; file: string }
  | { kind: 'blob'; blobHash: string };

/**
 * A durable to-delete list: content becomes garbage inside the transaction that drops its records, and is
 * deleted after the commit (janitor.ts). A rollback drops the garbage record too, so content is never
 * deleted for a change that did not happen; a crash before the deletion leaves the record for the next start.
 */
export interface ContentGarbageRepository {
  add(item: ContentGarbage, at: string): Promise<number>;
  pending(): Promise<{ id: number; item: ContentGarbage }[]>;
  done(id: number): Promise<void>;
}
