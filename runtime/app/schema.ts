/**
 * A small JSON Schema checker for the app's request schemas.
 *
 * The same schema objects validate requests here and are written into the
 * OpenAPI document (openapi.ts), so the document cannot drift from what the
 * server accepts. Only the keywords those schemas use are supported (type,
 * properties, required, additionalProperties: false, enum, min/maxLength,
 * pattern, minimum/maximum, items, maxItems, description); a schema using any
 * other keyword is refused when the app starts, not silently half-checked.
 * (ajv is a development dependency only; the image ships without it.)
 */
export interface Schema {
  type?: 'object' | 'string' | 'integer' | 'number' | 'boolean' | 'array';
  description?: string;
  properties?: Record<string, Schema>;
  required?: readonly string[];
  additionalProperties?: false | Schema;
  enum?: readonly (string | number | boolean)[];
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  items?: Schema;
  maxItems?: number;
  /** For documentation only (responses): a reference into components.schemas. */
  $ref?: string;
  nullable?: boolean;
  default?: unknown;
  example?: unknown;
  oneOf?: Schema[];
  format?: string;
}

const KNOWN = new Set([
  'type', 'description', 'properties', 'required', 'additionalProperties', 'enum', 'minLength', 'maxLength', 'pattern',
  'minimum', 'maximum', 'items', 'maxItems', 'default', 'example',
]);

export interface SchemaProblem {
  path: string;
  message: string;
}

/** Throws when a request schema uses a keyword this checker does not enforce. */
export function assertCheckable(schema: Schema, at = '#'): void {
  for (const k of Object.keys(schema)) if (!KNOWN.has(k)) throw new Error(`request schema at ${at} uses unsupported keyword ${k}`);
  for (const [k, s] of Object.entries(schema.properties ?? {})) assertCheckable(s, `${at}/properties/${k}`);
  if (schema.items) assertCheckable(schema.items, `${at}/items`);
  if (typeof schema.additionalProperties === 'object') assertCheckable(schema.additionalProperties, `${at}/additionalProperties`);
}

function typeOf(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'array';
  if (typeof x === 'number') return Number.isInteger(x) ? 'integer' : 'number';
  return typeof x;
}

/** The first problem of `x` against `schema`, or null. */
export function check(schema: Schema, x: unknown, path = ''): SchemaProblem | null {
  const t = typeOf(x);
  if (schema.type !== undefined) {
    const ok = schema.type === t || (schema.type === 'number' && t === 'integer');
    if (!ok) return { path, message: `expected ${schema.type}, got ${t}` };
  }
  if (schema.enum !== undefined && !schema.enum.includes(x as string)) {
    return { path, message: `must be one of ${schema.enum.join(', ')}` };
  }
  if (typeof x === 'string') {
    if (schema.minLength !== undefined && x.length < schema.minLength) return { path, message: `shorter than ${schema.minLength}` };
    if (schema.maxLength !== undefined && x.length > schema.maxLength) return { path, message: `longer than ${schema.maxLength}` };
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(x)) return { path, message: `does not match ${schema.pattern}` };
  }
  if (typeof x === 'number') {
    if (schema.minimum !== undefined && x < schema.minimum) return { path, message: `less than ${schema.minimum}` };
    if (schema.maximum !== undefined && x > schema.maximum) return { path, message: `greater than ${schema.maximum}` };
  }
  if (Array.isArray(x)) {
    if (schema.maxItems !== undefined && x.length > schema.maxItems) return { path, message: `more than ${schema.maxItems} items` };
    if (schema.items) {
      for (let i = 0; i < x.length; i++) {
        const p = check(schema.items, x[i], `${path}[${i}]`);
        if (p) return p;
      }
    }
  }
  if (t === 'object') {
    const o = x as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!Object.prototype.hasOwnProperty.call(o, r)) return { path: join(path, r), message: 'is required' };
    for (const k of Object.keys(o)) {
      const s = schema.properties?.[k];
      if (s) {
        const p = check(s, o[k], join(path, k));
        if (p) return p;
      } else if (schema.additionalProperties === false) {
        return { path: join(path, k), message: 'is not a known field' };
      } else if (typeof schema.additionalProperties === 'object') {
        const p = check(schema.additionalProperties, o[k], join(path, k));
        if (p) return p;
      }
    }
  }
  return null;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/**
 * Query parameters as an object typed by `schema` (integers parsed), or a
 * problem. A parameter given twice is a problem: its meaning would be a guess.
 */
export function queryObject(schema: Schema, params: URLSearchParams): { value: Record<string, unknown> } | { problem: SchemaProblem } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of params) {
    if (Object.prototype.hasOwnProperty.call(out, k)) return { problem: { path: k, message: 'is given more than once' } };
    const s = schema.properties?.[k];
    if (s && (s.type === 'integer' || s.type === 'number')) {
      const n = v.trim() === '' ? NaN : Number(v);
      if (!Number.isFinite(n)) return { problem: { path: k, message: `expected ${s.type}, got ${JSON.stringify(v.slice(0, 40))}` } };
      out[k] = n;
    } else {
      out[k] = v;
    }
  }
  const p = check(schema, out);
  return p ? { problem: p } : { value: out };
}
