/**
 * Where a binary came from, recorded in its custom metadata so that anyone looking at it in the registry
 * can find the commit and the run that produced it. The action layer reads it from the runner; core only
 * merges it.
 */
import { InputError } from '../errors.js';
import type { CustomMetadata } from '../types.js';

export interface Provenance {
  /** `owner/name` */
  repository?: string;
  commit?: string;
  ref?: string;
  workflowRunUrl?: string;
}

/** Peridio's SDK refuses larger custom metadata (serialised) before sending it, and the API's schema caps it there. */
export const MAX_CUSTOM_METADATA_BYTES = 1_000_000;

/** The user's own keys win: provenance fills in only the keys they did not set. */
export function withProvenance(
  user: CustomMetadata | undefined,
  provenance: Provenance | undefined,
): CustomMetadata | undefined {
  const recorded: CustomMetadata = {};
  if (provenance?.repository) recorded.repository = provenance.repository;
  if (provenance?.commit) recorded.commit = provenance.commit;
  if (provenance?.ref) recorded.ref = provenance.ref;
  if (provenance?.workflowRunUrl) recorded.workflow_run_url = provenance.workflowRunUrl;
  if (Object.keys(recorded).length === 0) return user;
  const merged = { ...recorded, ...user };
  checkCustomMetadataSize(merged, 'custom-metadata');
  return merged;
}

export function checkCustomMetadataSize(metadata: CustomMetadata, inputName: string): void {
  const bytes = Buffer.byteLength(JSON.stringify(metadata));
  if (bytes > MAX_CUSTOM_METADATA_BYTES) {
    throw new InputError(
      inputName,
      `is ${bytes} bytes of JSON; the registry accepts at most ${MAX_CUSTOM_METADATA_BYTES}`,
    );
  }
}
