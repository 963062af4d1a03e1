import * as github from '@actions/github';
import {
  InputError,
  type BundleComponent,
  type CustomMetadata,
  type Ed25519KeyPair,
} from '@peridio-actions/core';
import {
  readApiInputs,
  readJsonObject,
  readLines,
  readList,
  readOptional,
  readPrivateKey,
  readVersion,
  type ApiInputs,
} from '../../action-common/src/inputs.js';

export interface CreateBundleInputs {
  api: ApiInputs;
  components: BundleComponent[];
  componentsInput: 'artifact' | 'artifact-versions';
  targets?: string[];
  name?: string;
  customMetadata?: CustomMetadata;
  expectTargets?: string[];
  key?: Ed25519KeyPair;
}

/** `artifact@version` (the last `@` splits, so scoped names work) or an artifact version PRN. */
export function parseComponent(line: string): BundleComponent {
  if (line.startsWith('prn:')) return { prn: line };
  const at = line.lastIndexOf('@');
  if (at <= 0 || at === line.length - 1) {
    throw new InputError(
      'artifact-versions',
      `'${line}' is neither artifact@version nor an artifact version PRN`,
    );
  }
  return { artifact: line.slice(0, at), version: line.slice(at + 1) };
}

export function readInputs(): CreateBundleInputs {
  const key =
    readOptional('signing-key-private') !== undefined ? readPrivateKey('signing-key-private') : undefined;
  const artifact = readOptional('artifact');
  const lines = readLines('artifact-versions');
  if (artifact !== undefined && lines !== undefined) {
    throw new InputError('artifact-versions', 'give artifact (with version) or artifact-versions, not both');
  }
  if (artifact === undefined && lines === undefined) {
    throw new InputError('artifact', 'is required (or artifact-versions): which artifact version to bundle');
  }
  return {
    api: readApiInputs(),
    components: lines
      ? lines.map(parseComponent)
      : [{ artifact: artifact!, version: readVersion(github.context.ref) }],
    componentsInput: lines ? 'artifact-versions' : 'artifact',
    targets: readLines('targets'),
    name: readOptional('name'),
    customMetadata: readJsonObject('custom-metadata'),
    expectTargets: readList('expect-targets'),
    key,
  };
}
