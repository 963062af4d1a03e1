// Derives the project's API contract from Peridio's Admin API OpenAPI spec:
//   npm run contract -- path/to/peridio-admin-openapi.yaml
// Keeps the field structure (types, required, enums, formats, limits, $refs) of every operation on the
// resources the registry serves or will serve, and drops the prose (descriptions, examples, titles), so
// tests validate against a file the repository owns instead of reading the spec at run time.
// Known places where the spec disagrees with Peridio's real behaviour live beside it in deviations.json,
// applied by test/contract/load.ts; they are not edited into the derived file.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parse } from 'yaml';

const OUT = new URL('../test/contract/peridio-admin-contract.json', import.meta.url);

/** First path segments of the resources: what the registry serves now, and what release management adds. */
const RESOURCES = [
  'artifacts',
  'artifact_versions',
  'binaries',
  'binary_signatures',
  'signing_keys',
  'products',
  'cohorts',
  'devices',
  'bundles',
  'bundle_signatures',
  'releases',
  'bundle_overrides',
  'events',
  'webhooks',
];
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
/** Schema keywords that carry prose, not structure. */
const PROSE = new Set(['description', 'summary', 'title', 'example', 'examples', 'externalDocs', '$comment']);
/** Keywords whose value is a map from a field name to a schema: the names are data, never prose. */
const NAMED_SCHEMAS = new Set(['properties', 'patternProperties', '$defs', 'dependentSchemas']);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

const specPath = process.argv[2];
if (!specPath) {
  console.error('usage: npm run contract -- <peridio-admin-openapi.yaml>');
  process.exit(2);
}
const text = readFileSync(specPath, 'utf8');
// YAML 1.1 reads the spec's `53_687_091_200_000` as a number, as its authors meant; 1.2 makes it a string.
const spec = parse(text, { version: '1.1' }) as Obj;

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function resolve(ref: string): Json {
  const parts = ref.replace(/^#\//, '').split('/');
  let node: Json | undefined = spec;
  for (const p of parts) node = isObj(node) ? node[p.replaceAll('~1', '/').replaceAll('~0', '~')] : undefined;
  if (node === undefined) throw new Error(`unresolved $ref ${ref}`);
  return node;
}

const wantedSchemas = new Set<string>();
const wantedParameters = new Set<string>();

/** Copies a schema without prose; records the component schemas it refers to. */
function strip(node: Json, namesAreData = false): Json {
  if (Array.isArray(node)) return node.map((n) => strip(n));
  if (!isObj(node)) return node;
  const out: Obj = {};
  for (const [key, value] of Object.entries(node)) {
    if (!namesAreData && PROSE.has(key)) continue;
    if (key === '$ref' && typeof value === 'string') {
      const m = /^#\/components\/schemas\/(.+)$/.exec(value);
      if (!m) throw new Error(`unexpected $ref ${value}`);
      wantedSchemas.add(m[1]!);
    }
    out[key] = namesAreData ? strip(value) : strip(value, NAMED_SCHEMAS.has(key));
  }
  return out;
}

/** Follows a `$ref` to components/responses, requestBodies or parameters (not to schemas). */
const deref = (node: Json | undefined): Json | undefined =>
  isObj(node) && typeof node.$ref === 'string' && !node.$ref.startsWith('#/components/schemas/')
    ? deref(resolve(node.$ref))
    : node;

const parameter = (p: Obj): Obj => ({
  in: p.in!,
  name: p.name!,
  required: p.required === true,
  schema: strip(p.schema ?? {}),
});

function jsonSchema(content: Json | undefined): Json | undefined {
  const json = isObj(content) ? content['application/json'] : undefined;
  return isObj(json) && json.schema !== undefined ? strip(json.schema) : undefined;
}

const operations: Obj = {};
const paths = spec.paths as Obj;
for (const [path, item] of Object.entries(paths)) {
  const first = path.split('/')[1] ?? '';
  if (!RESOURCES.includes(first) || !isObj(item)) continue;
  const ops: Obj = {};
  const shared = Array.isArray(item.parameters) ? item.parameters : [];
  for (const method of METHODS) {
    const op = item[method];
    if (!isObj(op)) continue;
    const entry: Obj = {};
    const parameters: Obj = {};
    for (const raw of [...shared, ...(Array.isArray(op.parameters) ? op.parameters : [])]) {
      const p = deref(raw);
      if (!isObj(p) || typeof p.name !== 'string' || typeof p.in !== 'string') continue;
      const ref =
        isObj(raw) && typeof raw.$ref === 'string'
          ? /^#\/components\/parameters\/(.+)$/.exec(raw.$ref)
          : null;
      // A shared parameter stays one component, so a deviation in it is corrected in one place.
      if (ref) {
        wantedParameters.add(ref[1]!);
        parameters[`${p.in}:${p.name}`] = { $ref: `#/components/parameters/${ref[1]!}` };
      } else parameters[`${p.in}:${p.name}`] = parameter(p);
    }
    if (Object.keys(parameters).length > 0) entry.parameters = parameters;
    const body = deref(op.requestBody);
    if (isObj(body)) {
      const schema = jsonSchema(body.content);
      if (schema !== undefined) entry.request = { required: body.required === true, schema };
    }
    const responses: Obj = {};
    for (const [status, response] of Object.entries(isObj(op.responses) ? op.responses : {})) {
      const r = deref(response);
      const schema = isObj(r) ? jsonSchema(r.content) : undefined;
      // A response without a JSON body (204, 404 with no content) is kept, so its status is part of the contract.
      responses[status] = schema === undefined ? {} : { schema };
    }
    entry.responses = responses;
    ops[method] = entry;
  }
  if (Object.keys(ops).length > 0) operations[path] = ops;
}

// Component schemas refer to further ones: keep adding until nothing new is referenced.
const components = (spec.components as Obj).schemas as Obj;
const schemas: Obj = {};
for (let added = true; added;) {
  added = false;
  for (const name of [...wantedSchemas]) {
    if (name in schemas) continue;
    if (!(name in components)) throw new Error(`spec has no components.schemas.${name}`);
    schemas[name] = strip(components[name]!);
    added = true;
  }
}

const componentParameters = (spec.components as Obj).parameters as Obj;
const parameters: Obj = {};
for (const name of [...wantedParameters].sort()) {
  const p = deref(componentParameters[name]);
  if (!isObj(p)) throw new Error(`spec has no components.parameters.${name}`);
  parameters[name] = parameter(p);
}

const info = spec.info as Obj;
const contract = {
  source: {
    file: basename(specPath),
    openapi: spec.openapi,
    version: info.version,
    sha256: createHash('sha256').update(text).digest('hex'),
  },
  resources: RESOURCES,
  operations,
  components: {
    parameters,
    schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))),
  },
};
writeFileSync(OUT, `${JSON.stringify(contract, null, 2)}\n`);
console.log(
  `contract: ${Object.keys(operations).length} paths, ${Object.keys(schemas).length} schemas -> test/contract/peridio-admin-contract.json`,
);
