/**
 * An in-memory registry with the Admin API calls the flows make, recording every call, so that unit tests
 * can check not only results but what was (and was not) sent. Search is parsed just enough for the
 * `field:'value' and …` queries the flows send.
 */
import { randomUUID } from 'node:crypto';
import {
  ApiError,
  type Artifact,
  type ArtifactVersion,
  type Binary,
  type BinarySignature,
  type ListParams,
  type Page,
  type PublishBinaryApi,
  type SigningKey,
} from '../../src/index.js';

const ORG = 'prn:1:11111111-1111-4111-8111-111111111111';
const now = '2026-01-01T00:00:00Z';

export function prn(type: string): string {
  return `${ORG}:${type}:${randomUUID()}`;
}

function matches(item: object, search: string | undefined): boolean {
  if (!search) return true;
  return search.split(' and ').every((clause) => {
    const m = /^([\w.]+):'((?:[^'\\]|\\.)*)'$/.exec(clause);
    if (!m) throw new ApiError(422, 'GET', '/', `bad search ${clause}`);
    return String((item as Record<string, unknown>)[m[1]!]) === m[2]!.replace(/\\'/g, "'");
  });
}

function page<T extends object>(items: T[], params: ListParams = {}): Page<T> {
  return { items: items.filter((i) => matches(i, params.search)), next_page: null };
}

export class FakeApi implements PublishBinaryApi {
  calls: string[] = [];
  artifacts: Artifact[] = [];
  versions: ArtifactVersion[] = [];
  binaries: Binary[] = [];
  keys: SigningKey[] = [];
  signatures: BinarySignature[] = [];
  /** Makes the next create of this kind fail as if a concurrent job had won, after inserting the winner. */
  loseNextCreate = new Set<'artifact' | 'version' | 'binary'>();

  private log(call: string) {
    this.calls.push(call);
  }
  writes(): string[] {
    return this.calls.filter((c) => !c.startsWith('GET') && !c.startsWith('LIST'));
  }

  async getArtifact(p: string) {
    this.log(`GET ${p}`);
    const found = this.artifacts.find((a) => a.prn === p);
    if (!found) throw new ApiError(404, 'GET', `/artifacts/${p}`, 'Not Found');
    return found;
  }
  async listArtifacts(params?: ListParams) {
    this.log('LIST artifacts');
    return page(this.artifacts, params);
  }
  async createArtifact(body: { name: string }) {
    this.log(`POST artifact ${body.name}`);
    const artifact: Artifact = {
      prn: prn('artifact'),
      organization_prn: ORG,
      name: body.name,
      description: null,
      custom_metadata: null,
      inserted_at: now,
      updated_at: now,
    };
    if (this.artifacts.some((a) => a.name === body.name) || this.loseNextCreate.delete('artifact')) {
      if (!this.artifacts.some((a) => a.name === body.name)) this.artifacts.push(artifact);
      throw new ApiError(422, 'POST', '/artifacts', 'Validation errors', {
        name: ['has already been taken'],
      });
    }
    this.artifacts.push(artifact);
    return artifact;
  }
  async listArtifactVersions(params?: ListParams) {
    this.log('LIST artifact_versions');
    return page(this.versions, params);
  }
  async getArtifactVersion(p: string) {
    this.log(`GET ${p}`);
    const found = this.versions.find((v) => v.prn === p);
    if (!found) throw new ApiError(404, 'GET', `/artifact_versions/${p}`, 'Not Found');
    return found;
  }
  async createArtifactVersion(body: { artifact_prn: string; version: string }) {
    this.log(`POST version ${body.version}`);
    const version: ArtifactVersion = {
      prn: prn('artifact_version'),
      organization_prn: ORG,
      artifact_prn: body.artifact_prn,
      version: body.version,
      description: null,
      custom_metadata: null,
      inserted_at: now,
      updated_at: now,
    };
    const taken = () =>
      this.versions.some((v) => v.artifact_prn === body.artifact_prn && v.version === body.version);
    if (taken() || this.loseNextCreate.delete('version')) {
      if (!taken()) this.versions.push(version);
      throw new ApiError(422, 'POST', '/artifact_versions', 'Validation errors', {
        version: ['has already been taken'],
      });
    }
    this.versions.push(version);
    return version;
  }
  async getBinary(p: string) {
    this.log(`GET ${p}`);
    const found = this.binaries.find((b) => b.prn === p);
    if (!found) throw new ApiError(404, 'GET', `/binaries/${p}`, 'Not Found');
    return { ...found };
  }
  async listBinaries(params?: ListParams) {
    this.log('LIST binaries');
    return page(this.binaries, params);
  }
  async createBinary(body: { artifact_version_prn: string; target: string; hash: string; size: number }) {
    this.log(`POST binary ${body.target}`);
    const binary = this.addBinary({ ...body, state: 'uploadable' });
    return binary;
  }
  addBinary(
    fields: Partial<Binary> & Pick<Binary, 'artifact_version_prn' | 'target' | 'hash' | 'size' | 'state'>,
  ) {
    const binary: Binary = {
      prn: prn('binary'),
      organization_prn: ORG,
      description: null,
      custom_metadata: null,
      signatures: [],
      inserted_at: now,
      updated_at: now,
      ...fields,
    };
    this.binaries.push(binary);
    return binary;
  }
  /** Applies PATCHes; `onUpdate` lets a test stage a race or a server that has moved on. */
  onUpdate?: (binary: Binary, body: Record<string, unknown>) => void;
  async updateBinary(p: string, body: Record<string, unknown>) {
    this.log(`PATCH ${p} ${JSON.stringify(body)}`);
    const binary = this.binaries.find((b) => b.prn === p)!;
    this.onUpdate?.(binary, body);
    Object.assign(binary, body);
    return { ...binary };
  }
  async createBinaryPart(): Promise<never> {
    throw new Error('not used by these tests');
  }
  async listBinaryParts() {
    return [];
  }
  async getSigningKey(p: string) {
    this.log(`GET ${p}`);
    const found = this.keys.find((k) => k.prn === p);
    if (!found) throw new ApiError(404, 'GET', `/signing_keys/${p}`, 'Not Found');
    return found;
  }
  async listSigningKeys(params?: ListParams) {
    this.log('LIST signing_keys');
    return page(this.keys, params);
  }
  addKey(value: string, keyid?: string): SigningKey {
    const key: SigningKey = {
      prn: prn('signing_key'),
      organization_prn: ORG,
      name: 'key',
      value,
      keyid,
      inserted_at: now,
      updated_at: now,
    };
    this.keys.push(key);
    return key;
  }
  async createBinarySignature(body: { binary_prn: string; signature: string; signing_key_prn?: string }) {
    this.log(`POST signature ${body.binary_prn}`);
    const key = this.keys.find((k) => k.prn === body.signing_key_prn)!;
    const signature: BinarySignature = {
      prn: prn('binary_signature'),
      organization_prn: ORG,
      binary_prn: body.binary_prn,
      signing_key_prn: key.prn,
      keyid: key.keyid ?? '',
      signature: body.signature,
      inserted_at: now,
      updated_at: now,
    };
    this.signatures.push(signature);
    const binary = this.binaries.find((b) => b.prn === body.binary_prn)!;
    binary.signatures = [
      ...(binary.signatures ?? []),
      { signature: body.signature, signing_key_prn: key.prn },
    ];
    binary.state = 'signed';
    return signature;
  }
  async listBinarySignatures(params?: ListParams) {
    this.log('LIST binary_signatures');
    return page(this.signatures, params);
  }
}
