/** Release management shapes, as in Peridio's Admin API spec (only the fields the console shows). */
export interface Bundle {
  prn: string;
  name: string | null;
  binaries?: { prn: string }[];
  inserted_at: string;
}
export interface Release {
  prn: string;
  name: string;
  version: string | null;
  cohort_prn: string;
  bundle_prn: string;
  next_release_prn: string | null;
  phase_value: number | null;
  required: boolean;
  disabled: boolean;
  schedule_date: string | null;
}
export interface Cohort {
  prn: string;
  name: string;
  product_prn: string;
}
export interface Device {
  prn: string;
  identifier: string;
  cohort_prn: string | null;
  reported_release_prn: string | null;
  reported_release_version?: string | null;
  reported_bundle_prn: string | null;
  tags: string[] | null;
  last_connected_at: string | null;
}
export interface PeridioEvent {
  prn?: string;
  type: string;
  subtype?: string | null;
  inserted_at: string;
  resource_prn?: string | null;
  actor_prn?: string | null;
}
