/**
 * Node ids: stable, readable, and joinable across probes.
 *
 * Grammar (ABNF-like):
 *
 *     id          = topology ";" part *( ";" part )
 *     part        = *( %x21-24 / %x26-3A / %x3C-7E / pct )   ; printable ASCII but ';' and '%'
 *     pct         = "%" 2HEXDIG                              ; any other byte, UTF-8 encoded
 *
 *     host            = "host;" hostname
 *     process         = "process;" hostname ";" pid ";" start-ticks
 *     container       = "container;" container-id            ; the engine's full id
 *     container_image = "container_image;" image-id          ; e.g. "sha256:…"
 *     pod             = "pod;" pod-uid
 *     service         = "service;" service-uid
 *     controller      = "controller;" controller-uid         ; kind is in latest["kind"]
 *     endpoint        = "endpoint;" scope ";" address ";" port
 *     scope           = ""                                   ; routable address: joins across probes
 *                     / hostname "/" netns-inode             ; loopback: local to one network namespace
 *
 * Why each choice:
 * - A process id includes its start time (clock ticks after boot, field 22 of
 *   /proc/<pid>/stat), so a reused pid is a new node, and the same process keeps
 *   its id for its whole life. Hostname qualifies it across hosts.
 * - Kubernetes objects are named by uid: names are reused after deletion, uids are not.
 * - Endpoint addresses are canonical (IPv4 dotted quad, IPv4-mapped IPv6 folded
 *   to IPv4, IPv6 lowercased and compressed), so two probes that see the two ends
 *   of one connection name the same endpoint. Loopback addresses are qualified by
 *   host and network namespace so that 127.0.0.1:80 on two hosts never joins.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ReportError } from './errors';
import { TOPOLOGY_NAMES, type TopologyName } from './schema';

export const ID_SEPARATOR = ';';

const SAFE_PART = /^[\x21-\x24\x26-\x3a\x3c-\x7e]*$/;
const ENCODED_PART = /^(?:[\x21-\x24\x26-\x3a\x3c-\x7e]|%[0-9A-Fa-f]{2})*$/;
const UNSAFE_CHAR = /[^\x21-\x24\x26-\x3a\x3c-\x7e]/gu;
const TOPOLOGY_SET: ReadonlySet<string> = new Set(TOPOLOGY_NAMES);

/** Escapes one id part so that it holds no separator, no '%' and no non-printable byte. */
export function encodeIdPart(part: string): string {
  if (SAFE_PART.test(part)) return part;
  return part.replace(UNSAFE_CHAR, (c) => {
    let out = '';
    for (const byte of Buffer.from(c, 'utf8')) out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
    return out;
  });
}

function makeId(topology: TopologyName, parts: readonly (string | number)[]): string {
  let id: string = topology;
  for (const p of parts) id += ID_SEPARATOR + encodeIdPart(String(p));
  return id;
}

export function hostNodeId(hostname: string): string {
  return makeId('host', [hostname]);
}

/** `startTicks` is field 22 of /proc/<pid>/stat: clock ticks after boot. */
export function processNodeId(hostname: string, pid: number, startTicks: number): string {
  return makeId('process', [hostname, pid, startTicks]);
}

export function containerNodeId(containerId: string): string {
  return makeId('container', [containerId.toLowerCase()]);
}

export function containerImageNodeId(imageId: string): string {
  return makeId('container_image', [imageId]);
}

export function podNodeId(uid: string): string {
  return makeId('pod', [uid]);
}

export function serviceNodeId(uid: string): string {
  return makeId('service', [uid]);
}

export function controllerNodeId(uid: string): string {
  return makeId('controller', [uid]);
}

/** Where a loopback address lives: one network namespace of one host. */
export interface LocalScope {
  hostname: string;
  netns: number;
}

/**
 * The endpoint `address:port`. `scope` is needed for loopback addresses (it is
 * ignored for routable ones, which must join across probes).
 */
export function endpointNodeId(address: string, port: number, scope?: LocalScope): string {
  const canonical = canonicalAddress(address);
  const scoped = isLoopback(canonical) ? (scope ? `${scope.hostname}/${scope.netns}` : 'unscoped') : '';
  return makeId('endpoint', [scoped, canonical, port]);
}

/** IPv4 stays dotted; IPv4-mapped IPv6 becomes IPv4; IPv6 is lowercased and compressed. */
export function canonicalAddress(address: string): string {
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return address;
  const lower = address.toLowerCase();
  const mapped = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  // The URL parser is the standard library's IPv6 canonicaliser (RFC 5952 form).
  const host = new URL(`http://[${lower}]/`).hostname;
  const inner = host.slice(1, -1);
  const mappedHex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(inner);
  if (mappedHex) {
    const hi = parseInt(mappedHex[1]!, 16);
    const lo = parseInt(mappedHex[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return inner;
}

export function isLoopback(canonical: string): boolean {
  return canonical === '::1' || canonical.startsWith('127.');
}

export interface ParsedId {
  topology: TopologyName;
  parts: string[];
}

/** Splits an id into its topology and decoded parts; null when it does not follow the grammar. */
export function parseNodeId(id: string): ParsedId | null {
  const fields = id.split(ID_SEPARATOR);
  const topology = fields[0]!;
  if (fields.length < 2 || !TOPOLOGY_SET.has(topology)) return null;
  const parts: string[] = [];
  for (let i = 1; i < fields.length; i++) {
    const f = fields[i]!;
    if (!ENCODED_PART.test(f)) return null;
    try {
      parts.push(f.includes('%') ? decodeURIComponent(f) : f);
    } catch {
      return null;
    }
  }
  const arity = ARITY[topology as TopologyName];
  if (parts.length !== arity) return null;
  return { topology: topology as TopologyName, parts };
}

const ARITY: Readonly<Record<TopologyName, number>> = {
  host: 1,
  process: 3,
  container: 1,
  container_image: 1,
  pod: 1,
  service: 1,
  controller: 1,
  endpoint: 3,
};

/**
 * The topology named by an id's prefix, or null. Cheap (no split, no decoding):
 * the validator calls it on every id it sees.
 */
export function topologyOfId(id: string): TopologyName | null {
  const cut = id.indexOf(ID_SEPARATOR);
  if (cut <= 0) return null;
  const prefix = id.slice(0, cut);
  return TOPOLOGY_SET.has(prefix) ? (prefix as TopologyName) : null;
}

/** Like `parseNodeId`, but throws a coded error; for trusted callers that expect valid ids. */
export function mustParseNodeId(id: string): ParsedId {
  const parsed = parseNodeId(id);
  if (!parsed) throw new ReportError('E_ID_INVALID', `not a node id: ${JSON.stringify(id.slice(0, 80))}`);
  return parsed;
}
