import { createHash, randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

export interface BenchFile {
  path: string;
  size: number;
  sha256Hex: string;
}

/** `16M`, `256M`, `1G`, `4G`, `512K` or plain bytes. */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([KMG]?)(?:i?B)?$/i.exec(text.trim());
  if (!match) throw new Error(`not a size: ${text}`);
  const unit = { '': 1, K: KiB, M: MiB, G: GiB }[match[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Math.round(Number(match[1]) * unit);
}

export function formatSize(bytes: number): string {
  if (bytes >= GiB && bytes % GiB === 0) return `${bytes / GiB} GiB`;
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  return `${bytes} B`;
}

const BLOCK = MiB;
const BLOCKS_PER_WRITE = 8;

/**
 * Writes `size` bytes: one random 1 MiB block repeated, each copy stamped with its block number so no two
 * blocks (or parts) are equal and nothing downstream can deduplicate them. Hashing on the way gives the
 * file's SHA-256 for the curl floor without a timed read later.
 */
export async function makeFile(dir: string, name: string, size: number): Promise<BenchFile> {
  const path = join(dir, name);
  const block = randomBytes(BLOCK);
  const chunk = Buffer.alloc(BLOCK * BLOCKS_PER_WRITE);
  for (let i = 0; i < BLOCKS_PER_WRITE; i++) block.copy(chunk, i * BLOCK);
  const hash = createHash('sha256');
  const handle = await open(path, 'w');
  try {
    let blockNumber = 0;
    for (let written = 0; written < size;) {
      for (let i = 0; i < BLOCKS_PER_WRITE; i++) chunk.writeBigUInt64BE(BigInt(blockNumber++), i * BLOCK);
      const piece = chunk.subarray(0, Math.min(chunk.length, size - written));
      hash.update(piece);
      await handle.write(piece);
      written += piece.length;
    }
  } finally {
    await handle.close();
  }
  return { path, size, sha256Hex: hash.digest('hex') };
}
