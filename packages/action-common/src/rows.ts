/** Summary rows and outputs of each flow's result, shared by the separate actions and publish-binary. */
import {
  formatBytes,
  formatRate,
  type EnsuredArtifactVersion,
  type SignBinaryResult,
  type UploadBinaryResult,
} from '@peridio-actions/core';
import type { SummaryRow } from './summary.js';

export function versionOutputs(result: EnsuredArtifactVersion) {
  return {
    'artifact-prn': result.artifact.prn,
    'artifact-version-prn': result.artifactVersion.prn,
    version: result.artifactVersion.version,
    created: result.created,
  };
}

export function uploadOutputs(result: UploadBinaryResult) {
  return {
    'binary-prn': result.binary.prn,
    hash: result.digest.sha256Hex,
    size: result.digest.size,
    state: result.binary.state,
    'parts-uploaded': result.partsUploaded,
    'parts-skipped': result.partsSkipped,
  };
}

export function signOutputs(result: SignBinaryResult) {
  return {
    signature: result.signature,
    'binary-signature-prn': result.binarySignaturePrn,
    'signing-key-prn': result.signingKey.prn,
    state: result.binary.state,
  };
}

export function versionRows(result: EnsuredArtifactVersion): SummaryRow[] {
  return [
    ['Artifact', result.artifact.name],
    ['Version', `${result.artifactVersion.version}${result.created ? ' (created)' : ''}`],
    ['Artifact PRN', result.artifact.prn],
    ['Artifact version PRN', result.artifactVersion.prn],
  ];
}

export function uploadRows(result: UploadBinaryResult): SummaryRow[] {
  return [
    ['Target', result.binary.target],
    ['Version', result.artifactVersion.version],
    ['Size', `${formatBytes(result.digest.size)} (${result.digest.size} bytes)`],
    ['SHA-256', result.digest.sha256Hex],
    ['Parts sent / skipped', `${result.partsUploaded} / ${result.partsSkipped}`],
    ['Throughput', result.bytesUploaded > 0 ? formatRate(result.bytesPerSecond) : 'nothing sent'],
    ['Binary PRN', result.binary.prn],
    ['Artifact version PRN', result.artifactVersion.prn],
  ];
}

/** `withBinary` for sign-binary on its own, whose summary has no upload table to say which binary it was. */
export function signRows(result: SignBinaryResult, options: { withBinary?: boolean } = {}): SummaryRow[] {
  const binary: SummaryRow[] = options.withBinary
    ? [
        ['Target', result.binary.target],
        ['SHA-256', result.binary.hash ?? undefined],
        ['Binary PRN', result.binary.prn],
      ]
    : [];
  return [
    ...binary,
    ['State', result.binary.state],
    ['Key id', result.keyid],
    ['Signing key PRN', result.signingKey.prn],
    ['Signature', result.signature],
    ['Binary signature PRN', result.binarySignaturePrn],
    ['Signed', result.alreadySigned ? 'already, by this key (nothing sent)' : 'by this run'],
  ];
}
