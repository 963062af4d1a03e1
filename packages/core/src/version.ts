import { InputError } from './errors.js';

/** semver.org's recommended regex: pre-release and build metadata are kept, leading zeros refused. */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/**
 * The artifact version from a git ref: `refs/tags/v1.2.3` (or the bare tag `v1.2.3` / `1.2.3`) → `1.2.3`.
 * Anything else is refused rather than guessed, since a published version cannot be renamed.
 */
export function versionFromRef(ref: string | undefined): string {
  const value = ref?.trim() ?? '';
  if (!value) {
    throw new InputError('version', 'no git ref to derive it from; pass `version` explicitly');
  }
  let tag = value;
  if (value.startsWith('refs/')) {
    if (!value.startsWith('refs/tags/')) {
      throw new InputError(
        'version',
        `the workflow ran for ${value}, which is not a tag; pass \`version\` explicitly or run on a tag like v1.2.3`,
      );
    }
    tag = value.slice('refs/tags/'.length);
  }
  const candidate = tag.replace(/^v/, '');
  if (!SEMVER.test(candidate)) {
    throw new InputError(
      'version',
      `tag '${tag}' is not a semantic version (v1.2.3 or 1.2.3); pass \`version\` explicitly`,
    );
  }
  return candidate;
}

/** A strict SemVer (a leading `v` stripped), as release versions must be: `1.2.3`, `v1.2.3-rc.1`. */
export function strictVersion(value: string, input = 'version'): string {
  const candidate = value.trim().replace(/^v/, '');
  if (!SEMVER.test(candidate)) {
    throw new InputError(
      input,
      `'${value}' is not a semantic version: give MAJOR.MINOR.PATCH, e.g. 1.2.3 or v1.2.3-rc.1`,
    );
  }
  return candidate;
}

/** Any registry version string: 1..128 characters, no control characters or surrounding spaces. */
export function validateVersion(v: string): string {
  if (v.length === 0) throw new InputError('version', 'must not be empty');
  if (v.length > 128) throw new InputError('version', `must be at most 128 characters, got ${v.length}`);
  if (/[\u0000-\u001f\u007f]/.test(v)) throw new InputError('version', 'must not contain control characters');
  if (v.trim() !== v) throw new InputError('version', 'must not start or end with whitespace');
  return v;
}
