/**
 * The SHA-256 of each part, beside the whole-file hash: Chromium runs WebCrypto's digest on the calling
 * thread, so done in the hash worker it would take turns with the whole-file hash; here it has a thread of
 * its own. The part's buffer comes in transferred (not copied) and goes back the same way for reuse.
 */
export interface PartRequest {
  index: number;
  buffer: ArrayBuffer;
  size: number;
}

export type PartAnswer =
  { index: number; hash: string; buffer: ArrayBuffer } | { index: number; error: string };

const scope = self as unknown as {
  postMessage(message: PartAnswer, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<PartRequest>) => void) | null;
};

const hex = (digest: ArrayBuffer) =>
  Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');

scope.onmessage = ({ data: { index, buffer, size } }) => {
  crypto.subtle.digest('SHA-256', new Uint8Array(buffer, 0, size)).then(
    (digest) => scope.postMessage({ index, hash: hex(digest), buffer }, [buffer]),
    (err: unknown) => scope.postMessage({ index, error: String(err) }),
  );
};
