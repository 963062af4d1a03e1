/** Every resource the CLI knows, in help order: publishing binaries, then release management. */
import type { ResourceSpec } from '../spec.js';
import { artifactVersions } from './artifact-versions.js';
import { artifacts } from './artifacts.js';
import { binaries } from './binaries.js';
import { binaryParts } from './binary-parts.js';
import { binarySignatures } from './binary-signatures.js';
import { bundleOverrides } from './bundle-overrides.js';
import { bundles } from './bundles.js';
import { cohorts } from './cohorts.js';
import { devices } from './devices.js';
import { products } from './products.js';
import { releases } from './releases.js';
import { signingKeys } from './signing-keys.js';

export const RESOURCES: ResourceSpec[] = [
  artifacts,
  artifactVersions,
  binaries,
  binaryParts,
  binarySignatures,
  signingKeys,
  products,
  cohorts,
  devices,
  bundles,
  releases,
  bundleOverrides,
];
