/**
 * Typed Admin API client for the binary-management subset (artifacts, versions, binaries, parts,
 * signatures, signing keys), wire-compatible with the official Rust SDK: the same paths, bodies
 * (optional create fields as explicit `null`, PATCH bodies echoing `prn`) and envelopes, which it
 * unwraps so callers get plain resources.
 */
import { iteratePages } from '../paging.js';
import type {
  Artifact,
  ArtifactVersion,
  Binary,
  BinaryPart,
  BinarySignature,
  CreatedBinaryPart,
  ListParams,
  Page,
  SigningKey,
} from '../types.js';
import { HttpTransport, type ClientOptions, type HttpRequest } from './http.js';
import type {
  CreateArtifactBody,
  CreateArtifactVersionBody,
  CreateBinaryBody,
  CreateBinarySignatureBody,
  CreateSigningKeyBody,
  PartBody,
  UpdateArtifactBody,
  UpdateArtifactVersionBody,
  UpdateBinaryBody,
  UpdateSigningKeyBody,
} from './bodies.js';
import { expectArray, expectObject, expectString, nextPageOf } from './envelope.js';
import { ReleaseClient } from './release-client.js';

export type { ClientOptions } from './http.js';

export class PeridioClient {
  private readonly http: HttpTransport;
  /** Release management: products, cohorts, devices, bundles, releases, the update check. */
  readonly releases: ReleaseClient;

  constructor(options: ClientOptions) {
    this.http = new HttpTransport(options);
    this.releases = new ReleaseClient(this.http);
  }

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  // Artifacts

  createArtifact(body: CreateArtifactBody): Promise<Artifact> {
    const { name, description = null, custom_metadata = null, id } = body;
    return this.one('artifact', {
      method: 'POST',
      path: '/artifacts',
      body: { name, description, custom_metadata, ...idOf(id) },
    });
  }
  getArtifact(prn: string): Promise<Artifact> {
    return this.one('artifact', { method: 'GET', path: `/artifacts/${prn}` });
  }
  listArtifacts(params?: ListParams): Promise<Page<Artifact>> {
    return this.page('artifacts', '/artifacts', params);
  }
  updateArtifact(prn: string, body: UpdateArtifactBody): Promise<Artifact> {
    return this.one('artifact', { method: 'PATCH', path: `/artifacts/${prn}`, body: { prn, ...body } });
  }
  deleteArtifact(prn: string): Promise<void> {
    return this.remove(`/artifacts/${prn}`);
  }

  // Artifact versions

  createArtifactVersion(body: CreateArtifactVersionBody): Promise<ArtifactVersion> {
    const { artifact_prn, version, description = null, custom_metadata = null, id } = body;
    return this.one('artifact_version', {
      method: 'POST',
      path: '/artifact_versions',
      body: { artifact_prn, version, description, custom_metadata, ...idOf(id) },
    });
  }
  getArtifactVersion(prn: string): Promise<ArtifactVersion> {
    return this.one('artifact_version', { method: 'GET', path: `/artifact_versions/${prn}` });
  }
  listArtifactVersions(params?: ListParams): Promise<Page<ArtifactVersion>> {
    return this.page('artifact_versions', '/artifact_versions', params);
  }
  updateArtifactVersion(prn: string, body: UpdateArtifactVersionBody): Promise<ArtifactVersion> {
    return this.one('artifact_version', {
      method: 'PATCH',
      path: `/artifact_versions/${prn}`,
      body: { prn, ...body },
    });
  }
  deleteArtifactVersion(prn: string): Promise<void> {
    return this.remove(`/artifact_versions/${prn}`);
  }

  // Binaries

  createBinary(body: CreateBinaryBody): Promise<Binary> {
    const { artifact_version_prn, target, hash, size, description = null, custom_metadata = null, id } = body;
    return this.one('binary', {
      method: 'POST',
      path: '/binaries',
      body: { artifact_version_prn, target, hash, size, description, custom_metadata, ...idOf(id) },
    });
  }
  getBinary(prn: string): Promise<Binary> {
    return this.one('binary', { method: 'GET', path: `/binaries/${prn}` });
  }
  listBinaries(params?: ListParams): Promise<Page<Binary>> {
    return this.page('binaries', '/binaries', params);
  }
  updateBinary(prn: string, body: UpdateBinaryBody): Promise<Binary> {
    return this.one('binary', { method: 'PATCH', path: `/binaries/${prn}`, body: { prn, ...body } });
  }
  deleteBinary(prn: string): Promise<void> {
    return this.remove(`/binaries/${prn}`);
  }
  async getBinaryDownloadUrl(prn: string): Promise<string> {
    const req: HttpRequest = { method: 'GET', path: `/binaries/${prn}/download_url` };
    const { body } = await this.http.request(req);
    return expectString(body, 'download_url', req);
  }

