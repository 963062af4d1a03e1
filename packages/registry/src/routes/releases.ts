import { randomUUID } from 'node:crypto';
import { requiredString } from '../fields.js';
import { fieldError, notFound } from '../http.js';
import type { ReleaseDeps } from '../releases/deps.js';
import {
  nullableString,
  optionalBoolean,
  optionalDateTime,
  optionalTags,
  requiredBoolean,
  requiredDateTime,
} from '../releases/fields.js';
import { checkUpdate, GraphError, placeNew, planDelete, type GraphPatch } from '../releases/graph.js';
import { releaseJson } from '../releases/json.js';
import { phaseValueProblem } from '../releases/phase.js';
import { bodyId, pathId, requiredBodyId } from '../releases/prn.js';
import type { ReleaseRecord } from '../releases/types.js';
import { parseRequirement, parseVersion, VersionSyntaxError } from '../releases/version.js';
import { nowTimestamp } from '../time.js';
import type { Route } from '../router.js';

type Body = Record<string, unknown>;

function versionField(input: Body): string | null | undefined {
  if (!('version' in input)) return undefined;
  if (input.version === null) return null;
  if (typeof input.version !== 'string')
    throw fieldError('version', 'is invalid: must be a string such as 1.2.3');
  try {
    parseVersion(input.version);
  } catch (err) {
    throw fieldError('version', `is invalid: ${(err as Error).message}`);
  }
  return input.version;
}

/** `version_requirement`, or the spec's request spelling `version-requirement`; both must agree. */
function requirementField(input: Body): string | null | undefined {
  const keys = ['version_requirement', 'version-requirement'].filter((k) => k in input);
  if (keys.length === 0) return undefined;
  const values = keys.map((k) => input[k]);
  if (keys.length === 2 && values[0] !== values[1])
    throw fieldError('version_requirement', 'and version-requirement disagree; send one of them');
  const value = values[0];
  if (value === null) return null;
  if (typeof value !== 'string')
    throw fieldError('version_requirement', "is invalid: must be a string such as '>= 1.0.0 and < 2.0.0'");
  try {
    parseRequirement(value);
  } catch (err) {
    if (err instanceof VersionSyntaxError)
      throw fieldError('version_requirement', `is invalid: ${err.message}`);
    throw err;
  }
  return value;
}

function phaseValueField(input: Body): number | undefined {
  if (input.phase_value === undefined || input.phase_value === null) return undefined;
  const problem = phaseValueProblem(input.phase_value);
  if (problem) throw fieldError('phase_value', problem);
  return input.phase_value as number;
}

function phaseModeField(input: Body): ReleaseRecord['phase_mode'] | undefined {
  if (input.phase_mode === undefined || input.phase_mode === null) return undefined;
  if (input.phase_mode !== 'numeric' && input.phase_mode !== 'tags')
    throw fieldError('phase_mode', "is invalid: must be 'numeric' or 'tags'");
  return input.phase_mode;
}

function checkTags(r: ReleaseRecord) {
  if (r.phase_mode === 'tags' && (!r.phase_tags || r.phase_tags.length === 0))
    throw fieldError(
      'phase_tags',
      "can't be blank when phase_mode is 'tags': give the tags a device needs (any one of them)",
    );
}

const graphRefusal = (err: unknown): never => {
  if (err instanceof GraphError) throw fieldError(err.field, err.message);
  throw err;
};

