/**
 * Small readers that check one field of a parsed engine response and either
 * return it typed or throw ENGINE_BAD_RESPONSE naming the field (`at.key`).
 *
 * They return the parsed values themselves rather than copies (label maps,
 * env arrays): the objects are ours from JSON.parse, and copying would double
 * the garbage of every 15 s pass for nothing.
 */
import { badResponse } from './engine-error';

export type JsonObject = Record<string, unknown>;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.length > 40 ? `string "${v.slice(0, 40)}…"` : `string "${v}"`;
  if (typeof v === 'number') return `number ${v}`;
  return typeof v;
}

export function fail(at: string, expected: string, got: unknown): never {
  throw badResponse(`${at}: expected ${expected}, got ${describe(got)}`);
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asObject(v: unknown, at: string): JsonObject {
  if (!isObject(v)) fail(at, 'an object', v);
  return v;
}

export function asArray(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) fail(at, 'an array', v);
  return v;
}

export function str(o: JsonObject, key: string, at: string): string {
  const v = o[key];
  if (typeof v !== 'string') fail(`${at}.${key}`, 'a string', v);
  return v;
}

/** Absent and null both mean "not given"; any other non-string is an error. */
export function optStr(o: JsonObject, key: string, at: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(`${at}.${key}`, 'a string', v);
  return v;
}

export function num(o: JsonObject, key: string, at: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${at}.${key}`, 'a number', v);
  return v;
}

export function optNum(o: JsonObject, key: string, at: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${at}.${key}`, 'a number', v);
  return v;
}

/** A non-negative integer counter or size (bytes, pids, ports, exit codes are checked by callers). */
export function count(o: JsonObject, key: string, at: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`${at}.${key}`, 'a non-negative integer', v);
  return v;
}

export function optCount(o: JsonObject, key: string, at: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  return count(o, key, at);
}

export function int(o: JsonObject, key: string, at: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(`${at}.${key}`, 'an integer', v);
  return v;
}

export function optObject(o: JsonObject, key: string, at: string): JsonObject | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  return asObject(v, `${at}.${key}`);
}

/** Engines send `null` for an empty list (Podman does for Env, Names and Ports). */
export function strArray(o: JsonObject, key: string, at: string): string[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(`${at}.${key}`, 'an array of strings', v);
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] !== 'string') fail(`${at}.${key}[${i}]`, 'a string', v[i]);
  }
  return v as string[];
}

/** Label maps: `null` means none; every value must be a string. */
export function strMap(o: JsonObject, key: string, at: string): Record<string, string> {
  const v = o[key];
  if (v === undefined || v === null) return {};
  if (!isObject(v)) fail(`${at}.${key}`, 'an object of strings', v);
  for (const k in v) {
    if (typeof v[k] !== 'string') fail(`${at}.${key}["${k}"]`, 'a string', v[k]);
  }
  return v as Record<string, string>;
}

/** RFC 3339 timestamp (Docker sends nanoseconds; Date.parse keeps milliseconds). */
export function timestampMs(o: JsonObject, key: string, at: string): number {
  const s = str(o, key, at);
  const ms = Date.parse(s);
  if (!Number.isFinite(ms)) fail(`${at}.${key}`, 'an RFC 3339 timestamp', s);
  return ms;
}
