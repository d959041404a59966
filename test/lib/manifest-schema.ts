/**
 * Strict, offline schema validation for synthesized Kubernetes manifests.
 *
 * `loadManifests(dir)` reads every `*.yaml` below a folder; `validateManifests(docs)`
 * returns one `ValidationIssue` per problem, with the JSON pointer of the field at fault.
 * Nothing here talks to a cluster or to the network.
 *
 * What is checked
 * - Built-in kinds (Kubernetes 1.27, from kubernetes-models 4.5.1):
 *   - types, formats, enums and required fields, with the precompiled validator of the
 *     kubernetes-models class for that apiVersion/kind (`new Deployment(obj).validate()`);
 *   - unknown or misspelt fields at every depth, as the API server's strict field validation
 *     (`kubectl apply --validate=strict`) would. The precompiled validators accept any extra key,
 *     so the field names come from the kubernetes-models TypeScript interfaces instead
 *     (`IDeployment`, ...): one in-memory TypeScript program resolves the interfaces of every kind
 *     seen, and each interface is turned into a plain "shape" tree (fields, map values, array
 *     items) that the object is walked against. `{ [key: string]: T }` members (labels,
 *     annotations, data) accept any key; empty interfaces (RawExtension, JSON, FieldsV1) accept
 *     any content. Shapes are cached for the life of the process.
 *     Why not TypeScript's excess-property diagnostics on object literals: the checker stops at
 *     the first excess property of an assignment (a misspelt container field hides a misspelt top-level
 *     one) and the diagnostics must be mapped back from source positions; walking the resolved types
 *     reports every unknown field with an exact path and leaves type checking to the validators above.
 * - Custom resources whose CRD is in `crds/` (or `options.crdDir`): the `openAPIV3Schema` of the
 *   served version, compiled with ajv. The schema is read the way a structural schema is applied:
 *   an object node with no `additionalProperties` and no `x-kubernetes-preserve-unknown-fields: true`
 *   rejects keys it does not list (`additionalProperties: false`); `x-kubernetes-int-or-string`
 *   accepts an integer or a string; `nullable: true` accepts null; `x-kubernetes-list-type: set`
 *   requires unique items. `metadata` is checked as an ObjectMeta, like the metadata of a built-in.
 * - Any other apiVersion/kind is reported, never accepted silently.
 *
 * What is not checked
 * - no server-side defaulting, pruning or conversion: a `null` in a CR field that is not `nullable`
 *   is reported here, while the API server would silently drop it;
 * - no admission (webhooks, ValidatingAdmissionPolicy, quotas, Pod Security) and no CEL rules
 *   (`x-kubernetes-validations`);
 * - no semantic validation done in Go by the API server (label syntax, name lengths, immutable
 *   fields, port ranges beyond int32, `x-kubernetes-list-type: map` key uniqueness, ...);
 * - no cross-object references (Service selectors, ConfigMap/Secret names, RBAC subjects, ...);
 * - kinds and fields newer than Kubernetes 1.27 are reported as unknown.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import * as ts from 'typescript';
import { parseAllDocuments } from 'yaml';

/** One YAML document of a manifest file. */
export interface ManifestDocument {
  /** Path of the file: `dir` joined with the path found below it. */
  file: string;
  /** 0-based position of the document in the file (empty documents count but are not returned). */
  index: number;
  /** The parsed document. */
  object: unknown;
}

/** One problem found in one document. */
export interface ValidationIssue {
  file: string;
  index: number;
  /** `apiVersion`, `kind` and `metadata.name` of the document; '' when absent. */
  apiVersion: string;
  kind: string;
  name: string;
  /**
   * JSON pointer (RFC 6901) of the field at fault, '' for the whole document. For an unknown
   * or missing field it is the path of that field, e.g. `/spec/selector`.
   */
  path: string;
  /** e.g. `unknown field "imagePullPolice"`, `must be integer`, `missing required field "selector"`. */
  message: string;
}

export interface ValidateOptions {
  /** Folder of CustomResourceDefinition YAML files; defaults to the repository's `crds/`. */
  crdDir?: string;
}

