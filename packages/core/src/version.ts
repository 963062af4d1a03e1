import { InputError } from './errors.js';

/** semver.org's recommended regex: pre-release and build metadata are kept, leading zeros refused. */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** Strict SemVer, for what needs it (a Peridio release); artifact versions themselves are free-form. */
export function isSemver(v: string): boolean {
  return SEMVER.test(v);
}

/**
 * The tag a git ref names: `refs/tags/v1.2` (or the bare tag) → `v1.2`. A branch or pull-request ref is
 * refused rather than guessed, since a published version cannot be renamed.
 */
export function tagFromRef(ref: string | undefined): string {
  const value = ref?.trim() ?? '';
  if (!value) {
    throw new InputError('version', 'no git ref to derive it from; pass `version` explicitly');
  }
  if (!value.startsWith('refs/')) return value;
  if (!value.startsWith('refs/tags/')) {
    throw new InputError(
      'version',
      `the workflow ran for ${value}, which is not a tag; pass \`version\` explicitly or run on a tag like v1.2.3`,
    );
  }
  return value.slice('refs/tags/'.length);
}

/**
 * One rule for a version given explicitly and one taken from a tag: a leading `v` before a digit is
 * dropped (`v1.2` → `1.2`, `v2024.06.1` → `2024.06.1`), so jobs that mix the two agree on one version.
 * `stripped` is the original when the `v` was dropped, for the notice that says so.
 */
export function normalizeVersion(raw: string): { version: string; stripped?: string } {
  const version = validateVersion(/^v\d/.test(raw) ? raw.slice(1) : raw);
  return version === raw ? { version } : { version, stripped: raw };
}

/** The artifact version of a git ref: `refs/tags/v1.2.3` → `1.2.3`; any tag is a valid version. */
export function versionFromRef(ref: string | undefined): string {
  return normalizeVersion(tagFromRef(ref)).version;
}

/** Any registry version string: 1..128 characters, no control characters or surrounding spaces. */
export function validateVersion(v: string): string {
  if (v.length === 0) throw new InputError('version', 'must not be empty');
  if (v.length > 128) throw new InputError('version', `must be at most 128 characters, got ${v.length}`);
  if ([...v].some((c) => c <= '\u001f' || c === '\u007f'))
    throw new InputError('version', 'must not contain control characters');
  if (v.trim() !== v) throw new InputError('version', 'must not start or end with whitespace');
  return v;
}
