import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { searchQuery } from '../../src/client/search.js';

describe('searchQuery', () => {
  it('builds the exact find-or-create search the Peridio CLI sends', () => {
    expect(searchQuery({ target: 'arm64', artifact_version_prn: 'prn:1:o:artifact_version:v' })).toBe(
      "target:'arm64' and artifact_version_prn:'prn:1:o:artifact_version:v'",
    );
  });

  it('accepts dotted field names such as signature.signing_key.keyid', () => {
    expect(searchQuery({ binary_prn: 'b', 'signature.signing_key.keyid': 'abc' })).toBe(
      "binary_prn:'b' and signature.signing_key.keyid:'abc'",
    );
  });

  it("escapes single quotes as \\' and backslashes as \\\\", () => {
    expect(searchQuery({ target: "it's" })).toBe("target:'it\\'s'");
    // Unescaped, the trailing backslash would escape the closing quote.
    expect(searchQuery({ target: 'dir\\', state: 'signed' })).toBe("target:'dir\\\\' and state:'signed'");
  });

  it('writes numbers and booleans bare', () => {
    expect(searchQuery({ size: 14, flag: false })).toBe('size:14 and flag:false');
  });

  it('refuses no clauses, more than five, bad field names and non-finite numbers', () => {
    expect(() => searchQuery({})).toThrow(InputError);
    expect(() => searchQuery({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 })).toThrow(/1 to 5 clauses/);
    expect(() => searchQuery({ "x' or name:'y": 'z' })).toThrow(InputError);
    expect(() => searchQuery({ size: Number.NaN })).toThrow(/finite/);
  });
});