const DEFAULT_CRD_DIR = path.resolve(__dirname, '..', '..', 'crds');

/**
 * Reads every `*.yaml` file below `dir` (recursively, in code-unit order of their relative
 * paths, so the result does not depend on the file system) and returns its non-empty
 * documents. Throws on a YAML syntax error, naming the file and document.
 */
export function loadManifests(dir: string): ManifestDocument[] {
  return listYamlFiles(dir).flatMap(parseManifestFile);
}

/**
 * Validates documents as described in the header of this module. Issues are returned in
 * document order, then by path; an empty array means every document is valid.
 */
export function validateManifests(docs: ManifestDocument[], options: ValidateOptions = {}): ValidationIssue[] {
  const crds = crdRegistry(path.resolve(options.crdDir ?? DEFAULT_CRD_DIR));
  const targets = docs.map((doc) => resolveTarget(doc.object, crds));
  ensureShapes(targets.flatMap(typeRefsOf));
  return docs.flatMap((doc, i) => toIssues(doc, checkDocument(doc.object, targets[i])));
}

/** One line per issue, for test output and command-line reports. */
export function formatIssue(issue: ValidationIssue): string {
  const what = `${issue.apiVersion}/${issue.kind} ${issue.name}`.trim();
  return `${issue.file}#${issue.index} ${what} ${issue.path || '/'}: ${issue.message}`;
}

// ---------------------------------------------------------------------------------------------
// Loading

function listYamlFiles(dir: string): string[] {
  const entries = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' });
  return entries
    .map((relative) => relative.split(path.sep).join('/'))
    .filter((relative) => relative.endsWith('.yaml') && fs.statSync(path.join(dir, relative)).isFile())
    .sort(compareText)
    .map((relative) => path.join(dir, relative));
}

function parseManifestFile(file: string): ManifestDocument[] {
  const documents: ManifestDocument[] = [];
  parseAllDocuments(fs.readFileSync(file, 'utf8')).forEach((document, index) => {
    const [error] = document.errors;
    if (error) throw new Error(`${file}: YAML document ${index}: ${error.message}`);
    const object: unknown = document.toJS();
    // `---` at the end of a file (or twice in a row) yields an empty document: nothing to deploy.
    if (object !== null && object !== undefined) documents.push({ file, index, object });
  });
  return documents;
}

// ---------------------------------------------------------------------------------------------
// Dispatch

/** A problem before it is attached to its document. */
interface Problem {
  path: string;
  message: string;
}

type JsonObject = Record<string, unknown>;

type Target =
  | { type: 'builtin'; builtin: BuiltinKind }
  | { type: 'custom'; crd: CrdVersion }
  | { type: 'invalid'; problem: Problem };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function resolveTarget(object: unknown, crds: CrdRegistry): Target {
  if (!isObject(object)) return invalid('', 'document must be a mapping with apiVersion and kind');
  const { apiVersion, kind } = object;
  if (typeof apiVersion !== 'string') return invalidTypeMeta('apiVersion', apiVersion);
  if (typeof kind !== 'string') return invalidTypeMeta('kind', kind);
  const builtin = findBuiltinKind(apiVersion, kind);
  if (builtin) return { type: 'builtin', builtin };
  const crd = crds.find(apiVersion, kind);
  if (crd) return { type: 'custom', crd };
  // Point at the kind when the apiVersion exists, so a misspelt kind is easy to spot.
  const knownVersion = isBuiltinApiVersion(apiVersion) || crds.servesApiVersion(apiVersion);
  return invalid(knownVersion ? '/kind' : '/apiVersion', `unknown apiVersion/kind ${apiVersion}/${kind}`);
}

function invalidTypeMeta(field: 'apiVersion' | 'kind', value: unknown): Target {
  return invalid(`/${field}`, value === undefined ? `missing required field "${field}"` : 'must be string');
}

function invalid(pointer: string, message: string): Target {
  return { type: 'invalid', problem: { path: pointer, message } };
}

/** The TypeScript interfaces a document is checked against. */
function typeRefsOf(target: Target): TypeRef[] {
  if (target.type === 'builtin') return [target.builtin.typeRef];
  if (target.type === 'custom') return [OBJECT_META_TYPE];
  return [];
}

