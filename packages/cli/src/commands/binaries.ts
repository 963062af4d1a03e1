import {
  findArtifactVersion,
  InputError,
  publishBinary,
  searchQuery,
  uploadBinary,
  BINARY_STATES,
  type Binary,
  type BinaryState,
} from '@peridio-actions/core';
import { list, one, type Printable } from '../output.js';
import type { CommandContext, FlagSpec, ResourceSpec } from '../spec.js';
import { defined } from './artifacts.js';
import {
  customMetadata,
  LIST_FLAGS,
  listParams,
  METADATA_FLAGS,
  optionalInteger,
  prnFlag,
  signingKeyFromFlags,
  SIGNING_FLAGS,
  str,
} from './common.js';

const COLUMNS = ['prn', 'target', 'state', 'size', 'hash'];

const UPLOAD_FLAGS: FlagSpec[] = [
  {
    name: 'binary-part-size',
    description: 'Bytes per part (at least 5 MiB; default 16 MiB)',
    valueName: 'BYTES',
  },
  { name: 'concurrency', description: 'Parts uploaded at once, 1 to 16 (default 4)', valueName: 'N' },
];

/** Core names the file `file` and the part size `part-size`; this command spells them as Peridio's CLI does. */
const UPLOAD_INPUTS = { 'part-size': 'binary-part-size' };

export const binaries: ResourceSpec = {
  name: 'binaries',
  summary: 'Binaries: the content of an artifact version for one target, uploaded and signed',
  verbs: [
    {
      name: 'create',
      summary: 'Create a binary; with --content-path also upload (resumable) and sign it',
      details:
        'With --content-path the whole release of one file: find or create the record for the target, upload\n' +
        'the parts the registry lacks (a re-run resumes), wait until the registry verified the content, then\n' +
        'sign it with --signing-key-pair or --signing-key-private. Without a key it ends `signable`.\n' +
        'With --hash and --size only the record is created (upload later with `binaries upload` or `binary-parts`).',
      flags: [
        { name: 'artifact-version-prn', required: true, description: 'PRN of the artifact version' },
        { name: 'target', required: true, description: 'Target the content is for, e.g. arm64-linux' },
        { name: 'content-path', description: 'File to upload as the content', valueName: 'PATH' },
        {
          name: 'hash',
          description: 'SHA-256 of the content (hex; a sha256: prefix is accepted), with --size',
        },
        { name: 'size', description: 'Size of the content in bytes, with --hash', valueName: 'BYTES' },
        ...METADATA_FLAGS,
        { name: 'id', description: 'A UUID to create the record with (with --hash)' },
        ...UPLOAD_FLAGS,
        ...SIGNING_FLAGS,
      ],
      inputFlags: { ...UPLOAD_INPUTS, file: 'content-path', 'artifact-version-prn': 'artifact-version-prn' },
      examples: [
        'peridio binaries create --artifact-version-prn "$VERSION_PRN" --target arm64-linux \\\n    --content-path firmware.bin --signing-key-pair prod',
        'peridio binaries create --artifact-version-prn "$VERSION_PRN" --target arm64-linux \\\n    --content-path firmware.bin --signing-key-prn "$KEY_PRN" --signing-key-private key.pem',
        'peridio binaries create --artifact-version-prn "$VERSION_PRN" --target arm64-linux \\\n    --hash "sha256:$(sha256sum firmware.bin | cut -d" " -f1)" --size "$(stat -c%s firmware.bin)"',
      ],
      run: create,
    },
    {
      name: 'upload',
      summary: 'Upload a file as the content of an existing binary (resumable); ends signable',
      flags: [
        { name: 'binary-prn', required: true, description: 'PRN of the binary' },
        {
          name: 'file',
          required: true,
          aliases: ['content-path'],
          description: 'File to upload',
          valueName: 'PATH',
        },
        ...UPLOAD_FLAGS,
      ],
      inputFlags: UPLOAD_INPUTS,
      examples: ['peridio binaries upload --binary-prn "$BINARY_PRN" --file firmware.bin'],
      run: async (ctx) => {
        const binary = await ctx.client().getBinary(str(ctx.flags, 'binary-prn')!);
        const result = await uploadBinary({
          api: ctx.client(),
          artifactVersionPrn: binary.artifact_version_prn,
          target: binary.target,
          filePath: str(ctx.flags, 'file')!,
          ...uploadOptions(ctx),
        });
        return one('binary', result.binary, COLUMNS);
      },
    },
    {
      name: 'get',
      summary: 'Show one binary',
      flags: [prnFlag('binary')],
      examples: ['peridio binaries get --prn "$BINARY_PRN" --output table'],
      run: async (ctx) => one('binary', await ctx.client().getBinary(str(ctx.flags, 'prn')!), COLUMNS),
    },
    {
      name: 'list',
      summary: 'List binaries (one page), e.g. of one artifact version and target',
      flags: [
        { name: 'artifact-version-prn', description: 'Only binaries of this artifact version' },
        { name: 'target', description: 'Only binaries for this target' },
        ...LIST_FLAGS,
      ],
      examples: [
        'peridio binaries list --artifact-version-prn "$VERSION_PRN" --target arm64-linux --output prn',
      ],
      run: async (ctx) => {
        const params = listParams(ctx.flags);
        const clauses: Record<string, string> = {
          ...defined('artifact_version_prn', str(ctx.flags, 'artifact-version-prn')),
          ...defined('target', str(ctx.flags, 'target')),
        };
        if (Object.keys(clauses).length > 0) {
          const built = searchQuery(clauses);
          params.search = params.search ? `${params.search} and ${built}` : built;
        }
        const page = await ctx.client().listBinaries(params);
        return list('binaries', page.items, page.next_page, COLUMNS);
      },
    },
    {
      name: 'update',
      summary: 'Change a binary’s state, hash, size, description or custom metadata',
      flags: [
        prnFlag('binary'),
        {
          name: 'state',
          choices: BINARY_STATES,
          description: 'New state, e.g. hashable after the last part',
        },
        { name: 'hash', description: 'SHA-256 of the content (only while uploadable)' },
        { name: 'size', description: 'Size in bytes (only while uploadable)', valueName: 'BYTES' },
        ...METADATA_FLAGS,
      ],
      examples: ['peridio binaries update --prn "$BINARY_PRN" --state hashable'],
      run: async (ctx) => {
        const hash = str(ctx.flags, 'hash');
        return one(
          'binary',
          await ctx.client().updateBinary(str(ctx.flags, 'prn')!, {
            ...defined('state', str(ctx.flags, 'state') as BinaryState | undefined),
            ...defined('hash', hash === undefined ? undefined : sha256Flag(hash)),
            ...defined('size', optionalInteger(ctx.flags, 'size')),
            ...defined('description', str(ctx.flags, 'description')),
            ...defined('custom_metadata', customMetadata(ctx.flags)),
          }),
          COLUMNS,
        );
      },
    },
    {
      name: 'delete',
      aliases: ['destroy'],
      summary: 'Delete a binary (a verified one is kept as destroyed; its content is gone)',
      flags: [prnFlag('binary')],
      examples: ['peridio binaries destroy --prn "$BINARY_PRN"'],
      run: async (ctx) => {
        await ctx.client().deleteBinary(str(ctx.flags, 'prn')!);
        return { kind: 'none' };
      },
    },
  ],
};

