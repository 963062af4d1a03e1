import type { PartHashes, RunningHash } from './blobs/blob-store.js';
import type { RegistryContext } from './context.js';

interface Prefix {
  /** Part files (`<index>-<sha256>`) hashed so far, in index order. */
  files: string[];
  /** `<file>@<row updated_at>` of each hashed part, to notice a part uploaded again under the same name. */
  keys: string[];
  /** Each hashed file's identity and change times when it was read: a later write shows up here. */
  stamps: string[];
  bytes: number;
  /** Kept by the blob store (off the event loop for the local directory). */
  hash: RunningHash;
  /** The advance under way, so reads of one binary never interleave. */
  busy: Promise<void>;
  touched: number;
}

/** Binaries in upload at once whose running hash is kept; the oldest is dropped beyond that. */
const MAX_TRACKED = 64;

/**
 * The whole-content SHA-256 computed while the parts arrive: as soon as parts 1..k are valid, their files
 * are read in order into a running hash, in the background. When the client asks for `hashing`, the
 * server's own check then only has to finish the tail instead of reading the whole content again, which on
 * a multi-GB binary is most of the wait. Part files are named by index and SHA-256 and never change once
 * in place, so a prefix stays right as long as the same files make it up; any other file restarts it.
 * A file written to since it was read (a failing disk, a tampering process) changes its ctime, and then
 * the check reads everything again, as it would without this shortcut.
 */
export class PrefixDigests {
  private readonly prefixes = new Map<string, Prefix>();
  private hashes: PartHashes | undefined;

  constructor(
    private readonly ctx: Pick<RegistryContext, 'store' | 'blobs' | 'logger'>,
    private readonly signal: AbortSignal,
  ) {
    signal.addEventListener('abort', () => void this.hashes?.close(), { once: true });
  }

  /** A part of this binary just became valid: hash on as far as the valid parts are contiguous. */
  partValid(binaryId: string): void {
    const prefix = this.prefixFor(binaryId);
    prefix.busy = prefix.busy
      .then(() => this.advance(binaryId, prefix))
      .catch((err: unknown) => {
        // A failed read only costs the shortcut: the check reads everything itself.
        this.forget(binaryId, prefix);
        if (!this.signal.aborted) this.ctx.logger.debug(`prefix hash of ${binaryId} dropped: ${String(err)}`);
      });
  }

  /**
   * The SHA-256 and byte count of exactly these part files, hashing whatever the background work has not
   * reached yet. Undefined when nothing useful is kept; the caller then reads every part itself.
   */
  async digestOf(binaryId: string, files: string[]): Promise<{ digest: string; bytes: number } | undefined> {
    const prefix = this.prefixes.get(binaryId);
    if (!prefix) return undefined;
    await prefix.busy;
    if (this.prefixes.get(binaryId) !== prefix) return undefined; // dropped by a failed read meanwhile
    this.prefixes.delete(binaryId);
    if (prefix.files.length === 0 || !samePrefix(prefix.files, files)) {
      prefix.hash.drop();
      return undefined;
    }
    const stamps = await Promise.all(prefix.files.map((file) => this.ctx.blobs.partVersion(binaryId, file)));
    const unchanged = stamps.every((stamp, i) => stamp !== undefined && stamp === prefix.stamps[i]);
    if (!unchanged) {
      this.ctx.logger.warning(
        `binary ${binaryId}: a part changed on disk after it arrived; reading it all again`,
      );
      prefix.hash.drop();
      return undefined;
    }
    try {
      for (const file of files.slice(prefix.files.length)) await this.hashFileInto(binaryId, file, prefix);
      return { digest: await prefix.hash.digest(), bytes: prefix.bytes };
    } finally {
      prefix.hash.drop();
    }
  }

  private prefixFor(binaryId: string): Prefix {
    let prefix = this.prefixes.get(binaryId);
    if (!prefix) {
      if (this.prefixes.size >= MAX_TRACKED) {
        const oldest = [...this.prefixes.entries()].sort((a, b) => a[1].touched - b[1].touched)[0]!;
        this.forget(oldest[0], oldest[1]);
      }
      prefix = {
        files: [],
        keys: [],
        stamps: [],
        bytes: 0,
        hash: this.newHash(),
        busy: Promise.resolve(),
        touched: 0,
      };
      this.prefixes.set(binaryId, prefix);
    }
    prefix.touched = Date.now();
    return prefix;
  }

  private async advance(binaryId: string, prefix: Prefix): Promise<void> {
    if (this.prefixes.get(binaryId) !== prefix) return;
    const parts = await this.ctx.store.parts.list(binaryId);
    // A re-upload of a part under the same name gets a new row time: that, too, restarts the prefix.
    const keys = parts.map((p) => (p.state === 'valid' ? `${p.file}@${p.updated_at}` : null));
    if (!samePrefix(prefix.keys, keys)) {
      // A hashed part was replaced (re-upload, reset to other content): start over.
      prefix.files = [];
      prefix.keys = [];
      prefix.stamps = [];
      prefix.bytes = 0;
      prefix.hash.drop();
      prefix.hash = this.newHash();
    }
    for (let i = prefix.files.length; i < parts.length; i++) {
      const part = parts[i]!;
      if (part.idx !== i + 1 || part.state !== 'valid' || !part.file) return;
      await this.hashFileInto(binaryId, part.file, prefix);
      prefix.keys.push(keys[i]!);
    }
  }

  private async hashFileInto(binaryId: string, file: string, prefix: Prefix): Promise<void> {
    const stamp = await this.ctx.blobs.partVersion(binaryId, file);
    if (stamp === undefined) throw new Error(`part ${file} is gone`);
    prefix.bytes += await prefix.hash.append(binaryId, file);
    prefix.files.push(file);
    prefix.stamps.push(stamp);
  }

  private newHash(): RunningHash {
    this.hashes ??= this.ctx.blobs.partHashes();
    return this.hashes.open();
  }

  private forget(binaryId: string, prefix: Prefix): void {
    if (this.prefixes.get(binaryId) === prefix) this.prefixes.delete(binaryId);
    prefix.hash.drop();
  }
}

function samePrefix(prefix: string[], files: (string | null)[]): boolean {
  if (prefix.length > files.length) return false;
  return prefix.every((file, i) => files[i] === file);
}
