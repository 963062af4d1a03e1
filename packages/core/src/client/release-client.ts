/**
 * The release-management part of the Admin API (products, cohorts, devices, bundles, bundle signatures,
 * releases, the update check), over the same transport as PeridioClient, which exposes it as `releases`.
 */
import type {
  Bundle,
  BundleSignature,
  Cohort,
  Device,
  PhaseMode,
  Product,
  Release,
  UpdateCheck,
  UpdateCheckBody,
} from '../release-types.js';
import type { CustomMetadata, ListParams, Page } from '../types.js';
import { expectArray, expectObject, nextPageOf } from './envelope.js';
import type { HttpRequest, HttpTransport } from './http.js';

export interface CreateReleaseBody {
  bundle_prn: string;
  cohort_prn: string;
  name: string;
  required: boolean;
  schedule_date: string;
  description?: string | null;
  disabled?: boolean;
  phase_mode?: PhaseMode;
  phase_value?: number;
  phase_tags?: string[];
  version?: string | null;
  version_requirement?: string | null;
}

export type UpdateReleaseBody = Partial<
  Pick<
    CreateReleaseBody,
    'disabled' | 'phase_mode' | 'phase_value' | 'phase_tags' | 'schedule_date' | 'required' | 'description'
  >
>;

export class ReleaseClient {
  constructor(private readonly http: HttpTransport) {}

  createProduct(body: { name: string }): Promise<Product> {
    return this.one('product', { method: 'POST', path: '/products', body });
  }
  listProducts(params?: ListParams): Promise<Page<Product>> {
    return this.page('products', '/products', params);
  }

  createCohort(body: { name: string; product_prn: string; description?: string | null }): Promise<Cohort> {
    return this.one('cohort', { method: 'POST', path: '/cohorts', body });
  }
  getCohort(prn: string): Promise<Cohort> {
    return this.one('cohort', { method: 'GET', path: `/cohorts/${prn}` });
  }
  listCohorts(params?: ListParams): Promise<Page<Cohort>> {
    return this.page('cohorts', '/cohorts', params);
  }
  updateCohort(prn: string, body: { name?: string; description?: string | null }): Promise<Cohort> {
    return this.one('cohort', { method: 'PATCH', path: `/cohorts/${prn}`, body });
  }

  createDevice(body: {
    identifier: string;
    product_prn: string;
    cohort_prn?: string | null;
    tags?: string[] | null;
  }): Promise<Device> {
    return this.one('device', { method: 'POST', path: '/devices', body });
  }
  getDevice(prn: string): Promise<Device> {
    return this.one('device', { method: 'GET', path: `/devices/${prn}` });
  }
  listDevices(params?: ListParams): Promise<Page<Device>> {
    return this.page('devices', '/devices', params);
  }

  async createBundle(body: {
    id?: string;
    name?: string | null;
    binaries: { prn: string; custom_metadata?: CustomMetadata | null }[];
  }): Promise<{ bundle: Bundle; created: boolean }> {
    // A repeated id with the same content answers 200 with the existing bundle, a new one 201.
    const req: HttpRequest = { method: 'POST', path: '/bundles', body };
    const res = await this.http.request(req);
    return { bundle: expectObject<Bundle>(res.body, 'bundle', req), created: res.status === 201 };
  }
  getBundle(prn: string): Promise<Bundle> {
    return this.one('bundle', { method: 'GET', path: `/bundles/${prn}` });
  }

  createBundleSignature(body: {
    bundle_prn: string;
    signature: string;
    signing_key_prn?: string;
    signing_key_keyid?: string;
  }): Promise<BundleSignature> {
    return this.one('bundle_signature', { method: 'POST', path: '/bundle_signatures', body });
  }

  createRelease(body: CreateReleaseBody): Promise<Release> {
    return this.one('release', { method: 'POST', path: '/releases', body });
  }
  getRelease(prn: string): Promise<Release> {
    return this.one('release', { method: 'GET', path: `/releases/${prn}` });
  }
  listReleases(params?: ListParams): Promise<Page<Release>> {
    return this.page('releases', '/releases', params);
  }
  updateRelease(prn: string, body: UpdateReleaseBody): Promise<Release> {
    return this.one('release', { method: 'PATCH', path: `/releases/${prn}`, body: { prn, ...body } });
  }
  async deleteRelease(prn: string): Promise<void> {
    await this.http.request({ method: 'DELETE', path: `/releases/${prn}` });
  }

  /** The Admin API's update check for a device (what the device agent asks). */
  async checkUpdate(devicePrn: string, body: UpdateCheckBody): Promise<UpdateCheck> {
    const { body: res } = await this.http.request({
      method: 'POST',
      path: `/devices/${devicePrn}/update`,
      body,
    });
    return res as UpdateCheck;
  }

  private async one<T>(key: string, req: HttpRequest): Promise<T> {
    const { body } = await this.http.request(req);
    return expectObject<T>(body, key, req);
  }

  private async page<T>(key: string, path: string, params: ListParams = {}): Promise<Page<T>> {
    const { limit, order, search, page } = params;
    const req: HttpRequest = { method: 'GET', path, query: { limit, order, search, page } };
    const { body } = await this.http.request(req);
    return { items: expectArray<T>(body, key, req), next_page: nextPageOf(body) };
  }
}
