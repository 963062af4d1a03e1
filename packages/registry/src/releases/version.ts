/**
 * Elixir's `Version` (hexdocs.pm/elixir/Version.html), which Peridio uses for `version` and
 * `version_requirement`: strict SemVer 2.0 versions (no `v` prefix, no leading zeros) and requirements of
 * `op version` clauses joined by `and` / `or` (`and` binds tighter). Only `~>` takes a partial version.
 */
export interface Version {
  major: number;
  minor: number;
  patch: number;
  /** Pre-release identifiers: numbers compare numerically, strings in ASCII order, numbers first. */
  pre: (string | number)[];
  build: string | undefined;
}

type Operator = '==' | '!=' | '>' | '>=' | '<' | '<=' | '~>';
const OPERATORS: readonly Operator[] = ['==', '!=', '>=', '<=', '~>', '>', '<'];

interface Clause {
  op: Operator;
  version: Version;
  /** For `~>`: how many parts were written (2 → `~> 2.1` allows < 3.0.0; 3 → `~> 2.1.3` allows < 2.2.0). */
  parts: number;
}

/** Disjunction of conjunctions: `a and b or c` = `[[a, b], [c]]`. */
export type Requirement = Clause[][];

export class VersionSyntaxError extends Error {}

const NUMBER = /^(0|[1-9]\d*)$/;
const IDENT = /^[0-9A-Za-z-]+$/;

function parsePre(text: string, original: string): (string | number)[] {
  return text.split('.').map((id) => {
    if (!IDENT.test(id)) throw new VersionSyntaxError(`'${original}': pre-release part '${id}' is invalid`);
    if (/^\d+$/.test(id)) {
      if (!NUMBER.test(id))
        throw new VersionSyntaxError(`'${original}': numeric pre-release '${id}' has a leading zero`);
      return Number(id);
    }
    return id;
  });
}

function parseParts(text: string, allowPartial: boolean): { version: Version; parts: number } {
  const original = text;
  let rest = text;
  let build: string | undefined;
  const plus = rest.indexOf('+');
  if (plus >= 0) {
    build = rest.slice(plus + 1);
    rest = rest.slice(0, plus);
    if (!build || !build.split('.').every((id) => IDENT.test(id)))
      throw new VersionSyntaxError(`'${original}': build metadata is invalid`);
  }
  let pre: (string | number)[] = [];
  const dash = rest.indexOf('-');
  if (dash >= 0) {
    pre = parsePre(rest.slice(dash + 1), original);
    rest = rest.slice(0, dash);
  }
  const numbers = rest.split('.');
  const partial = allowPartial && numbers.length === 2 && pre.length === 0 && build === undefined;
  if (numbers.length !== 3 && !partial) {
    throw new VersionSyntaxError(
      `'${original}' is not a version: expected MAJOR.MINOR.PATCH (e.g. 1.2.3, no 'v' prefix)`,
    );
  }
  for (const n of numbers) {
    if (!NUMBER.test(n)) {
      throw new VersionSyntaxError(
        `'${original}' is not a version: '${n}' must be a number without leading zeros`,
      );
    }
  }
  const [major, minor, patch = 0] = numbers.map(Number) as [number, number, number?];
  return { version: { major, minor, patch, pre, build }, parts: numbers.length };
}

export function parseVersion(text: string): Version {
  return parseParts(text, false).version;
}

export function isVersion(text: string): boolean {
  try {
    parseVersion(text);
    return true;
  } catch {
    return false;
  }
}

function compareIds(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** SemVer precedence; build metadata is ignored, a pre-release sorts before its release. */
export function compareVersions(a: Version, b: Version): number {
  const d = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (d !== 0) return Math.sign(d);
  if (a.pre.length === 0 && b.pre.length === 0) return 0;
  if (a.pre.length === 0) return 1;
  if (b.pre.length === 0) return -1;
  for (let i = 0; i < Math.min(a.pre.length, b.pre.length); i++) {
    const c = compareIds(a.pre[i]!, b.pre[i]!);
    if (c !== 0) return Math.sign(c);
  }
  return Math.sign(a.pre.length - b.pre.length);
}

function parseClause(text: string, original: string): Clause {
  const trimmed = text.trim();
  const op = OPERATORS.find((o) => trimmed.startsWith(o));
  // A bare version means `==`, as in Elixir.
  const versionText = (op ? trimmed.slice(op.length) : trimmed).trim();
  if (!versionText)
    throw new VersionSyntaxError(`'${original}': '${trimmed}' has no version after the operator`);
  try {
    const { version, parts } = parseParts(versionText, op === '~>');
    return { op: op ?? '==', version, parts };
  } catch (err) {
    throw new VersionSyntaxError(
      `'${original}' is not a valid version requirement: ${(err as Error).message} (operators: == != > >= < <= ~>, joined by 'and' / 'or')`,
    );
  }
}

export function parseRequirement(text: string): Requirement {
  if (text.trim() === '')
    throw new VersionSyntaxError(`'${text}' is not a valid version requirement: it is empty`);
  if (/\|\||&&|\^|,/.test(text)) {
    throw new VersionSyntaxError(
      `'${text}' is not a valid version requirement: use Elixir syntax (== != > >= < <= ~>, joined by 'and' / 'or'), not npm ranges`,
    );
  }
  return text.split(/\s+or\s+/).map((alt) => alt.split(/\s+and\s+/).map((c) => parseClause(c, text)));
}

function matchClause(v: Version, clause: Clause): boolean {
  const c = compareVersions(v, clause.version);
  switch (clause.op) {
    case '==':
      return c === 0;
    case '!=':
      return c !== 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '~>': {
      const { major, minor } = clause.version;
      // Elixir's upper bound is the next minor (or major) with pre-release `0`, so its pre-releases are out too.
      const upper: Version =
        clause.parts === 2
          ? { major: major + 1, minor: 0, patch: 0, pre: [0], build: undefined }
          : { major, minor: minor + 1, patch: 0, pre: [0], build: undefined };
      return c >= 0 && compareVersions(v, upper) < 0;
    }
  }
}

export function matches(version: Version | string, requirement: Requirement | string): boolean {
  const v = typeof version === 'string' ? parseVersion(version) : version;
  const req = typeof requirement === 'string' ? parseRequirement(requirement) : requirement;
  return req.some((all) => all.every((clause) => matchClause(v, clause)));
}
