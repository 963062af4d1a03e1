/**
 * The project's API contract (derived from Peridio's OpenAPI spec by `npm run contract`) with the known
 * deviations of deviations.json applied, and validators for request and response bodies against it.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

interface Patch {
  op: 'remove' | 'replace' | 'allow-null';
  path: string;
  value?: Json;
}
export interface Deviation {
  id: string;
  why: string;
  patch: Patch[];
}

const readJson = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(name, import.meta.url), 'utf8')) as T;

export const deviations = readJson<Deviation[]>('./deviations.json');

const unescape = (s: string) => s.replaceAll('~1', '/').replaceAll('~0', '~');
const escape = (s: string) => s.replaceAll('~', '~0').replaceAll('/', '~1');

/** Applies the deviations; a patch whose target is missing fails, so a regenerated contract cannot drop one silently. */
export function applyDeviations(doc: Obj, list: Deviation[]): Obj {
  for (const deviation of list) {
    for (const { op, path, value } of deviation.patch) {
      const keys = path.split('/').slice(1).map(unescape);
      const last = keys.pop()!;
      let parent: Json = doc;
      for (const k of keys) parent = (parent as Obj | undefined)?.[k] as Json;
      if (typeof parent !== 'object' || parent === null || !(last in parent)) {
        throw new Error(`deviation ${deviation.id}: ${path} is not in the contract`);
      }
      const target = parent as Obj;
      if (op === 'remove') delete target[last];
      else if (op === 'replace') target[last] = value!;
      else target[last] = { oneOf: [target[last]!, { type: 'null' }] };
    }
  }
  return doc;
}

export function loadContract(): Obj {
  return applyDeviations(readJson<Obj>('./peridio-admin-contract.json'), deviations);
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
let ajv: Ajv2020 | undefined;

function validator(pointer: string[]): ValidateFunction | undefined {
  if (!ajv) {
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(loadContract(), 'peridio');
  }
  return ajv.getSchema(`peridio#/${pointer.map(escape).join('/')}`);
}

function check(what: string, pointer: string[], body: unknown): void {
  const validate = validator(pointer);
  if (!validate) throw new Error(`the contract has no schema for ${what}`);
  if (!validate(body))
    throw new Error(`${what} does not match the contract: ${ajv!.errorsText(validate.errors)}`);
}

/** Fails unless `body` is a valid `status` response of `method path` (path as in the spec, e.g. /binaries/{binary_prn}). */
export function expectResponse(path: string, method: string, status: number, body: unknown): void {
  check(
    `${method.toUpperCase()} ${path} ${status}`,
    ['operations', path, method, 'responses', String(status), 'schema'],
    body,
  );
}

/** Fails unless `body` is a valid request body of `method path`. */
export function expectRequest(path: string, method: string, body: unknown): void {
  check(`${method.toUpperCase()} ${path} request`, ['operations', path, method, 'request', 'schema'], body);
}
