import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  isVersion,
  matches,
  parseRequirement,
  parseVersion,
} from '../../src/releases/version.js';

describe('Elixir Version parsing', () => {
  it('accepts strict SemVer 2.0 with pre-release and build', () => {
    for (const v of [
      '0.0.0',
      '1.2.3',
      '10.20.30',
      '1.0.0-rc.1',
      '1.0.0-alpha-1.0',
      '1.0.0+build.5',
      '1.0.0-0.3.7+x',
    ])
      expect(isVersion(v), v).toBe(true);
  });

  it('refuses a v prefix, partial versions, leading zeros and junk, quoting the value', () => {
    for (const v of [
      'v1.2.3',
      '1.2',
      '1',
      '01.2.3',
      '1.02.3',
      '1.2.3-01',
      '1.2.3-',
      '1.2.3+',
      '1.2.3.4',
      '',
      'latest',
    ])
      expect(isVersion(v), v).toBe(false);
    expect(() => parseVersion('v1.2.3')).toThrow(/'v1.2.3'/);
  });

  it('orders by SemVer precedence, ignoring build metadata', () => {
    const order = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
      '1.1.0',
      '2.0.0',
    ];
    for (let i = 1; i < order.length; i++) {
      expect(
        compareVersions(parseVersion(order[i - 1]!), parseVersion(order[i]!)),
        `${order[i - 1]} < ${order[i]}`,
      ).toBe(-1);
    }
    expect(compareVersions(parseVersion('1.0.0+a'), parseVersion('1.0.0+b'))).toBe(0);
  });
});

describe('Elixir Version requirements', () => {
  const cases: [string, string, boolean][] = [
    ['1.0.0', '== 1.0.0', true],
    ['1.0.1', '== 1.0.0', false],
    ['1.0.0', '1.0.0', true], // a bare version means ==
    ['1.0.1', '!= 1.0.0', true],
    ['1.0.0', '!= 1.0.0', false],
    ['2.0.0', '> 1.9.9', true],
    ['1.9.9', '> 1.9.9', false],
    ['1.9.9', '>= 1.9.9', true],
    ['1.0.0', '< 1.0.1', true],
    ['1.0.0-rc.1', '< 1.0.0', true],
    ['1.0.1', '<= 1.0.0', false],
    ['2.5.0', '>= 2.0.0 and < 3.0.0', true],
    ['3.0.0', '>= 2.0.0 and < 3.0.0', false],
    ['0.9.0', '< 1.0.0 or >= 2.0.0', true],
    ['1.5.0', '< 1.0.0 or >= 2.0.0', false],
    ['2.1.0', '== 1.0.0 or >= 2.0.0 and < 2.1.0', false], // and binds tighter than or
    ['1.0.0', '== 1.0.0 or >= 2.0.0 and < 2.1.0', true],
    ['2.9.9', '~> 2.0', true],
    ['3.0.0', '~> 2.0', false],
    ['3.0.0-rc.0', '~> 2.0', false],
    ['2.1.9', '~> 2.1.3', true],
    ['2.1.2', '~> 2.1.3', false],
    ['2.2.0', '~> 2.1.3', false],
  ];
  for (const [version, requirement, expected] of cases) {
    it(`${version} ${expected ? 'satisfies' : 'does not satisfy'} '${requirement}'`, () => {
      expect(matches(version, requirement)).toBe(expected);
    });
  }

  it('refuses malformed requirements with an error that quotes them', () => {
    for (const req of [
      '^1.0.0',
      '>= 1.0',
      '>=1.0.0 || <0.5.0',
      '>= 1.0.0, < 2.0.0',
      'foo',
      '',
      '>=',
      '== v1.0.0',
      '~> 1',
    ])
      expect(() => parseRequirement(req), req).toThrow(
        new RegExp(`'${req.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`),
      );
  });
});
