/**
 * Connections: TCP sockets joined to the processes that own them, as edges.
 *
 * Per pass:
 * 1. Group the live processes (from the processes collector's table of this
 *    pass) by network namespace, and read /proc/<pid>/net/tcp and tcp6 once per
 *    namespace, through any one of its processes.
 * 2. Map socket inodes to processes (`SocketOwners`: fds are rescanned only
 *    when an unseen socket appears).
 * 3. Join the two ends of each connection that is local to this host (same
 *    namespace for loopback, any namespace for other addresses) into an edge
 *    client process → server process. The server side is the end whose address
 *    is listening; with no listener on either side, the end with the higher
 *    (ephemeral) port is taken as the client.
 * 4. A connection whose other end is not on this host becomes an endpoint:
 *    the client side gets an edge to `endpoint;;<remote ip>;<port>`, the server
 *    side publishes `endpoint;;<local ip>;<port>` with its process as parent.
 *    The app joins the two across probes by the shared endpoint id.
 * 5. /proc/net/nf_conntrack, when readable: NATed destinations are replaced by
 *    their real destination (the endpoint keeps `nat_from`), and flows that no
 *    socket shows any more (short-lived connections) become endpoint → endpoint
 *    edges.
 *
 * Loopback endpoints are scoped to host and namespace by their id, so they
 * never join across hosts.
 */
import { existsSync, readlinkSync } from 'node:fs';
import { EMPTY_NODE, endpointNodeId, isLoopback, type LocalScope, type ReportNode } from '../../report';
import { CollectorFailure, type Collector, type CollectorResult, type PassContext, type ProbeIdentity } from '../collector';
import { LatestMemories } from '../nodes';
import type { ProcessTable, ProcessTableEntry, ProcessTableSource } from './processes';
import { parseConntrack, isDnat, type ConntrackFlow } from '../procfs/conntrack';
import { AddressCache, isConnected, isListening, readTcpTable, type TcpSocket } from '../procfs/net-tcp';
import { ProcReader, errnoOf, isVanished, lastIndexOfByte, parseUint } from '../procfs/reader';
import { SocketOwners, type ScanCounters } from '../procfs/socket-owners';

const TCP_INUSE = Buffer.from('\nTCP: inuse ');
const NO_FDS: ReadonlySet<number> = new Set();
const TCP6_INUSE = Buffer.from('TCP6: inuse ');

export interface ConnectionsCollectorOptions {
  identity: ProbeIdentity;
  /** The processes collector of the same probe: its table of the same pass (awaited through `PassContext.settled`). */
  processes: ProcessTableSource;
  procRoot?: string;
  /** The conntrack table; null to leave it out. Default `<procRoot>/net/nf_conntrack`. */
  conntrackPath?: string | null;
  /** Flows read from conntrack per pass at most (a NAT gateway can hold hundreds of thousands). */
  maxConntrackFlows?: number;
}

interface NamespaceSockets {
  netns: number;
  sockets: TcpSocket[];
  owners: ReadonlyMap<number, number>;
}

interface IndexedSocket {
  ns: NamespaceSockets;
  socket: TcpSocket;
  owner: ProcessTableEntry | undefined;
}

/** Whether `o` is the connected socket local → remote (loopback: in namespace `netns`). */
function sameTuple(o: IndexedSocket, netns: number, local: string, remote: string): boolean {
  return o.socket.local === local && o.socket.remote === remote && (o.ns.netns === netns || !isLoopback(local));
}

/** A tuple as text; only to break the tie between two ends with the same port. */
function tupleText(netns: number, a: string, ap: number, b: string, bp: number): string {
  return `${isLoopback(a) ? netns : ''}|${a}|${ap}|${b}|${bp}`;
}

