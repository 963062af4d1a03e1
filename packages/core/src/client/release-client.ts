/**
 * The release-management part of the Admin API (products, cohorts, devices, bundles, bundle signatures,
 * releases, the update check), over the same transport as PeridioClient, which exposes it as `releases`.
 */
import type {
  Bundle,
  BundleOverride,
  BundleOverrideDevice,
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
  /** Placement in the cohort's release graph: before this release (alone, or with `previous_release_prn`). */
  next_release_prn?: string;
  /** Placement after this release: alone only when it is the latest, else with `next_release_prn`. */
  previous_release_prn?: string;
}

export type UpdateReleaseBody = Partial<
  Pick<
    CreateReleaseBody,
    'disabled' | 'phase_mode' | 'phase_value' | 'phase_tags' | 'schedule_date' | 'required' | 'description'
  >
>;

export interface UpdateProductBody {
  name?: string;
  archived?: boolean;
}

/** The device's product cannot change. `cohort_prn: null` takes it out of its cohort, `tags: []` clears them. */
export interface UpdateDeviceBody {
  cohort_prn?: string | null;
  description?: string | null;
  quarantined?: boolean;
  tags?: string[] | null;
  target?: string | null;
}

export interface CreateBundleOverrideBody {
  bundle_prn: string;
  name: string;
  /** ISO 8601. */
  starts_at: string;
  description?: string;
  /** ISO 8601, after `starts_at`; open-ended when left out. */
  ends_at?: string;
}

export type UpdateBundleOverrideBody = Partial<Omit<CreateBundleOverrideBody, 'ends_at'>> & {
  ends_at?: string | null;
};

/** The override's device list takes no `search` (the spec's parameters), only paging. */
export type OverrideDeviceListParams = Omit<ListParams, 'search'>;

export class ReleaseClient {
  constructor(private readonly http: HttpTransport) {}

  createProduct(body: { name: string; archived?: boolean }): Promise<Product> {
    return this.one('product', { method: 'POST', path: '/products', body });
  }
  getProduct(prn: string): Promise<Product> {
    return this.one('product', { method: 'GET', path: `/products/${prn}` });
  }
  listProducts(params?: ListParams): Promise<Page<Product>> {
    return this.page('products', '/products', params);
  }
  updateProduct(prn: string, body: UpdateProductBody): Promise<Product> {
    return this.one('product', { method: 'PATCH', path: `/products/${prn}`, body: { prn, ...body } });
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
    description?: string;
    quarantined?: boolean;
    target?: string;
  }): Promise<Device> {
    return this.one('device', { method: 'POST', path: '/devices', body });
  }
  getDevice(prn: string): Promise<Device> {
    return this.one('device', { method: 'GET', path: `/devices/${prn}` });
  }
  listDevices(params?: ListParams): Promise<Page<Device>> {
    return this.page('devices', '/devices', params);
  }
  updateDevice(prn: string, body: UpdateDeviceBody): Promise<Device> {
    return this.one('device', { method: 'PATCH', path: `/devices/${prn}`, body: { prn, ...body } });
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
  listBundles(params?: ListParams): Promise<Page<Bundle>> {
    return this.page('bundles', '/bundles', params);
  }
  /** Only the name: a bundle's binaries are immutable. */
  updateBundle(prn: string, body: { name?: string | null }): Promise<Bundle> {
    return this.one('bundle', { method: 'PATCH', path: `/bundles/${prn}`, body: { prn, ...body } });
  }
  /** Refused (4xx) while a release or bundle override uses the bundle. */
  deleteBundle(prn: string): Promise<void> {
    return this.remove(`/bundles/${prn}`);
  }

  createBundleOverride(body: CreateBundleOverrideBody): Promise<BundleOverride> {
    return this.one('bundle_override', { method: 'POST', path: '/bundle_overrides', body });
  }
  getBundleOverride(prn: string): Promise<BundleOverride> {
    return this.one('bundle_override', { method: 'GET', path: `/bundle_overrides/${prn}` });
  }
  listBundleOverrides(params?: ListParams): Promise<Page<BundleOverride>> {
    return this.page('bundle_overrides', '/bundle_overrides', params);
  }
  updateBundleOverride(prn: string, body: UpdateBundleOverrideBody): Promise<BundleOverride> {
    return this.one('bundle_override', {
      method: 'PATCH',
      path: `/bundle_overrides/${prn}`,
      body: { prn, ...body },
    });
  }
  deleteBundleOverride(prn: string): Promise<void> {
    return this.remove(`/bundle_overrides/${prn}`);
  }
  /** Adding a device the override already has answers with the existing entry. */
  addBundleOverrideDevice(prn: string, devicePrn: string): Promise<BundleOverrideDevice> {
    return this.one('device', {
      method: 'POST',
      path: `/bundle_overrides/${prn}/devices`,
      body: { device_prn: devicePrn },
    });
  }
  listBundleOverrideDevices(
    prn: string,
    params?: OverrideDeviceListParams,
  ): Promise<Page<BundleOverrideDevice>> {
    return this.page('devices', `/bundle_overrides/${prn}/devices`, params);
  }
  removeBundleOverrideDevice(prn: string, devicePrn: string): Promise<void> {
    return this.remove(`/bundle_overrides/${prn}/devices/${devicePrn}`);
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
  deleteRelease(prn: string): Promise<void> {
    return this.remove(`/releases/${prn}`);
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

  private async remove(path: string): Promise<void> {
    await this.http.request({ method: 'DELETE', path });
  }
}
