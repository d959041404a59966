/**
 * Turns the engine's JSON for version, container list and inspect into the
 * typed records of types.ts, checking every field it uses. Written against the
 * Docker Engine API v1.41 and what Podman's compatible API actually sends
 * (nulls for empty lists, no HostConfig in the list, its own state names).
 */
import { badResponse } from './engine-error';
import {
  asArray,
  asObject,
  count,
  fail,
  int,
  isObject,
  optObject,
  optStr,
  str,
  strArray,
  strMap,
  timestampMs,
  type JsonObject,
} from './json-read';
import type { ContainerDetails, ContainerPort, ContainerState, EngineContainer, EngineVersion } from './types';

const STATES: ReadonlySet<string> = new Set(['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead']);

/** Podman's own state names, where its compat layer lets them through. */
const STATE_ALIASES: Readonly<Record<string, ContainerState>> = {
  configured: 'created',
  initialized: 'created',
  stopped: 'exited',
  stopping: 'running',
};

/** Docker's zero time: "never started" / "never finished". */
const ZERO_TIME_PREFIX = '0001-01-01';

/** Ids and names both travel in URL paths, so only this charset is accepted. */
export const CONTAINER_REF = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function decodeVersion(body: unknown): EngineVersion {
  const at = 'GET /version';
  const o = asObject(body, at);
  return { apiVersion: str(o, 'ApiVersion', at), version: str(o, 'Version', at), os: str(o, 'Os', at), arch: str(o, 'Arch', at) };
}

function decodeState(raw: string, at: string): ContainerState {
  const s = raw.toLowerCase();
  if (STATES.has(s)) return s as ContainerState;
  const alias = STATE_ALIASES[s];
  if (alias !== undefined) return alias;
  return fail(at, 'a container state', raw);
}

function decodeId(o: JsonObject, key: string, at: string): string {
  const id = str(o, key, at);
  if (!CONTAINER_REF.test(id)) fail(`${at}.${key}`, 'a container id', id);
  return id;
}

/**
 * Docker lists a container under every link alias too ("/web/db"); the
 * container's own name is the one without a further '/'.
 */
function pickName(names: string[], at: string): string {
  let chosen: string | undefined;
  for (const n of names) {
    const bare = n.startsWith('/') ? n.slice(1) : n;
    if (bare.length > 0 && !bare.includes('/')) return bare;
    chosen ??= bare;
  }
  if (chosen === undefined || chosen.length === 0) fail(`${at}.Names`, 'at least one name', names);
  return chosen;
}

function stripSlash(name: string): string {
  return name.startsWith('/') ? name.slice(1) : name;
}

function portNumber(v: unknown, at: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) fail(at, 'a port number', v);
  return v;
}

/** The list's Ports: [{ IP, PrivatePort, PublicPort, Type }]. */
function decodeListPorts(v: unknown, at: string): ContainerPort[] {
  if (v === undefined || v === null) return [];
  const arr = asArray(v, at);
  const out: ContainerPort[] = new Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const pat = `${at}[${i}]`;
    const p = asObject(arr[i], pat);
    const port: ContainerPort = { privatePort: portNumber(p['PrivatePort'], `${pat}.PrivatePort`), protocol: str(p, 'Type', pat) };
    if (p['PublicPort'] !== undefined && p['PublicPort'] !== null && p['PublicPort'] !== 0) {
      port.publicPort = portNumber(p['PublicPort'], `${pat}.PublicPort`);
    }
    const ip = optStr(p, 'IP', pat);
    if (ip) port.ip = ip;
    out[i] = port;
  }
  return out;
}

