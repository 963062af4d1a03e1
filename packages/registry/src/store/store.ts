import type {
  ArtifactRow,
  ArtifactVersionRow,
  BinaryRow,
  PartRow,
  PartStateName,
  SignatureRow,
  SigningKeyRow,
} from './rows.js';

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
  leases: LeaseRepository;
  multipartUploads: MultipartUploadRepository;
}

/**
 * The database cannot be reached or dropped the connection (a restart, a failover): nothing was changed by
 * the call that raised it, or its transaction was rolled back. Routes answer 503 so clients retry.
 */
export class StoreUnavailable extends Error {
  constructor(cause: unknown) {
    super(`the database is unavailable: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/** Raised by inserts and updates that would break a uniqueness invariant; names what clashed. */
export class UniqueViolation extends Error {
  constructor(readonly what: string) {
    super(`unique violation: ${what}`);
  }
}

// ---- listing -------------------------------------------------------------------------------------------

type FilterOp = '=' | '<' | '<=' | '>' | '>=' | 'contains' | 'icontains';

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

interface MetaRepository {
  get(key: string): Promise<string | undefined>;
  /** Sets the key only when unset; returns the value it holds afterwards. */
  setIfAbsent(key: string, value: string): Promise<string>;
}

type Timestamps = { inserted_at: string; updated_at: string };
type NewArtifact = Omit<ArtifactRow, 'seq'>;
type NewArtifactVersion = Omit<ArtifactVersionRow, 'seq'>;
type NewBinary = Pick<
  BinaryRow,
  'id' | 'org' | 'artifact_version_id' | 'target' | 'hash' | 'size' | 'description' | 'custom_metadata'
> &
  Timestamps;
type NewSigningKey = Omit<SigningKeyRow, 'seq'>;
type NewSignature = Omit<SignatureRow, 'seq'>;

/** Fields to change; undefined keeps the stored value. */
type Changes<T> = { [K in keyof T]?: T[K] } & { updated_at: string };

interface ArtifactRepository extends Listable<ArtifactRow> {
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

interface ArtifactVersionRepository extends Listable<ArtifactVersionRow> {
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
type BinaryTransition =
  | { to: 'hashable' | 'hashing' | 'signed' }
  /** Back to uploadable for a new upload: content reference cleared, upload generation bumped. */
  | { to: 'uploadable'; hashError: string | null }
  /** Only when still `hashing` in `generation`: the server's check of that upload passed. */
  | { to: 'signable'; generation: number; blobHash: string }
  | { to: 'destroyed' };

interface BinaryRepository extends Listable<BinaryRow> {
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
  /**
   * Holds the binary's record until the transaction ends, so another instance's change of the same binary
   * waits (PostgreSQL: SELECT … FOR UPDATE). A no-op where the store serialises transactions already.
   */
  lock(id: string): Promise<void>;
  /** Ids of binaries in this state, oldest change first. */
  idsInState(state: BinaryRow['state']): Promise<string[]>;
  /** Whether any binary still refers to this content. */
  blobReferenced(blobHash: string): Promise<boolean>;
  /** Deletes the record with its parts and signatures. */
  delete(id: string): Promise<void>;
}

interface RegisterPart {
  binaryId: string;
  idx: number;
  id: string;
  org: string;
  hash: string;
  size: number;
  at: string;
}

interface PartRepository {
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

interface SigningKeyRepository extends Listable<SigningKeyRow> {
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
  /** Ids of the signed binaries whose only signature is by this key, in creation order. */
  soleSignerOf(id: string): Promise<string[]>;
  delete(id: string): Promise<void>;
}

export interface SignatureWithKey {
  signature: string;
  signing_key_id: string;
  keyid: string;
  value: string;
}

interface SignatureRepository extends Listable<SignatureRow> {
  find(org: string, id: string): Promise<SignatureRow | undefined>;
  findByKey(binaryId: string, signingKeyId: string): Promise<SignatureRow | undefined>;
  /** A binary's signatures in creation order, with their keys. */
  forBinary(binaryId: string): Promise<SignatureWithKey[]>;
  /** The same for a page of binaries in one query (a networked database pays per round trip). */
  forBinaries(binaryIds: string[]): Promise<Map<string, SignatureWithKey[]>>;
  count(binaryId: string): Promise<number>;
  /** @throws UniqueViolation('signing_key_id') when this key signed the binary already */
  insert(row: NewSignature): Promise<SignatureRow>;
  delete(id: string): Promise<void>;
  /** Every signature made with this key (a retired key's signatures go with it). */
  deleteByKey(signingKeyId: string): Promise<void>;
}

/** Content to delete once the transaction that made it unreachable has committed. */
export type ContentGarbage =
  /** `generation`: the upload whose parts go (content stores that keep each upload apart use it). */
  | { kind: 'parts'; binaryId: string; generation?: number }
  | { kind: 'part'; binaryId: string; file: string }
  | { kind: 'blob'; blobHash: string };

/**
 * A durable to-delete list: content becomes garbage inside the transaction that drops its records, and is
 * deleted after the commit (janitor.ts). A rollback drops the garbage record too, so content is never
 * deleted for a change that did not happen; a crash before the deletion leaves the record for the next start.
 */
interface ContentGarbageRepository {
  add(item: ContentGarbage, at: string): Promise<number>;
  pending(): Promise<{ id: number; item: ContentGarbage }[]>;
  done(id: number): Promise<void>;
}

/**
 * Leases on background work (a binary's hash check, a sweep), so that of several registry instances one
 * does it, and another takes it over once the lease of an instance that died runs out. The clock is the
 * store's (PostgreSQL's `now()`), so instances never compare their own clocks.
 */
interface LeaseRepository {
  /** Takes the lease when it is free, expired or already this owner's (then renews it). */
  claim(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Gives it up, only if this owner holds it. */
  release(key: string, owner: string): Promise<void>;
}

/**
 * The content store's id of each upload it started (an S3 multipart upload id), so that instances racing
 * on a binary's first parts all use the same upload.
 */
export interface MultipartUploadRepository {
  get(binaryId: string, generation: number): Promise<string | undefined>;
  /** Records the id unless one is recorded; returns the recorded one (of two instances, one wins). */
  setIfAbsent(binaryId: string, generation: number, uploadId: string, at: string): Promise<string>;
  delete(binaryId: string, generation: number): Promise<void>;
}