function checkDocument(object: unknown, target: Target): Problem[] {
  switch (target.type) {
    case 'invalid':
      return [target.problem];
    case 'builtin':
      return [
        ...runModelValidation(target.builtin.modelClass, object),
        ...findUnknownFields(object, shapeFor(target.builtin.typeRef), ''),
      ];
    case 'custom':
      return checkCustomResource(object as JsonObject, target.crd); // resolveTarget saw a mapping
  }
}

function toIssues(doc: ManifestDocument, problems: Problem[]): ValidationIssue[] {
  const object = isObject(doc.object) ? doc.object : {};
  const metadata = isObject(object.metadata) ? object.metadata : {};
  const text = (value: unknown): string => (typeof value === 'string' ? value : '');
  // Validators may report the same thing twice (e.g. the same missing field from two rules).
  const unique = new Map(problems.map((problem) => [`${problem.path}\0${problem.message}`, problem]));
  return [...unique.values()]
    .sort((a, b) => compareText(a.path, b.path) || compareText(a.message, b.message))
    .map(({ path: pointer, message }) => ({
      file: doc.file,
      index: doc.index,
      apiVersion: text(object.apiVersion),
      kind: text(object.kind),
      name: text(metadata.name) || text(metadata.generateName),
      path: pointer,
      message,
    }));
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Built-in kinds: kubernetes-models classes

/** The part of a kubernetes-models class used here. */
interface ModelClass {
  new (data: unknown): { validate(): void };
  apiVersion?: unknown;
  kind?: unknown;
}

/** A TypeScript interface exported by a module, resolved from inside the kubernetes-models package. */
interface TypeRef {
  module: string;
  name: string;
}

interface BuiltinKind {
  modelClass: ModelClass;
  typeRef: TypeRef;
}

const MODELS_DIR = path.dirname(require.resolve('kubernetes-models/package.json'));
const MODELS_EXPORTS = Object.keys(
  (JSON.parse(fs.readFileSync(path.join(MODELS_DIR, 'package.json'), 'utf8')) as { exports: JsonObject }).exports,
);
const builtinCache = new Map<string, BuiltinKind | undefined>();

/** `v1`, `apps/v1`, `rbac.authorization.k8s.io/v1`: also the folder of its kinds in kubernetes-models. */
function isBuiltinApiVersion(apiVersion: string): boolean {
  return /^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion) && MODELS_EXPORTS.includes(`./${apiVersion}/*`);
}

function findBuiltinKind(apiVersion: string, kind: string): BuiltinKind | undefined {
  const key = `${apiVersion}/${kind}`;
  if (!builtinCache.has(key)) builtinCache.set(key, loadBuiltinKind(apiVersion, kind));
  return builtinCache.get(key);
}