/** Inspect's NetworkSettings.Ports: { "80/tcp": [{ HostIp, HostPort }] | null }. */
function decodeInspectPorts(v: unknown, at: string): ContainerPort[] {
  if (v === undefined || v === null) return [];
  const map = asObject(v, at);
  const out: ContainerPort[] = [];
  for (const key in map) {
    const m = /^(\d{1,5})\/([a-z]+)$/.exec(key);
    if (m === null) fail(`${at} key`, '"<port>/<protocol>"', key);
    const privatePort = portNumber(Number(m[1]), `${at}["${key}"]`);
    const protocol = m[2] as string;
    const bindings = map[key];
    if (bindings === null || bindings === undefined || (Array.isArray(bindings) && bindings.length === 0)) {
      out.push({ privatePort, protocol });
      continue;
    }
    const arr = asArray(bindings, `${at}["${key}"]`);
    for (let i = 0; i < arr.length; i++) {
      const bat = `${at}["${key}"][${i}]`;
      const b = asObject(arr[i], bat);
      const port: ContainerPort = { privatePort, protocol };
      const hostPort = optStr(b, 'HostPort', bat);
      if (hostPort) {
        if (!/^\d{1,5}$/.test(hostPort)) fail(`${bat}.HostPort`, 'a port number', hostPort);
        port.publicPort = portNumber(Number(hostPort), `${bat}.HostPort`);
      }
      const ip = optStr(b, 'HostIp', bat);
      if (ip) port.ip = ip;
      out.push(port);
    }
  }
  return out;
}

/** Addresses from NetworkSettings (top level for the default network, then each named network). */
function decodeAddresses(settings: JsonObject | undefined, at: string): string[] {
  const out: string[] = [];
  if (settings === undefined) return out;
  const add = (o: JsonObject, oat: string): void => {
    for (const key of ['IPAddress', 'GlobalIPv6Address']) {
      const ip = optStr(o, key, oat);
      if (ip && !out.includes(ip)) out.push(ip);
    }
  };
  add(settings, at);
  const networks = optObject(settings, 'Networks', at);
  if (networks !== undefined) {
    for (const name in networks) add(asObject(networks[name], `${at}.Networks["${name}"]`), `${at}.Networks["${name}"]`);
  }
  return out;
}

function decodeListItem(v: unknown, at: string): EngineContainer {
  const o = asObject(v, at);
  const hostConfig = optObject(o, 'HostConfig', at);
  const settings = optObject(o, 'NetworkSettings', at);
  const created = count(o, 'Created', at);
  return {
    id: decodeId(o, 'Id', at),
    name: pickName(strArray(o, 'Names', at), at),
    image: str(o, 'Image', at),
    imageId: str(o, 'ImageID', at),
    command: str(o, 'Command', at),
    state: decodeState(str(o, 'State', at), `${at}.State`),
    status: str(o, 'Status', at),
    createdAt: created,
    labels: strMap(o, 'Labels', at),
    ports: decodeListPorts(o['Ports'], `${at}.Ports`),
    networkMode: (hostConfig && optStr(hostConfig, 'NetworkMode', `${at}.HostConfig`)) ?? '',
    ipAddresses: decodeAddresses(settings, `${at}.NetworkSettings`),
  };
}

export function decodeContainerList(body: unknown): EngineContainer[] {
  const arr = asArray(body, 'GET /containers/json');
  const out: EngineContainer[] = new Array(arr.length);
  for (let i = 0; i < arr.length; i++) out[i] = decodeListItem(arr[i], `GET /containers/json[${i}]`);
  return out;
}

function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 1) return 'Less than a second';
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.floor(s / 60);
  if (m < 60) return m === 1 ? 'About a minute' : `${m} minutes`;
  const h = Math.floor(m / 60);
  if (h < 48) return h === 1 ? 'About an hour' : `${h} hours`;
  const d = Math.floor(h / 24);
  return d < 14 ? `${d} days` : `${Math.floor(d / 7)} weeks`;
}

/**
 * Inspect has no human status line (the list has one); build one in Docker's
 * style so that list and inspect records read the same.
 */
