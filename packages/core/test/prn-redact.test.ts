import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { formatPrn, isPrn, parsePrn, requirePrn } from '../src/prn.js';
import { redactSecrets, redactUrl } from '../src/redact.js';

const ORG = '8ced1740-7fbf-407e-9d6e-afec9399cc41';
const ID = '18d20763-bc23-40b0-abe5-702ea134be53';

describe('PRNs', () => {
  it('parses organization and resource PRNs', () => {
    expect(parsePrn(`prn:1:${ORG}`)).toEqual({ org: ORG });
    expect(parsePrn(`prn:1:${ORG}:signing_key:${ID}`)).toEqual({ org: ORG, type: 'signing_key', id: ID });
    expect(parsePrn(`prn:1:${ORG}:artifact_version:${ID.toUpperCase()}`)?.type).toBe('artifact_version');
  });

  it.each([
    'prn:1:o:abcd:b:binary-123',
    `prn:2:${ORG}:binary:${ID}`,
    `arn:1:${ORG}:binary:${ID}`,
    `prn:1:${ORG}:artifacts:${ID}`,
    `prn:1:${ORG}:binary:not-a-uuid`,
    `prn:1:${ORG}:binary`,
    `prn:1:${ORG}:binary:${ID}:extra`,
    'prn:1:user:' + ID,
    '',
  ])('rejects %s', (value) => {
    expect(parsePrn(value)).toBeUndefined();
    expect(isPrn(value)).toBe(false);
  });

  it('checks the type', () => {
    expect(isPrn(`prn:1:${ORG}:binary:${ID}`, 'binary')).toBe(true);
    expect(isPrn(`prn:1:${ORG}:binary:${ID}`, 'artifact')).toBe(false);
    expect(formatPrn(ORG)).toBe(`prn:1:${ORG}`);
    expect(formatPrn(ORG, 'binary', ID)).toBe(`prn:1:${ORG}:binary:${ID}`);
  });

  it('requirePrn returns the trimmed PRN or an InputError naming the input', () => {
    expect(requirePrn(` prn:1:${ORG}:binary:${ID}\n`, 'binary', 'binary-prn')).toBe(
      `prn:1:${ORG}:binary:${ID}`,
    );
    for (const bad of ['', 'nope', `prn:1:${ORG}:artifact:${ID}`]) {
      let caught: unknown;
      try {
        requirePrn(bad, 'binary', 'binary-prn');
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(InputError);
      expect((caught as InputError).input).toBe('binary-prn');
      expect((caught as Error).message).toContain(':binary:');
    }
  });
});

describe('redactUrl', () => {
  it('masks query values of the registry presigned URL, keeping host and path', () => {
    const url = `http://127.0.0.1:4000/_presigned/parts/${ID}/3?expires=1732262400&sig=9f86d081884c7d659a2feaa0c55ad015`;
    expect(redactUrl(url)).toBe(`http://127.0.0.1:4000/_presigned/parts/${ID}/3?expires=***&sig=***`);
  });

  it('masks S3 signature parameters and credentials', () => {
    const url =
      'https://u:p@bucket.s3.amazonaws.com/org/bin.fw?partNumber=1&uploadId=abc&X-Amz-Credential=AKIA%2F2024&X-Amz-Signature=deadbeef';
    const out = redactUrl(url);
    expect(out).toBe(
      'https://***@bucket.s3.amazonaws.com/org/bin.fw?partNumber=***&uploadId=***&X-Amz-Credential=***&X-Amz-Signature=***',
    );
    for (const secret of ['deadbeef', 'AKIA', 'abc', 'u:p']) expect(out).not.toContain(secret);
  });

  it('masks token-like path segments but keeps UUIDs and names', () => {
    const token = 'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdo';
    expect(redactUrl(`https://up.example.com/u/${token}/firmware-release-candidate.fw`)).toBe(
      'https://up.example.com/u/***/firmware-release-candidate.fw',
    );
  });

  it('masks the query of something that is not a URL', () => {
    expect(redactUrl('/relative/path?sig=abc')).toBe('/relative/path?***');
    expect(redactUrl('no-query')).toBe('no-query');
  });
});

describe('redactSecrets', () => {
  it('masks every occurrence, longest first, and each line of a multi-line secret', () => {
    const pem =
      '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIKn5o8c0secretsecretsecret\n-----END PRIVATE KEY-----';
    const text = `key=tok123 again tok123456; line: MC4CAQAwBQYDK2VwBCIEIKn5o8c0secretsecretsecret\n${pem}`;
    const out = redactSecrets(text, ['tok123', 'tok123456', pem, '', '  ']);
    expect(out).not.toContain('tok123');
    expect(out).not.toContain('MC4CAQAw');
    expect(out).toContain('key=*** again ***;');
    expect(out).not.toContain('******');
  });
});
