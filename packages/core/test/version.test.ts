import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { normalizeVersion, validateVersion, versionFromRef } from '../src/version.js';

function refusal(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).input).toBe('version');
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

describe('versionFromRef', () => {
  it.each([
    ['refs/tags/v1.2.3', '1.2.3'],
    ['refs/tags/1.2.3', '1.2.3'],
    ['refs/tags/v1.2.3-rc.1+build.5', '1.2.3-rc.1+build.5'],
    ['refs/tags/v0.0.0-alpha', '0.0.0-alpha'],
    ['v1.2.3', '1.2.3'],
    ['1.2.3', '1.2.3'],
    ['v10.20.30+meta', '10.20.30+meta'],
  ])('%s → %s', (ref, version) => {
    expect(versionFromRef(ref)).toBe(version);
  });

  it.each(['refs/heads/main', 'refs/pull/12/merge'])(
    'refuses the branch/PR ref %s and says to pass `version`',
    (ref) => {
      const err = refusal(() => versionFromRef(ref));
      expect(err.message).toContain('pass `version`');
      expect(err.message).toContain(ref);
    },
  );

  // Artifact versions are free-form: a tag that is not SemVer is still a version, with only the `v` dropped.
  it.each([
    ['refs/tags/v1.2', '1.2'],
    ['refs/tags/v2024.06.1', '2024.06.1'],
    ['refs/tags/release-2024', 'release-2024'],
    ['refs/tags/vv1.2.3', 'vv1.2.3'],
    ['refs/tags/v01.2.3', '01.2.3'],
    ['latest', 'latest'],
  ])('takes the free-form tag %s as %s', (ref, version) => {
    expect(versionFromRef(ref)).toBe(version);
  });

  it('refuses a missing ref', () => {
    expect(refusal(() => versionFromRef(undefined)).message).toContain('pass `version`');
    expect(refusal(() => versionFromRef('')).message).toContain('pass `version`');
  });
});

describe('normalizeVersion', () => {
  it('drops a v before a digit, as for tags, and says what it dropped', () => {
    expect(normalizeVersion('v2.0.0')).toEqual({ version: '2.0.0', stripped: 'v2.0.0' });
    expect(normalizeVersion('2.0.0')).toEqual({ version: '2.0.0' });
    expect(normalizeVersion('vnext')).toEqual({ version: 'vnext' });
  });
  it('agrees with the tag rule', () => {
    expect(normalizeVersion('v1.2').version).toBe(versionFromRef('refs/tags/v1.2'));
  });
});

describe('validateVersion', () => {
  it('accepts free-form versions up to 128 characters', () => {
    expect(validateVersion('2024.11-nightly')).toBe('2024.11-nightly');
    expect(validateVersion('x'.repeat(128))).toBe('x'.repeat(128));
  });

  it.each([
    ['empty', ''],
    ['too long', 'x'.repeat(129)],
    ['a newline', '1.2.3\nrm -rf'],
    ['a tab', '1.2\t3'],
    ['DEL', '1.2.3\u007f'],
    ['surrounding spaces', ' 1.2.3 '],
  ])('refuses %s', (_name, value) => {
    refusal(() => validateVersion(value));
  });
});
