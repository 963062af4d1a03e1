/** Where an S3 store is and how to reach it: no SDK here, so choosing the local directory never loads it. */

export interface S3Location {
  bucket: string;
  /** '' or ending in '/'. */
  prefix: string;
}

/** `s3://bucket[/prefix]` → bucket and key prefix; undefined when it is not such a URL. */
export function parseS3Url(url: string): S3Location | undefined {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) return undefined;
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  return { bucket: m[1]!, prefix: prefix ? `${prefix}/` : '' };
}

export interface S3Settings {
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** Given keys; otherwise the SDK's own chain (profiles, instance roles, web identity). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** Endpoint, region and keys from the standard AWS variables of `env`. */
export function s3Settings(env: NodeJS.ProcessEnv, forcePathStyle: boolean): S3Settings {
  return {
    endpoint: env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    forcePathStyle,
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          },
        }
      : {}),
  };
}
