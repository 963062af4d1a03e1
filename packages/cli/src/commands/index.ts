/**
 * Every resource the CLI knows, in help order. Release management (bundles, releases, cohorts,
 * products, devices get-update) joins here as more ResourceSpecs once the registry serves them.
 */
import type { ResourceSpec } from '../spec.js';
import { artifactVersions } from './artifact-versions.js';
import { artifacts } from './artifacts.js';
import { binaries } from './binaries.js';
import { binaryParts } from './binary-parts.js';
import { binarySignatures } from './binary-signatures.js';
import { signingKeys } from './signing-keys.js';

export const RESOURCES: ResourceSpec[] = [
  artifacts,
  artifactVersions,
  binaries,
  binaryParts,
  binarySignatures,
  signingKeys,
];