function loadBuiltinKind(apiVersion: string, kind: string): BuiltinKind | undefined {
  // The regex keeps `kind` from walking out of the folder; the file check avoids a require() error.
  if (!isBuiltinApiVersion(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return undefined;
  if (!fs.existsSync(path.join(MODELS_DIR, apiVersion, `${kind}.js`))) return undefined;
  const exported = (require(`kubernetes-models/${apiVersion}/${kind}`) as JsonObject)[kind];
  // Helper types (DeploymentSpec, ...) live in the same folders but carry no apiVersion/kind.
  if (typeof exported !== 'function') return undefined;
  const modelClass = exported as ModelClass;
  if (modelClass.apiVersion !== apiVersion || modelClass.kind !== kind) return undefined;
  return { modelClass, typeRef: { module: `./${apiVersion}/${kind}`, name: `I${kind}` } };
}

const OBJECT_META_MODULE = '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';
const OBJECT_META_TYPE: TypeRef = { module: OBJECT_META_MODULE, name: 'IObjectMeta' };
const ObjectMetaClass = (require(require.resolve(OBJECT_META_MODULE, { paths: [MODELS_DIR] })) as JsonObject)
  .ObjectMeta as ModelClass;

/** Runs the precompiled validator; `pointerPrefix` places a sub-object (a CR's metadata) in its document. */
function runModelValidation(modelClass: ModelClass, object: unknown, pointerPrefix = ''): Problem[] {
  try {
    new modelClass(object).validate();
    return [];
  } catch (error) {
    const errors = (error as { errors?: unknown }).errors;
    if (!Array.isArray(errors)) throw error;
    return problemsFromAjv(errors as ErrorObject[], pointerPrefix);
  }
}

// ---------------------------------------------------------------------------------------------
// Built-in kinds: field names from the kubernetes-models TypeScript interfaces

/** What keys an object may have; `any` stops the walk (scalars, and free-form objects). */
type Shape =
  | { kind: 'any' }
  | { kind: 'array'; items: Shape }
  | { kind: 'object'; fields: Map<string, Shape>; values: Shape | undefined };

const ANY_SHAPE: Shape = { kind: 'any' };
const shapeCache = new Map<string, Shape>();
// Parsed declaration files, kept across programs: kinds met later cost only the new files.
const sourceFileCache = new Map<string, ts.SourceFile>();
// Never written to disk; placed in the package folder so that `./apps/v1/Deployment` resolves.
const VIRTUAL_FILE = path.join(MODELS_DIR, '__manifest_schema_types__.ts');

function typeKey(ref: TypeRef): string {
  return `${ref.module}#${ref.name}`;
}

function shapeFor(ref: TypeRef): Shape {
  const shape = shapeCache.get(typeKey(ref));
  if (!shape) throw new Error(`internal error: no shape computed for ${typeKey(ref)}`);
  return shape;
}

/** Computes the missing shapes with a single TypeScript program. */
function ensureShapes(refs: TypeRef[]): void {
  const wanted = new Map(refs.map((ref) => [typeKey(ref), ref]));
  const missing = [...wanted.values()].filter((ref) => !shapeCache.has(typeKey(ref)));
  if (missing.length === 0) return;
  const source = missing.map((ref, i) => `export declare const t${i}: import(${JSON.stringify(ref.module)}).${ref.name};`);
  const program = createTypesProgram(source.join('\n'));
  const checker = program.getTypeChecker();
  const declarations = program.getSourceFile(VIRTUAL_FILE)!.statements.map(
    (statement) => (statement as ts.VariableStatement).declarationList.declarations[0],
  );
  const memo = new Map<ts.Type, Shape>();
  missing.forEach((ref, i) => {
    const type = checker.getTypeFromTypeNode(declarations[i].type!);
    shapeCache.set(typeKey(ref), shapeOfType(type, checker, memo, ref.name));
  });
}

function createTypesProgram(text: string): ts.Program {
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    lib: ['lib.es5.d.ts'],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
  };
  const host = ts.createCompilerHost(options, true);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (file) => file === VIRTUAL_FILE || fileExists(file);
  host.readFile = (file) => (file === VIRTUAL_FILE ? text : readFile(file));
  host.getSourceFile = (file, languageVersion, onError) => {
    if (file === VIRTUAL_FILE) return ts.createSourceFile(file, text, languageVersion, true);
    let cached = sourceFileCache.get(file);
    if (!cached) {
      cached = getSourceFile(file, languageVersion, onError);
      if (cached) sourceFileCache.set(file, cached);
    }
    return cached;
  };
  return ts.createProgram([VIRTUAL_FILE], options, host);
}

/** `memo` maps types to shapes under construction, so recursive types (JSONSchemaProps) terminate. */
function shapeOfType(type: ts.Type, checker: ts.TypeChecker, memo: Map<ts.Type, Shape>, where: string): Shape {
  const t = checker.getNonNullableType(type); // optional fields are `T | undefined`
  const known = memo.get(t);
  if (known) return known;
  // kubernetes-models declares no `any`: meeting one means an import did not resolve.
  if (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) {
    throw new Error(`cannot resolve the TypeScript type of ${where} in kubernetes-models`);
  }
  if (t.isUnion()) return shapeOfUnion(t, checker, memo, where);
  if (!(t.flags & ts.TypeFlags.Object)) return ANY_SHAPE; // string, number, boolean, literals
  if (checker.isArrayType(t)) {
    const shape: Shape = { kind: 'array', items: ANY_SHAPE };
    memo.set(t, shape);
    shape.items = shapeOfType(checker.getTypeArguments(t as ts.TypeReference)[0], checker, memo, `${where}[]`);
    return shape;
  }
  const properties = checker.getPropertiesOfType(t);
  const index = checker.getIndexInfoOfType(t, ts.IndexKind.String);
  if (properties.length === 0 && !index) return ANY_SHAPE; // RawExtension, JSON, FieldsV1: free-form
  const shape: Shape = { kind: 'object', fields: new Map(), values: undefined };
  memo.set(t, shape);
  for (const property of properties) {
    const field = property.getName();
    shape.fields.set(field, shapeOfType(checker.getTypeOfSymbol(property), checker, memo, `${where}.${field}`));
  }
  if (index) shape.values = shapeOfType(index.type, checker, memo, `${where}[key]`);
  return shape;
}

function shapeOfUnion(type: ts.UnionType, checker: ts.TypeChecker, memo: Map<ts.Type, Shape>, where: string): Shape {
  // `string | number` (IntOrString, Quantity) and `true | false` carry no field names.
  const objects = type.types.filter((member) => member.flags & ts.TypeFlags.Object);
  if (objects.length === 0) return ANY_SHAPE;
  if (objects.length === 1) return shapeOfType(objects[0], checker, memo, where);
  // None in kubernetes-models 4.5.1; fail loudly rather than guess which member applies.
  throw new Error(`unsupported union of object types at ${where} in kubernetes-models`);
}

/** Reports keys the shape does not declare. Values of the wrong type are the validators' business. */
function findUnknownFields(value: unknown, shape: Shape, pointer: string): Problem[] {
  if (shape.kind === 'array') {
    return Array.isArray(value) ? value.flatMap((item, i) => findUnknownFields(item, shape.items, `${pointer}/${i}`)) : [];
  }
  if (shape.kind === 'any' || !isObject(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const childPointer = `${pointer}/${escapePointer(key)}`;
    const childShape = shape.fields.get(key) ?? shape.values;
    if (!childShape) return [{ path: childPointer, message: `unknown field "${key}"` }];
    return findUnknownFields(child, childShape, childPointer);
  });
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

// ---------------------------------------------------------------------------------------------
// Custom resources: CRD schemas

interface CrdVersion {
  /** e.g. `rollouts.argoproj.io (argo-rollouts-v1.9.1-rollout-crd.yaml)`, for messages. */
  source: string;
  schema: JsonObject;
  /** Compiled on first use. */
  validate?: ValidateFunction;
}

interface CrdRegistry {
  find(apiVersion: string, kind: string): CrdVersion | undefined;
  servesApiVersion(apiVersion: string): boolean;
}

const registries = new Map<string, CrdRegistry>();

function crdRegistry(dir: string): CrdRegistry {
  let registry = registries.get(dir);
  if (!registry) {
    registry = createCrdRegistry(dir);
    registries.set(dir, registry);
  }
  return registry;
}

/** Reads the CRD files on first use only: built-in-only runs do not pay for parsing them. */
function createCrdRegistry(dir: string): CrdRegistry {
  let versions: Map<string, CrdVersion> | undefined;
  const load = (): Map<string, CrdVersion> => (versions ??= readCrdVersions(dir));
  return {
    find: (apiVersion, kind) => load().get(`${apiVersion}/${kind}`),
    servesApiVersion: (apiVersion) => [...load().keys()].some((key) => key.startsWith(`${apiVersion}/`)),
  };
}

/** Maps `group/version/Kind` of every served version to its schema. */
function readCrdVersions(dir: string): Map<string, CrdVersion> {
  const versions = new Map<string, CrdVersion>();
  // A wrong folder would turn every custom resource into an "unknown kind": say so instead.
  if (!fs.existsSync(dir)) throw new Error(`CRD folder not found: ${dir}`);
  for (const doc of loadManifests(dir)) {
    const crd = doc.object as JsonObject;
    if (crd.kind !== 'CustomResourceDefinition') continue;
    const spec = crd.spec as { group: string; names: { kind: string }; versions: JsonObject[] };
    const name = (crd.metadata as JsonObject).name as string;
    for (const version of spec.versions) {
      const schema = (version.schema as JsonObject | undefined)?.openAPIV3Schema;
      if (version.served !== true || !isObject(schema)) continue;
      const source = `${name} (${path.basename(doc.file)})`;
      versions.set(`${spec.group}/${String(version.name)}/${spec.names.kind}`, { source, schema });
    }
  }
  return versions;
}

let crdAjv: Ajv | undefined;

function compileCrdSchema(crd: CrdVersion): ValidateFunction {
  if (!crdAjv) {
    // Skipping ajv's code optimisation halves the compile time of these large schemas (about 1 s for
    // Rollout, 5 s for ApplicationSet otherwise); validation itself stays far from being the bottleneck.
    crdAjv = new Ajv({
      allErrors: true,
      allowUnionTypes: true,
      strictTypes: false,
      strictRequired: false,
      code: { optimize: false },
    });
    addFormats(crdAjv);
  }
  const schema = toJsonSchema(crd.schema, true);
  // Checked separately as an ObjectMeta, like the metadata of a built-in kind.
  (schema.properties as JsonObject).metadata = { type: 'object' };
  try {
    return crdAjv.compile(schema);
  } catch (error) {
    throw new Error(`cannot compile the schema of CRD ${crd.source}: ${(error as Error).message}`);
  }
}

function checkCustomResource(object: JsonObject, crd: CrdVersion): Problem[] {
  crd.validate ??= compileCrdSchema(crd);
  const problems = crd.validate(object) ? [] : problemsFromAjv(crd.validate.errors ?? [], '');
  if (object.metadata === undefined || object.metadata === null) return problems;
  return [
    ...problems,
    ...runModelValidation(ObjectMetaClass, object.metadata, '/metadata'),
    ...findUnknownFields(object.metadata, shapeFor(OBJECT_META_TYPE), '/metadata'),
  ];
}

/** Value keywords copied as they are; anything else (descriptions, defaults, CEL rules) is dropped. */
const COPIED_KEYWORDS = [
  'enum', 'pattern', 'minimum', 'maximum', 'multipleOf', 'minLength', 'maxLength',
  'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties', 'required',
];
/** Formats ajv-formats implements; the API server ignores formats it does not know, so do we. */
const KNOWN_FORMATS = new Set(['int32', 'int64', 'float', 'double', 'byte', 'date', 'date-time', 'duration', 'uri', 'email', 'hostname', 'ipv4', 'ipv6', 'uuid']);

/**
 * Turns a CRD's OpenAPI v3 schema node into a JSON Schema (draft 7) node with the pruning rules
 * of structural schemas made strict. `structural` is false inside anyOf/allOf/oneOf/not, whose
 * branches only constrain values and never declare fields.
 */
function toJsonSchema(node: JsonObject, structural: boolean): JsonObject {
  const out: JsonObject = {};
  const intOrString = node['x-kubernetes-int-or-string'] === true;
  const preserveUnknown = node['x-kubernetes-preserve-unknown-fields'] === true;
  const types = intOrString ? ['integer', 'string'] : typeof node.type === 'string' ? [node.type] : [];
  if (types.length > 0 && node.nullable === true) types.push('null');
  if (types.length > 0) out.type = types.length === 1 ? types[0] : types;
  for (const keyword of COPIED_KEYWORDS) if (node[keyword] !== undefined) out[keyword] = node[keyword];
  if (typeof node.format === 'string' && KNOWN_FORMATS.has(node.format)) out.format = node.format;
  copyExclusiveBound(node, out, 'exclusiveMinimum', 'minimum');
  copyExclusiveBound(node, out, 'exclusiveMaximum', 'maximum');
  if (node['x-kubernetes-list-type'] === 'set') out.uniqueItems = true;
  if (isObject(node.items)) out.items = toJsonSchema(node.items, structural);
  if (isObject(node.properties)) {
    out.properties = Object.fromEntries(
      Object.entries(node.properties).map(([key, child]) => [key, toJsonSchema(child as JsonObject, structural)]),
    );
  }
  if (isObject(node.additionalProperties)) out.additionalProperties = toJsonSchema(node.additionalProperties, structural);
  else if (typeof node.additionalProperties === 'boolean') out.additionalProperties = node.additionalProperties;
  else if (structural && !preserveUnknown && (node.type === 'object' || out.properties)) out.additionalProperties = false;
  // x-kubernetes-int-or-string comes with `anyOf: [integer, string]`, which the type list already says.
  for (const junctor of ['anyOf', 'allOf', 'oneOf'] as const) {
    if (Array.isArray(node[junctor]) && !intOrString) {
      out[junctor] = (node[junctor] as JsonObject[]).map((branch) => toJsonSchema(branch, false));
    }
  }
  if (isObject(node.not)) out.not = toJsonSchema(node.not, false);
  return out;
}

/** OpenAPI v3.0 (and so CRDs) writes exclusive bounds as booleans next to minimum/maximum. */
function copyExclusiveBound(node: JsonObject, out: JsonObject, keyword: string, bound: string): void {
  if (node[keyword] === true && typeof node[bound] === 'number') {
    out[keyword] = node[bound];
    delete out[bound];
  }
}

// ---------------------------------------------------------------------------------------------
// Messages

/**
 * Turns ajv errors (from the CRD schemas and from the kubernetes-models validators, which are
 * ajv-generated) into problems with short, uniform messages.
 */
function problemsFromAjv(errors: ErrorObject[], pointerPrefix: string): Problem[] {
  const problems: Problem[] = [];
  const alternativesByPath = new Map<string, ErrorObject[]>();
  for (const error of errors) {
    const pointer = pointerPrefix + error.instancePath;
    if (error.keyword === 'additionalProperties') {
      const field = String(error.params.additionalProperty);
      problems.push({ path: `${pointer}/${escapePointer(field)}`, message: `unknown field "${field}"` });
    } else if (error.keyword === 'required') {
      const field = String(error.params.missingProperty);
      problems.push({ path: `${pointer}/${escapePointer(field)}`, message: `missing required field "${field}"` });
    } else {
      alternativesByPath.set(pointer, [...(alternativesByPath.get(pointer) ?? []), error]);
    }
  }
  for (const [pointer, group] of alternativesByPath) problems.push(...valueProblems(pointer, group));
  return problems;
}

/**
 * A value failing `oneOf`/`anyOf` (IntOrString is `oneOf: [string, integer]`) yields one error
 * per branch plus the oneOf error itself: they are folded into one message such as
 * `must be string or integer`.
 */
function valueProblems(pointer: string, errors: ErrorObject[]): Problem[] {
  const isJunctor = (error: ErrorObject): boolean => error.keyword === 'oneOf' || error.keyword === 'anyOf';
  if (!errors.some(isJunctor)) return errors.map((error) => ({ path: pointer, message: describeValueError(error) }));
  const branches = errors.filter((error) => !isJunctor(error));
  if (branches.length > 0 && branches.every((error) => error.keyword === 'type')) {
    return [{ path: pointer, message: `must be ${branches.map((error) => typeNames(error)).join(' or ')}` }];
  }
  const messages = [...new Set(branches.map(describeValueError))];
  return [{ path: pointer, message: messages.length > 0 ? messages.join(' or ') : 'must match one of the allowed forms' }];
}

function describeValueError(error: ErrorObject): string {
  switch (error.keyword) {
    case 'type':
      return `must be ${typeNames(error)}`;
    case 'enum':
      return `must be one of ${(error.params.allowedValues as unknown[]).map((value) => JSON.stringify(value)).join(', ')}`;
    case 'format':
      return `must match format "${String(error.params.format)}"`;
    default:
      return error.message ?? `fails the "${error.keyword}" rule`;
  }
}

function typeNames(error: ErrorObject): string {
  const type = error.params.type as string | string[];
  return Array.isArray(type) ? type.join(' or ') : type.split(',').join(' or ');
}
