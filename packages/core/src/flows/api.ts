/**
 * The Admin API calls the flows make, as narrow structural types: `PeridioClient` satisfies them, and a
 * unit test can pass a fake that records every call.
 */
import type {
  CreateArtifactBody,
  CreateArtifactVersionBody,
  CreateBinaryBody,
  CreateBinarySignatureBody,
} from '../client/bodies.js';
import type { PartsApi } from '../upload/engine.js';
import type {
  Artifact,
  ArtifactVersion,
  Binary,
  BinarySignature,
  BinaryState,
  CustomMetadata,
  ListParams,
  Page,
  SigningKey,
} from '../types.js';

export interface ArtifactVersionApi {
  getArtifact(prn: string): Promise<Artifact>;
  listArtifacts(params?: ListParams): Promise<Page<Artifact>>;
  createArtifact(body: CreateArtifactBody): Promise<Artifact>;
  listArtifactVersions(params?: ListParams): Promise<Page<ArtifactVersion>>;
  createArtifactVersion(body: CreateArtifactVersionBody): Promise<ArtifactVersion>;
}

export interface BinaryApi {
  getArtifactVersion(prn: string): Promise<ArtifactVersion>;
  getBinary(prn: string): Promise<Binary>;
  listBinaries(params?: ListParams): Promise<Page<Binary>>;
  createBinary(body: CreateBinaryBody): Promise<Binary>;
  updateBinary(
    prn: string,
    body: {
      state?: BinaryState;
      hash?: string;
      size?: number;
      description?: string;
      custom_metadata?: CustomMetadata;
    },
  ): Promise<Binary>;
}

export type UploadBinaryApi = BinaryApi & PartsApi;

export interface SignBinaryApi {
  getBinary(prn: string): Promise<Binary>;
  updateBinary(prn: string, body: { state?: BinaryState }): Promise<Binary>;
  getSigningKey(prn: string): Promise<SigningKey>;
  listSigningKeys(params?: ListParams): Promise<Page<SigningKey>>;
  createBinarySignature(body: CreateBinarySignatureBody): Promise<BinarySignature>;
  listBinarySignatures(params?: ListParams): Promise<Page<BinarySignature>>;
}

export type PublishBinaryApi = ArtifactVersionApi & UploadBinaryApi & SignBinaryApi;