export function statusText(state: ContainerState, startedMs: number | undefined, finishedMs: number | undefined, exitCode: number, nowMs: number): string {
  switch (state) {
    case 'created':
      return 'Created';
    case 'running':
      return startedMs === undefined ? 'Up' : `Up ${humanDuration(nowMs - startedMs)}`;
    case 'paused':
      return startedMs === undefined ? 'Up (Paused)' : `Up ${humanDuration(nowMs - startedMs)} (Paused)`;
    case 'restarting':
      return finishedMs === undefined ? `Restarting (${exitCode})` : `Restarting (${exitCode}) ${humanDuration(nowMs - finishedMs)} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'exited':
      return finishedMs === undefined ? `Exited (${exitCode})` : `Exited (${exitCode}) ${humanDuration(nowMs - finishedMs)} ago`;
    case 'dead':
      return 'Dead';
  }
}

function optTime(o: JsonObject, key: string, at: string): { text: string; ms: number } | undefined {
  const text = optStr(o, key, at);
  if (text === undefined || text === '' || text.startsWith(ZERO_TIME_PREFIX)) return undefined;
  return { text, ms: timestampMs(o, key, at) };
}

export function decodeDetails(body: unknown, nowMs: number): ContainerDetails {
  const at = 'GET /containers/{id}/json';
  const o = asObject(body, at);
  const stateObj = asObject(o['State'], `${at}.State`);
  const sat = `${at}.State`;
  const config = asObject(o['Config'], `${at}.Config`);
  const cat = `${at}.Config`;
  const hostConfig = optObject(o, 'HostConfig', at);
  const settings = optObject(o, 'NetworkSettings', at);

  const state = decodeState(str(stateObj, 'Status', sat), `${sat}.Status`);
  const started = optTime(stateObj, 'StartedAt', sat);
  const finished = optTime(stateObj, 'FinishedAt', sat);
  const exitCode = int(stateObj, 'ExitCode', sat);
  const name = stripSlash(str(o, 'Name', at));
  if (name.length === 0) fail(`${at}.Name`, 'a container name', name);
  const path = str(o, 'Path', at);
  const args = strArray(o, 'Args', at);

  const details: ContainerDetails = {
    id: decodeId(o, 'Id', at),
    name,
    // Inspect's top-level Image is the image id; the name as the user gave it is in Config.
    image: str(config, 'Image', cat),
    imageId: str(o, 'Image', at),
    command: args.length === 0 ? path : `${path} ${args.join(' ')}`,
    state,
    status: statusText(state, started?.ms, finished?.ms, exitCode, nowMs),
    createdAt: Math.floor(timestampMs(o, 'Created', at) / 1000),
    labels: strMap(config, 'Labels', cat),
    ports: decodeInspectPorts(settings?.['Ports'], `${at}.NetworkSettings.Ports`),
    networkMode: (hostConfig && optStr(hostConfig, 'NetworkMode', `${at}.HostConfig`)) ?? '',
    ipAddresses: decodeAddresses(settings, `${at}.NetworkSettings`),
    pid: count(stateObj, 'Pid', sat),
    restartCount: count(o, 'RestartCount', at),
    hostname: optStr(config, 'Hostname', cat) ?? '',
    env: strArray(config, 'Env', cat),
  };
  if (started) details.startedAt = started.text;
  if (finished) details.finishedAt = finished.text;
  if (state === 'exited' || state === 'dead' || state === 'restarting') details.exitCode = exitCode;
  const cgroupParent = hostConfig && optStr(hostConfig, 'CgroupParent', `${at}.HostConfig`);
  if (cgroupParent) details.cgroupParent = cgroupParent;
  return details;
}

/** The `message` of an engine error body, bounded; the raw text when it is not JSON. */
export function errorMessage(body: Buffer): string {
  const text = body.toString('utf8', 0, Math.min(body.length, 4096)).trim();
  try {
    const parsed: unknown = JSON.parse(text);
    if (isObject(parsed) && typeof parsed['message'] === 'string') return parsed['message'].slice(0, 1000);
  } catch {
    // not JSON: fall through to the text itself
  }
  return text.slice(0, 1000) || '(no message)';
}

/** Podman's `cause` for a state conflict, which it sends as a 500 where Docker sends 409. */
export function isStateConflict(body: Buffer): boolean {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8', 0, Math.min(body.length, 4096)));
    return isObject(parsed) && parsed['cause'] === 'container state improper';
  } catch {
    return false;
  }
}

export function parseJson(body: Buffer, what: string): unknown {
  if (body.length === 0) throw badResponse(`${what}: empty body`);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw badResponse(`${what}: invalid JSON (${(err as Error).message})`);
  }
}
