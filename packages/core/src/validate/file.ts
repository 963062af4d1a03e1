import { closeSync, openSync, statSync } from 'node:fs';
import { InputError } from '../errors.js';

export interface CheckedFile {
  path: string;
  size: number;
}

/**
 * The file to upload, checked before anything is created in the registry: a typo in `file` must not leave
 * an artifact version behind. Exists, is a regular file, can be opened for reading, and is not empty
 * unless `allowEmpty` (a 0-byte firmware image is almost always a build that silently produced nothing).
 */
export function checkFile(path: string, options: { allowEmpty?: boolean; input?: string } = {}): CheckedFile {
  const input = options.input ?? 'file';
  let size: number;
  try {
    const info = statSync(path);
    if (info.isDirectory()) throw new InputError(input, `${path} is a directory, not a file`);
    if (!info.isFile()) throw new InputError(input, `${path} is not a regular file`);
    size = info.size;
    closeSync(openSync(path, 'r'));
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new InputError(
        input,
        `${path} does not exist (relative paths start at the workspace, ${process.env.GITHUB_WORKSPACE ?? process.cwd()})`,
      );
    }
    throw new InputError(input, `${path} cannot be read (${code ?? (err as Error).message})`);
  }
  if (size === 0 && !options.allowEmpty) {
    throw new InputError(
      input,
      `${path} is empty (0 bytes), which usually means the build produced nothing; set allow-empty: true to publish it anyway`,
    );
  }
  return { path, size };
}
