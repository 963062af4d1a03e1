/**
 * When a presigned URL stops working, read from the URL itself. A retry after a dropped connection
 * should not send a whole part to a URL that is certain to be refused: some storage front ends answer an
 * expired URL by closing the connection rather than with a 403, and the bytes would go for nothing.
 */

/** Epoch ms at which the URL expires, if it says so (S3 SigV4, S3 SigV2, or `expires=<unix>`). */
export function presignedUrlExpiresAt(url: string): number | undefined {
  let query: URLSearchParams;
  try {
    query = new URL(url).searchParams;
  } catch {
    return undefined;
  }
  const amzDate = query.get('X-Amz-Date');
  const amzExpires = query.get('X-Amz-Expires');
  if (amzDate && amzExpires && /^\d+$/.test(amzExpires)) {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    if (!m) return undefined;
    const signedAt = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
    return signedAt + Number(amzExpires) * 1000;
  }
  const unix = query.get('Expires') ?? query.get('expires');
  if (unix && /^\d{1,12}$/.test(unix)) return Number(unix) * 1000;
  return undefined;
}

/** True when the URL says it expires within `marginMs` of `nowMs`; unknown expiry counts as fresh. */
export function presignedUrlExpiring(url: string, nowMs: number = Date.now(), marginMs = 5_000): boolean {
  const expiresAt = presignedUrlExpiresAt(url);
  return expiresAt !== undefined && expiresAt - nowMs <= marginMs;
}
