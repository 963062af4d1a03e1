import * as github from '@actions/github';
import {
  InputError,
  readAllInputs,
  type BundleComponent,
  type CustomMetadata,
  type Ed25519KeyPair,
} from '@peridio-actions/core';
import {
  API_READERS,
  readJsonObject,
  readLines,
  readList,
  readOptional,
  readPrivateKey,
  readVersion,
  withApi,
  type ApiInputs,
} from '@peridio-actions/action-common/inputs';

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
function parseComponent(line: string): BundleComponent {
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

function readComponents(): Pick<CreateBundleInputs, 'components' | 'componentsInput'> {
  const artifact = readOptional('artifact');
  const version = artifact !== undefined ? readVersion(github.context.ref) : readOptional('version');
  const lines = readLines('artifact-versions');
  if (artifact !== undefined && lines !== undefined) {
    throw new InputError('artifact-versions', 'give artifact (with version) or artifact-versions, not both');
  }
  if (lines) return { components: lines.map(parseComponent), componentsInput: 'artifact-versions' };
  if (artifact === undefined || version === undefined) {
    throw new InputError('artifact', 'is required (or artifact-versions): which artifact version to bundle');
  }
  return { components: [{ artifact, version }], componentsInput: 'artifact' };
}

/** Every input is read, in action.yml order, and all mistakes are reported together. */
export function readInputs(): CreateBundleInputs {
  // The key first: it is masked before any other input can fail and print something.
  const key = settle(() =>
    readOptional('signing-key-private') !== undefined ? readPrivateKey('signing-key-private') : undefined,
  );
  const { components, ...rest } = readAllInputs({
    ...API_READERS,
    key,
    components: readComponents,
    targets: () => readLines('targets'),
    name: () => readOptional('name'),
    customMetadata: () => readJsonObject('custom-metadata'),
    expectTargets: () => readList('expect-targets'),
  });
  const { api, ...inputs } = withApi(rest);
  return { api, ...inputs, ...components };
}

/** Runs `read` now; the returned reader gives its value or throws its error, when readAllInputs asks. */
function settle<T>(read: () => T): () => T {
  try {
    const value = read();
    return () => value;
  } catch (err) {
    return () => {
      throw err;
    };
  }
}