async function create(ctx: CommandContext): Promise<Printable> {
  const contentPath = str(ctx.flags, 'content-path');
  const hash = str(ctx.flags, 'hash');
  const sizeText = str(ctx.flags, 'size');
  const artifactVersionPrn = str(ctx.flags, 'artifact-version-prn')!;
  const target = str(ctx.flags, 'target')!;
  const description = str(ctx.flags, 'description');
  const metadata = customMetadata(ctx.flags);
  if (contentPath === undefined) {
    if (hash === undefined || sizeText === undefined) {
      throw new InputError(
        'content-path',
        'is needed, or else both --hash and --size (a record without content)',
      );
    }
    for (const flag of [...UPLOAD_FLAGS, ...SIGNING_FLAGS]) {
      if (ctx.flags[flag.name] !== undefined) throw new InputError(flag.name, 'needs --content-path');
    }
    const binary: Binary = await ctx.client().createBinary({
      artifact_version_prn: artifactVersionPrn,
      target,
      hash: sha256Flag(hash),
      size: optionalInteger(ctx.flags, 'size')!,
      description: description ?? null,
      custom_metadata: metadata ?? null,
      id: str(ctx.flags, 'id'),
    });
    return one('binary', binary, COLUMNS);
  }
  if (hash !== undefined || sizeText !== undefined) {
    throw new InputError(
      hash !== undefined ? 'hash' : 'size',
      'cannot be combined with --content-path (it is computed from the file)',
    );
  }
  const signing = signingKeyFromFlags(ctx);
  const client = ctx.client();
  if (!signing) {
    const result = await uploadBinary({
      api: client,
      artifactVersionPrn,
      target,
      filePath: contentPath,
      description,
      customMetadata: metadata,
      ...uploadOptions(ctx),
    });
    return one('binary', result.binary, COLUMNS);
  }
  const { artifact, version } = await findArtifactVersion(
    client,
    { prn: artifactVersionPrn },
    'artifact-version-prn',
  );
  const result = await publishBinary({
    api: client,
    artifact: artifact.prn,
    version: version.version,
    target,
    filePath: contentPath,
    key: signing.key,
    signingKeyPrn: signing.signingKeyPrn,
    description,
    customMetadata: metadata,
    ...uploadOptions(ctx),
  });
  return one('binary', result.sign.binary, COLUMNS);
}

function uploadOptions(ctx: CommandContext) {
  return {
    partSize: optionalInteger(ctx.flags, 'binary-part-size', 1),
    concurrency: optionalInteger(ctx.flags, 'concurrency', 1),
    logger: ctx.logger,
    signal: ctx.signal,
    ...(ctx.progressBar
      ? { onProgress: ctx.onUploadProgress, progressIntervalMs: Number.POSITIVE_INFINITY }
      : {}),
  };
}

/** Lowercase hex SHA-256; `sha256:<hex>` (how OCI and many tools write it) is accepted. */
export function sha256Flag(value: string): string {
  const hex = value.trim().replace(/^sha256:/i, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new InputError(
      'hash',
      `must be a SHA-256 in hex (64 characters, optionally after sha256:), got '${value}'`,
    );
  }
  return hex.toLowerCase();
}