  // Binary parts

  /** Creates or overwrites part `index` (1-based) and returns where to PUT its bytes. */
  createBinaryPart(
    binaryPrn: string,
    part: PartBody,
    options: { signal?: AbortSignal } = {},
  ): Promise<CreatedBinaryPart> {
    const { index, expected_binary_size, hash, size } = part;
    const headers: Record<string, string> = {};
    // The SDK's content-range assumes every part has this part's size (wrong for a short last part);
    // real Peridio has only ever seen that value, so send the same one rather than "fix" it.
    if (size > 0)
      headers['content-range'] = `bytes ${(index - 1) * size}-${index * size - 1}/${expected_binary_size}`;
    return this.one('binary_part', {
      method: 'PUT',
      path: `/binaries/${binaryPrn}/parts/${index}`,
      body: { binary_prn: binaryPrn, index, expected_binary_size, hash, size },
      headers,
      signal: options.signal,
    });
  }

  /** All parts: the endpoint is unpaginated, but a `next_page`, should one appear, is followed. */
  async listBinaryParts(binaryPrn: string): Promise<BinaryPart[]> {
    const parts: BinaryPart[] = [];
    let page: string | undefined;
    for (;;) {
      const req: HttpRequest = { method: 'GET', path: `/binaries/${binaryPrn}/parts`, query: { page } };
      const { body } = await this.http.request(req);
      parts.push(...expectArray<BinaryPart>(body, 'binary_parts', req));
      const next = nextPageOf(body);
      if (!next || next === page) return parts;
      page = next;
    }
  }

  // Binary signatures

  /** Sends only the key reference(s) given, as the SDK does (`skip_serializing_if = None`). */
  createBinarySignature(body: CreateBinarySignatureBody): Promise<BinarySignature> {
    const { binary_prn, signature, signing_key_prn, signing_key_keyid } = body;
    return this.one('binary_signature', {
      method: 'POST',
      path: '/binary_signatures',
      body: {
        binary_prn,
        signature,
        ...(signing_key_prn !== undefined ? { signing_key_prn } : {}),
        ...(signing_key_keyid !== undefined ? { signing_key_keyid } : {}),
      },
    });
  }
  listBinarySignatures(params?: ListParams): Promise<Page<BinarySignature>> {
    return this.page('binary_signatures', '/binary_signatures', params);
  }
  deleteBinarySignature(prn: string): Promise<void> {
    return this.remove(`/binary_signatures/${prn}`);
  }

  // Signing keys

  createSigningKey(body: CreateSigningKeyBody): Promise<SigningKey> {
    const { name, value } = body;
    return this.one('signing_key', { method: 'POST', path: '/signing_keys', body: { name, value } });
  }
  getSigningKey(prn: string): Promise<SigningKey> {
    return this.one('signing_key', { method: 'GET', path: `/signing_keys/${prn}` });
  }
  /**
   * The SDK's own list fixture wraps the list under `signing_key`; the SDK struct, the spec and our
   * registry use `signing_keys`. Reading the singular key too costs nothing and survives such a server.
   */
  listSigningKeys(params?: ListParams): Promise<Page<SigningKey>> {
    return this.page('signing_keys', '/signing_keys', params, 'signing_key');
  }
  updateSigningKey(prn: string, body: UpdateSigningKeyBody): Promise<SigningKey> {
    return this.one('signing_key', { method: 'PATCH', path: `/signing_keys/${prn}`, body: { prn, ...body } });
  }
  deleteSigningKey(prn: string): Promise<void> {
    return this.remove(`/signing_keys/${prn}`);
  }

  // Paging

  /** Every item of a list endpoint, following `next_page`; stopping the loop stops the paging. */
  iterate<T>(list: (params: ListParams) => Promise<Page<T>>, params: ListParams = {}): AsyncIterable<T> {
    return iteratePages(list, params);
  }

  /** Releases the keep-alive connections (only those of the client's own Agent). */
  close(): Promise<void> {
    return this.http.close();
  }

  private async one<T>(key: string, req: HttpRequest): Promise<T> {
    const { body } = await this.http.request(req);
    return expectObject<T>(body, key, req);
  }

  private async page<T>(
    key: string,
    path: string,
    params: ListParams = {},
    altKey?: string,
  ): Promise<Page<T>> {
    const { limit, order, search, page } = params;
    const req: HttpRequest = { method: 'GET', path, query: { limit, order, search, page } };
    const { body } = await this.http.request(req);
    return { items: expectArray<T>(body, key, req, altKey), next_page: nextPageOf(body) };
  }

  private async remove(path: string): Promise<void> {
    await this.http.request({ method: 'DELETE', path });
  }
}

function idOf(id: string | undefined): { id?: string } {
  return id === undefined ? {} : { id };
}
