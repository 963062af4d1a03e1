/**
 * The API client for an action, after one quick request that tells a wrong base URL or API key apart from
 * everything else. The client retries network failures with up to about a minute of back-off, which is
 * right mid-upload and wrong for a typo in `base-url`: the first contact gets a short budget and an error
 * naming the input.
 */
import {
  ApiError,
  InputError,
  NetworkError,
  PeridioClient,
  type Logger,
  type RetryPolicy,
} from '@peridio-actions/core';
import { blameBaseUrl, blameBaseUrlFor404 } from './first-contact.js';
import type { ApiInputs } from './inputs.js';

const FIRST_CONTACT_RETRY = { maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 2_000, deadlineMs: 15_000 };
const FIRST_CONTACT_TIMEOUT_MS = 15_000;

/**
 * Test hook: PERIDIO_ACTIONS_RETRY_MAX_DELAY_MS caps every back-off sleep (API calls and part uploads), so
 * the reliability suite can spend the whole retry budget in seconds. Unset, the policy is the core's.
 */
export function retryOverride(env: NodeJS.ProcessEnv = process.env): Partial<RetryPolicy> | undefined {
  const value = env.PERIDIO_ACTIONS_RETRY_MAX_DELAY_MS;
  if (value === undefined || value === '') return undefined;
  const maxDelayMs = Number(value);
  if (!Number.isInteger(maxDelayMs) || maxDelayMs < 0)
    throw new Error(`PERIDIO_ACTIONS_RETRY_MAX_DELAY_MS must be a whole number of ms, got '${value}'`);
  return { maxDelayMs, baseDelayMs: Math.min(500, maxDelayMs) };
}

export async function connect(
  inputs: ApiInputs,
  options: { action: string; logger: Logger; probe: (client: PeridioClient) => Promise<unknown> },
): Promise<PeridioClient> {
  const common = {
    baseUrl: inputs.baseUrl,
    apiKey: inputs.apiKey,
    logger: options.logger,
    userAgent: `peridio-actions/${options.action}`,
  };
  const retry = retryOverride();
  const firstTimeoutMs = Math.min(
    FIRST_CONTACT_TIMEOUT_MS,
    inputs.requestTimeoutMs ?? FIRST_CONTACT_TIMEOUT_MS,
  );
  const probeClient = new PeridioClient({
    ...common,
    retry: { ...FIRST_CONTACT_RETRY, ...retry },
    timeoutMs: firstTimeoutMs,
  });
  try {
    await options.probe(probeClient);
  } catch (err) {
    const wrongUrl =
      err instanceof ApiError && err.status === 404
        ? await blameBaseUrlFor404(probeClient, inputs.baseUrl)
        : blameBaseUrl(err, inputs.baseUrl);
    if (wrongUrl !== undefined) throw wrongUrl;
    throwFirstContactError(err, inputs.baseUrl);
  }
  return new PeridioClient({ ...common, retry, timeoutMs: inputs.requestTimeoutMs });
}

/** Throws what the first request's failure means for the inputs; returns when it concerns the resource. */
function throwFirstContactError(err: unknown, baseUrl: string): void {
  if (err instanceof NetworkError) {
    throw new InputError(
      'base-url',
      `the registry at ${baseUrl} does not answer (${err.code ?? err.message}). Check base-url, and that the ` +
        `registry is running and reachable from this runner.`,
      { cause: err },
    );
  }
  if (err instanceof ApiError && err.status === 401) {
    throw new InputError(
      'api-key',
      `the registry at ${baseUrl} rejected the API key (HTTP 401). Check the secret passed as api-key, and ` +
        `that it is a key of this registry (base-url).`,
      { cause: err },
    );
  }
  if (err instanceof ApiError && err.status === 403) {
    throw new InputError(
      'api-key',
      `the API key may not ${err.method} ${err.path} (HTTP 403: ${err.detail}); give it that permission or use another key`,
      { cause: err },
    );
  }
  // 404 and the like concern the resource, not the connection: the flow reports them naming the input.
  if (err instanceof ApiError && err.status === 404) return;
  throw err;
}
