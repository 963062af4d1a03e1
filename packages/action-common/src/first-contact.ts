/**
 * The first contact's answers that mean `base-url` points at something that is not the Admin API: a 404
 * on a list every registry has, a body that is not JSON, a TLS handshake with a plain-HTTP server. Each
 * becomes an InputError naming base-url and saying what was found there (never a pasted HTML page).
 */
import { ApiError, InputError, NetworkError, NotJsonError, type PeridioClient } from '@peridio-actions/core';

const TLS_ON_PLAIN_HTTP = /EPROTO|ERR_SSL|WRONG_VERSION_NUMBER|packet length too long/i;

export function blameBaseUrl(err: unknown, baseUrl: string): InputError | undefined {
  if (err instanceof NotJsonError) {
    return new InputError(
      'base-url',
      `${baseUrl} answered ${err.method} ${err.path} with HTTP ${err.status} and ${err.looksLikeHtml ? 'an HTML page' : 'a body that is not JSON'}, ` +
        `so it is not the Admin API. ${WHAT_TO_PASS}`,
      { cause: err },
    );
  }
  if (
    err instanceof NetworkError &&
    baseUrl.startsWith('https:') &&
    TLS_ON_PLAIN_HTTP.test(`${err.code ?? ''} ${err.message}`)
  ) {
    return new InputError(
      'base-url',
      `the TLS handshake with ${new URL(baseUrl).host} failed (${err.code ?? 'EPROTO'}): the server there speaks ` +
        `plain HTTP. Use ${baseUrl.replace(/^https:/, 'http:')} if that registry is meant to be reached without TLS.`,
      { cause: err },
    );
  }
  return undefined;
}

/**
 * A 404 on a resource (an artifact-version PRN) may be the user's PRN; a 404 on the artifacts list, which
 * every registry answers, is the base URL.
 */
export async function blameBaseUrlFor404(
  client: PeridioClient,
  baseUrl: string,
): Promise<InputError | undefined> {
  try {
    await client.listArtifacts({ limit: 1 });
    return undefined;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      return new InputError(
        'base-url',
        `${baseUrl} answered GET /artifacts with HTTP 404 (${err.detail}): there is no Admin API at that path. ${WHAT_TO_PASS}`,
        { cause: err },
      );
    }
    return blameBaseUrl(err, baseUrl);
  }
}

const WHAT_TO_PASS =
  'Pass the API root without a path: https://api.cremini.peridio.com for Peridio, or the root of a ' +
  'self-hosted registry such as http://localhost:4000.';