function endpointText(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export class ConnectionsCollector implements Collector {
  readonly name = 'connections';
  private readonly root: string;
  /** 64 KiB: the tcp tables are read through it in pieces (readTcpTable), so it no longer grows to a table's size (1 MB at 7,000 sockets) and stays there. */
  private readonly reader = new ProcReader(64 * 1024);
  private readonly addresses = new AddressCache();
  private readonly owners: SocketOwners;
  private readonly processLatest = new LatestMemories();
  private readonly endpointLatest = new LatestMemories();
  private readonly conntrackPath: string | null;
  private readonly maxFlows: number;
  private readonly ownNetns: number;
  private readonly inodes: number[] = [];
  private noSockstat = false;
  /** Table reads and skips so far (for benchmarks and tests). */
  readonly stats = { tablesRead: 0, tablesSkipped: 0 };

  constructor(private readonly opts: ConnectionsCollectorOptions) {
    this.root = opts.procRoot ?? '/proc';
    this.owners = new SocketOwners(this.root, () => opts.processes.heldFds?.() ?? NO_FDS);
    this.conntrackPath = opts.conntrackPath === undefined ? `${this.root}/net/nf_conntrack` : opts.conntrackPath;
    this.maxFlows = opts.maxConntrackFlows ?? 20_000;
    this.ownNetns = readNetns(`${this.root}/self/ns/net`);
  }

  /** Fd rescans so far: how often an unseen socket forced a walk of the fds. */
  get rescans(): number {
    return this.owners.rescans;
  }

  /** Fd scans by kind, fd directories and links read so far. */
  get scans(): Readonly<ScanCounters> {
    return this.owners.counters;
  }

  async collect(now: number, pass?: PassContext): Promise<CollectorResult> {
    await pass?.settled?.('processes'); // this pass's process table
    const table = this.opts.processes.processTable();
    if (table === null) throw new CollectorFailure('E_NO_PROCESS_TABLE', 'the processes collector has not completed a pass');
    const errors = new Map<string, { count: number; example: string }>();
    const onError = (err: unknown, path: string): void => {
      const code = errnoOf(err) || 'E_PROC_READ';
      const e = errors.get(code);
      if (e) e.count++;
      else errors.set(code, { count: 1, example: path });
    };

    const namespaces = this.readNamespaces(table, onError);
    const conntrack = this.readConntrack(onError);
    const nodes = this.join(table, namespaces, conntrack, now);
    this.processLatest.sweep();
    this.endpointLatest.sweep();

    const issues = [...errors].map(([code, e]) => ({
      code,
      count: e.count,
      message: `${e.count} socket ${e.count === 1 ? 'source' : 'sources'} unreadable (${code}), e.g. ${e.example}`,
    }));
    if (conntrack.skipped > 0) {
      issues.push({ code: 'E_CONNTRACK_TRUNCATED', count: conntrack.skipped, message: `${conntrack.skipped} conntrack flows over the ${this.maxFlows}-flow limit were left out` });
    }
    return { nodes, issues };
  }

  /** Sockets of every network namespace that has a live process, with their owners. */
  private readNamespaces(table: ProcessTable, onError: (err: unknown, path: string) => void): NamespaceSockets[] {
    const groups = new Map<number, number[]>();
    for (const e of table.byPid.values()) {
      if (e.netns === 0) continue;
      const g = groups.get(e.netns);
      if (g) g.push(e.pid);
      else groups.set(e.netns, [e.pid]);
    }
    const alive = (pid: number): boolean => table.byPid.has(pid);
    const out: NamespaceSockets[] = [];
    this.owners.beginPass();
    for (const [netns, pids] of groups) {
      const sockets = this.readTables(pids, onError);
      if (sockets === null || sockets.length === 0) {
        this.owners.listed(pids);
        continue;
      }
      const inodes = this.inodes;
      inodes.length = 0;
      for (const s of sockets) inodes.push(s.inode);
      const owners = this.owners.owners(netns, inodes, pids, alive, onError);
      out.push({ netns, sockets, owners });
    }
    this.owners.endPass();
    return out;
  }

  /**
   * tcp + tcp6 of a namespace, read through the first of its processes that is
   * still there; null when none could be read.
   *
   * Reading /proc/<pid>/net/tcp walks the kernel's whole established-socket
   * hash (shared by all namespaces: 262,144 buckets here), so even an empty
   * namespace costs 25-30 ms for tcp + tcp6. `net/sockstat{,6}` tell in a few
   * microseconds how many TCP sockets the namespace has in use (listening and
   * connected; TIME_WAIT is not counted, and not wanted): a table is read only
   * when its count is not zero. A proc tree without sockstat (a fake one in
   * tests, an old kernel) has its tables read.
   */
  private readTables(pids: readonly number[], onError: (err: unknown, path: string) => void): TcpSocket[] | null {
    for (const pid of pids) {
      const sockets: TcpSocket[] = [];
      try {
        for (const file of ['tcp', 'tcp6'] as const) {
          if (this.inUse(pid, file) === 0) {
            this.stats.tablesSkipped++;
            continue;
          }
          const path = `${this.root}/${pid}/net/${file}`;
          try {
            readTcpTable(this.reader, path, this.addresses, sockets);
          } catch (err) {
            // A kernel without IPv6 has no tcp6: that namespace simply has no IPv6 sockets.
            if (file === 'tcp6' && errnoOf(err) === 'ENOENT') continue;
            throw err;
          }
          this.stats.tablesRead++;
        }
        return sockets;
      } catch (err) {
        if (!isVanished(err)) onError(err, `${this.root}/${pid}/net/tcp`);
      }
    }
    return null;
  }

  /**
   * TCP sockets in use in the namespace of `pid` for one table, from
   * `net/sockstat` ("TCP: inuse N") or `net/sockstat6` ("TCP6: inuse N");
   * -1 when unknown (then the table is read). Throws when the process vanished.
   */
  private inUse(pid: number, table: 'tcp' | 'tcp6'): number {
    if (this.noSockstat) return -1;
    let n: number;
    try {
      n = this.reader.read(`${this.root}/${pid}/net/${table === 'tcp' ? 'sockstat' : 'sockstat6'}`);
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ENOENT' && existsSync(`${this.root}/${pid}`)) {
        this.noSockstat = true; // a tree without sockstat: stop asking
        return -1;
      }
      if (isVanished(err)) throw err;
      return -1; // unreadable: read the table, whose error is the one to report
    }
    const tag = table === 'tcp' ? TCP_INUSE : TCP6_INUSE;
    const buf = this.reader.bytes;
    const at = buf.subarray(0, n).indexOf(tag);
    if (at < 0) return -1;
    return parseUint(buf, at + tag.length, n);
  }

  private readConntrack(onError: (err: unknown, path: string) => void): { flows: ConntrackFlow[]; skipped: number } {
    if (this.conntrackPath === null) return { flows: [], skipped: 0 };
    try {
      // In pieces of the reader's buffer, whole lines at a time (each line is one flow), like the tcp tables: a host
      // tracking many flows does not grow the buffer to the table's size. Same flows as parsing the whole text.
      const flows: ConntrackFlow[] = [];
      let skipped = 0;
      this.reader.readPieces(this.conntrackPath, (buf, end, atEnd) => {
        const cut = atEnd ? end : lastIndexOfByte(buf, 10, end - 1) + 1;
        if (cut <= 0) return 0;
        const part = parseConntrack(buf.toString('latin1', 0, cut), this.maxFlows - flows.length);
        for (const f of part.flows) flows.push(f);
        skipped += part.skipped;
        return cut;
      });
      return { flows, skipped };
    } catch (err) {
      // No conntrack module loaded: nothing to add, and nothing wrong. Anything
      // else (EACCES without CAP_NET_ADMIN) is reported, and the sockets still count.
      if (errnoOf(err) !== 'ENOENT') onError(err, this.conntrackPath);
      return { flows: [], skipped: 0 };
    }
  }

  private join(table: ProcessTable, namespaces: NamespaceSockets[], conntrack: { flows: ConntrackFlow[] }, now: number): CollectorResult['nodes'] {
    const { hostname, hostId } = this.opts.identity;
    // Listening ends, by namespace and port (netns inode * 65536 + port: exact in a double).
    const wildcardListeners = new Set<number>();
    const addressListeners = new Map<number, string[]>();
    const isServerEnd = (netns: number, addr: string, port: number): boolean => {
      const k = netns * 65536 + port;
      return wildcardListeners.has(k) || (addressListeners.get(k)?.includes(addr) ?? false);
    };

    // Connected sockets by their ports (local * 65536 + remote), chained: no string key per
    // connection. Two sockets are the same tuple when ports, addresses (strings interned by
    // the AddressCache) and, for loopback, the namespace agree: loopback tuples only meet
    // within their namespace, others anywhere on the host.
    const listeningOf = new Map<string, Set<string>>();
    const index = new Map<number, IndexedSocket | IndexedSocket[]>();
    const order: IndexedSocket[] = [];
    for (const ns of namespaces) {
      for (const s of ns.sockets) {
        const owner = table.byPid.get(ns.owners.get(s.inode) ?? -1);
        if (isListening(s)) {
          const k = ns.netns * 65536 + s.localPort;
          if (s.local === '0.0.0.0' || s.local === '::') wildcardListeners.add(k);
          else {
            const at = addressListeners.get(k);
            if (at === undefined) addressListeners.set(k, [s.local]);
            else if (!at.includes(s.local)) at.push(s.local);
          }
          if (owner) {
            let set = listeningOf.get(owner.nodeId);
            if (!set) listeningOf.set(owner.nodeId, (set = new Set()));
            set.add(endpointText(s.local, s.localPort));
          }
        } else if (isConnected(s)) {
          const me: IndexedSocket = { ns, socket: s, owner };
          const k = s.localPort * 65536 + s.remotePort;
          const have = index.get(k);
          if (have === undefined) {
            index.set(k, me);
            order.push(me);
            continue;
          }
          const chain = Array.isArray(have) ? have : [have];
          const same = chain.findIndex((o) => sameTuple(o, ns.netns, s.local, s.remote));
          if (same >= 0) {
            // The same tuple twice: the later socket stands for it, in the first one's place.
            order[order.indexOf(chain[same]!)] = me;
            chain[same] = me;
          } else {
            chain.push(me);
            order.push(me);
          }
          if (!Array.isArray(have)) index.set(k, chain);
        }
      }
    }
    /** The socket at the other end of `me`'s connection, if it is on this host. */
    const peerOf = (me: IndexedSocket): IndexedSocket | undefined => {
      const s = me.socket;
      const got = index.get(s.remotePort * 65536 + s.localPort);
      if (got === undefined) return undefined;
      if (!Array.isArray(got)) return sameTuple(got, me.ns.netns, s.remote, s.local) ? got : undefined;
      return got.find((o) => sameTuple(o, me.ns.netns, s.remote, s.local));
    };

    const nat = new Map<string, { address: string; port: number; from: string }>();
    for (const f of conntrack.flows) {
      if (isDnat(f)) {
        const o = f.original;
        nat.set(`${o.src}|${o.sport}|${o.dst}|${o.dport}`, { address: f.reply.src, port: f.reply.sport, from: endpointText(o.dst, o.dport) });
      }
    }

    const adjacency = new Map<string, Set<string>>();
    const addEdge = (from: string, to: string): void => {
      let set = adjacency.get(from);
      if (!set) adjacency.set(from, (set = new Set()));
      set.add(to);
    };
    const endpoints: Record<string, { parents?: ReportNode['parents']; natFrom?: string; adjacency?: Set<string> }> = {};
    const seenTuples = new Set<string>();
    // Keys for conntrack are built only when it has flows (most hosts here: none, 4,000 sockets).
    const tracking = conntrack.flows.length > 0;

    for (const me of order) {
      const s = me.socket;
      if (tracking) seenTuples.add(`${s.local}|${s.localPort}|${s.remote}|${s.remotePort}`);
      if (!me.owner) continue;
      const serverSelf = isServerEnd(me.ns.netns, s.local, s.localPort);
      const peer = peerOf(me);
      if (peer) {
        // Both ends are on this host: one edge, from the client's side.
        if (!peer.owner) continue;
        const serverPeer = isServerEnd(peer.ns.netns, peer.socket.local, peer.socket.localPort);
        const selfIsClient =
          serverPeer !== serverSelf ? serverPeer : s.localPort !== s.remotePort ? s.localPort > s.remotePort : tupleText(me.ns.netns, s.local, s.localPort, s.remote, s.remotePort) > tupleText(me.ns.netns, s.remote, s.remotePort, s.local, s.localPort);
        if (selfIsClient && peer.owner.nodeId !== me.owner.nodeId) addEdge(me.owner.nodeId, peer.owner.nodeId);
        continue;
      }
      const scope: LocalScope = { hostname, netns: me.ns.netns };
      if (serverSelf) {
        const id = endpointNodeId(s.local, s.localPort, scope);
        endpoints[id] = { parents: { host: [hostId], process: [me.owner.nodeId] } };
      } else {
        const real = nat.size > 0 ? nat.get(`${s.local}|${s.localPort}|${s.remote}|${s.remotePort}`) : undefined;
        const id = real ? endpointNodeId(real.address, real.port, scope) : endpointNodeId(s.remote, s.remotePort, scope);
        endpoints[id] ??= {};
        if (real) endpoints[id]!.natFrom = real.from;
        addEdge(me.owner.nodeId, id);
      }
    }

    // Flows conntrack still knows but no socket shows: short-lived or forwarded.
    const scope: LocalScope = { hostname, netns: this.ownNetns };
    for (const f of conntrack.flows) {
      const o = f.original;
      const r = f.reply;
      if (seenTuples.has(`${o.src}|${o.sport}|${o.dst}|${o.dport}`) || seenTuples.has(`${r.src}|${r.sport}|${r.dst}|${r.dport}`)) continue;
      const from = endpointNodeId(o.src, o.sport, scope);
      const to = endpointNodeId(r.src, r.sport, scope);
      endpoints[from] ??= {};
      (endpoints[from]!.adjacency ??= new Set()).add(to);
      endpoints[to] ??= {};
      if (isDnat(f)) endpoints[to]!.natFrom = endpointText(o.dst, o.dport);
    }

    const processNodes: Record<string, ReportNode> = {};
    for (const id of new Set([...adjacency.keys(), ...listeningOf.keys()])) {
      const listening = listeningOf.get(id);
      processNodes[id] = {
        latest: this.processLatest.update(id, { listening: listening ? [...listening].sort().join(' ') : undefined }, now),
        metrics: EMPTY_NODE.metrics,
        adjacency: [...(adjacency.get(id) ?? [])].sort(),
        parents: EMPTY_NODE.parents,
      };
    }
    const endpointNodes: Record<string, ReportNode> = {};
    for (const [id, e] of Object.entries(endpoints)) {
      endpointNodes[id] = {
        latest: this.endpointLatest.update(id, { nat_from: e.natFrom }, now),
        metrics: EMPTY_NODE.metrics,
        adjacency: e.adjacency ? [...e.adjacency].sort() : EMPTY_NODE.adjacency,
        parents: e.parents ?? EMPTY_NODE.parents,
      };
    }
    return { process: processNodes, endpoint: endpointNodes };
  }
}

function readNetns(path: string): number {
  try {
    const link = readlinkSync(path);
    return Number(link.slice(link.indexOf('[') + 1, -1)) || 0;
  } catch {
    return 0;
  }
}