/** Releases: a cohort's release channel, kept valid by releases/graph.ts on every change. */
export function releaseRoutes(d: ReleaseDeps): Route[] {
  const get = async (value: string) => {
    const row = await d.store.getRelease(pathId(d.org, value, 'release'));
    if (!row) throw notFound();
    return row;
  };
  return [
    {
      method: 'POST',
      pattern: '/releases',
      auth: true,
      async handler({ body }) {
        const input = await body();
        const bundleId = requiredBodyId(d.org, input, 'bundle_prn', 'bundle');
        const cohortId = requiredBodyId(d.org, input, 'cohort_prn', 'cohort');
        const name = requiredString(input, 'name', 256);
        const required = requiredBoolean(input, 'required');
        const scheduleDate = requiredDateTime(input, 'schedule_date');
        const phaseMode = phaseModeField(input) ?? 'numeric';
        const phaseValue = phaseValueField(input) ?? 1;
        const phaseTags = optionalTags(input, 'phase_tags') ?? null;
        const next = bodyId(d.org, input, 'next_release_prn', 'release');
        const previous = bodyId(d.org, input, 'previous_release_prn', 'release');
        const now = nowTimestamp();
        const record: ReleaseRecord = {
          id: randomUUID(),
          cohort_id: cohortId,
          bundle_id: bundleId,
          name,
          description: nullableString(input, 'description', 4096) ?? null,
          required,
          disabled: optionalBoolean(input, 'disabled') ?? false,
          schedule_date: scheduleDate,
          phase_mode: phaseMode,
          phase_value: phaseValue,
          phase_tags: phaseTags,
          version: versionField(input) ?? null,
          version_requirement: requirementField(input) ?? null,
          next_release_id: null,
          inserted_at: now,
          updated_at: now,
        };
        checkTags(record);
        if (!(await d.store.getBundle(bundleId))) throw notFound(`bundle_prn ${String(input.bundle_prn)}`);
        if (!(await d.store.getCohort(cohortId))) throw notFound(`cohort_prn ${String(input.cohort_prn)}`);
        const created = await d.store
          .withCohortReleases(cohortId, (releases) => {
            const links = placeNew(releases, record, { next, previous }, d.now());
            const own = links.find((l) => l.id === record.id)!;
            const create = { ...record, next_release_id: own.next_release_id };
            return { create, links, result: create };
          })
          .catch(graphRefusal);
        return { status: 201, body: { release: releaseJson(d.org, created, d.now()) } };
      },
    },
    {
      method: 'GET',
      pattern: '/releases',
      auth: true,
      async handler({ query }) {
        const page = await d.store.listReleases(query);
        const now = d.now();
        return {
          status: 200,
          body: { releases: page.items.map((r) => releaseJson(d.org, r, now)), next_page: page.next_page },
        };
      },
    },
    {
      method: 'GET',
      pattern: '/releases/:prn',
      auth: true,
      async handler({ params }) {
        return { status: 200, body: { release: releaseJson(d.org, await get(params.prn!), d.now()) } };
      },
    },
    {
      method: 'PATCH',
      pattern: '/releases/:prn',
      auth: true,
      async handler({ params, body }) {
        const existing = await get(params.prn!);
        const input = await body();
        for (const key of ['bundle_prn', 'cohort_prn', 'previous_release_prn']) {
          if (input[key] !== undefined && input[key] !== null) {
            throw fieldError(key, 'cannot change on an existing release; create a new release instead');
          }
        }
        const patch: Partial<ReleaseRecord> = {};
        if (input.name !== undefined && input.name !== null) patch.name = requiredString(input, 'name', 256);
        const description = nullableString(input, 'description', 4096);
        if (description !== undefined) patch.description = description;
        const disabled = optionalBoolean(input, 'disabled');
        if (disabled !== undefined) patch.disabled = disabled;
        const required = optionalBoolean(input, 'required');
        if (required !== undefined) patch.required = required;
        const scheduleDate = optionalDateTime(input, 'schedule_date');
        if (scheduleDate !== undefined) patch.schedule_date = scheduleDate;
        const phaseMode = phaseModeField(input);
        if (phaseMode !== undefined) patch.phase_mode = phaseMode;
        const phaseValue = phaseValueField(input);
        if (phaseValue !== undefined) patch.phase_value = phaseValue;
        if ('phase_tags' in input) patch.phase_tags = optionalTags(input, 'phase_tags') ?? null;
        const version = versionField(input);
        if (version !== undefined) patch.version = version;
        const requirement = requirementField(input);
        if (requirement !== undefined) patch.version_requirement = requirement;
        if ('next_release_prn' in input)
          patch.next_release_id = bodyId(d.org, input, 'next_release_prn', 'release') ?? null;
        const updated = await d.store
          .withCohortReleases(existing.cohort_id, (releases) => {
            const current = releases.find((r) => r.id === existing.id);
            if (!current) throw notFound();
            const graphPatch: GraphPatch = {};
            for (const k of ['next_release_id', 'phase_mode', 'phase_value', 'schedule_date'] as const) {
              if (patch[k] !== undefined && patch[k] !== current[k])
                (graphPatch as Record<string, unknown>)[k] = patch[k];
            }
            checkUpdate(releases, current.id, graphPatch, d.now());
            const update = { ...current, ...patch, updated_at: nowTimestamp() };
            checkTags(update);
            return { update, links: [], result: update };
          })
          .catch(graphRefusal);
        return { status: 200, body: { release: releaseJson(d.org, updated, d.now()) } };
      },
    },
    {
      method: 'DELETE',
      pattern: '/releases/:prn',
      auth: true,
      async handler({ params }) {
        const existing = await get(params.prn!);
        await d.store
          .withCohortReleases(existing.cohort_id, (releases) => ({
            delete: existing.id,
            links: planDelete(releases, existing.id, d.now()),
            result: undefined,
          }))
          .catch(graphRefusal);
        return { status: 204 };
      },
    },
  ];
}
