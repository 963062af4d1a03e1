import { describe, expect, it } from 'vitest';
import { describeErrorBody, parseApiError } from '../../src/client/api-error.js';

describe('describeErrorBody', () => {
  it('reads the standard detail shape', () => {
    expect(describeErrorBody(404, '{"errors":{"detail":"Not Found"}}')).toEqual({
      detail: 'Not Found',
      fieldErrors: {},
    });
  });

  it('reads a validation map into fieldErrors and a sentence', () => {
    const body = JSON.stringify({
      errors: { target: ['has already been taken'], name: ["can't be blank", 'is invalid'] },
    });
    expect(describeErrorBody(422, body)).toEqual({
      detail: "target has already been taken; name can't be blank, is invalid",
      fieldErrors: { target: ['has already been taken'], name: ["can't be blank", 'is invalid'] },
    });
  });

  it('flattens nested validation maps with dotted field names', () => {
    const body = JSON.stringify({ errors: { custom_metadata: { foo: ['is too big'] } } });
    expect(describeErrorBody(422, body).fieldErrors).toEqual({ 'custom_metadata.foo': ['is too big'] });
  });

  it('reads {status}', () => {
    expect(describeErrorBody(403, '{"status":"forbidden"}').detail).toBe('forbidden');
  });

  it('reads the legacy {code, context} list, leaving out credential-like context keys', () => {
    const parameter = describeErrorBody(
      400,
      '{"errors":[{"code":"parameter","context":{"parameter":"number","reason":"required"}}]}',
    );
    expect(parameter).toEqual({
      detail: 'parameter (parameter: number, reason: required)',
      fieldErrors: { number: ['required'] },
    });
    const auth = describeErrorBody(
      401,
      '{"errors":[{"code":"unauthenticated","context":{"api_key":"badkey"}}]}',
    );
    expect(auth.detail).toBe('unauthenticated');
  });

  it('keeps non-JSON text (whitespace collapsed, truncated) and names the status for an empty body', () => {
    expect(describeErrorBody(502, 'Bad   gateway\n  upstream down').detail).toBe('Bad gateway upstream down');
    expect(describeErrorBody(503, '').detail).toBe('Service Unavailable');
    expect(describeErrorBody(500, 'x'.repeat(2000)).detail.length).toBeLessThanOrEqual(501);
  });

  it('reduces an HTML page to the status and its title, never the markup', () => {
    const page = `<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>${'<p>x</p>'.repeat(99)}</body></html>`;
    expect(describeErrorBody(502, page).detail).toBe('Bad Gateway (an HTML page titled "502 Bad Gateway")');
    expect(describeErrorBody(502, '<html>\n  Bad   gateway\n</html>').detail).toBe(
      'Bad Gateway (an HTML page)',
    );
  });

  it('prints unknown JSON as JSON', () => {
    expect(describeErrorBody(500, '{"oops":[1,2]}').detail).toBe('{"oops":[1,2]}');
  });
});

describe('parseApiError', () => {
  it('redacts secrets from detail and field messages and parses Retry-After', () => {
    const err = parseApiError({
      status: 429,
      method: 'GET',
      path: '/binaries',
      body: JSON.stringify({ errors: { api_key: ['sk-123 is rate limited'] } }),
      retryAfter: '3',
      secrets: ['sk-123'],
    });
    expect(err.status).toBe(429);
    expect(err.retryAfterMs).toBe(3000);
    expect(err.fieldErrors).toEqual({ api_key: ['*** is rate limited'] });
    expect(err.message).toBe('GET /binaries failed with HTTP 429: api_key *** is rate limited');
  });
});
