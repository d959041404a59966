/**
 * Which process owns each socket inode, per network namespace.
 *
 * The only way from a socket in /proc/net/tcp to its process is to readlink
 * the fds of processes (`socket:[N]`): the most expensive part of a pass. The
 * map is kept across passes, and when the tcp table shows inodes with no known
 * live owner, the fds are read in the order most likely to find them soonest,
 * stopping as soon as every such inode is placed:
 *
 *   1. the probe itself (its own HTTP connections are the commonest new socket);
 *   2. processes new since the previous pass;
 *   3. processes that own other sockets of the table, fewest fds first;
 *   4. everyone else (a full scan; counted in `rescans`).
 *
 * Each scan remembers which socket each fd of the process held. A later
 * targeted scan (stages 1-3) of the same process still lists its fds, but does
 * not readlink an fd whose remembered socket is still in the namespace's table
 * and still owned by that process: the owners of the table's sockets hold
 * hundreds or thousands of them, and one new socket of theirs cost a readlink
 * of every fd. An fd number closed and reused for a new socket while its old
 * socket lives on elsewhere (dup, fork) would hide the new socket from such a
 * scan; so when even the full scan (stage 4, remembered links trusted too)
 * leaves inodes unplaced, the processes whose links were trusted are read
 * again link by link before the inodes count as unplaceable: such a socket
 * costs one more read, and is not lost.
 *
 * Inodes that a full scan could not place (owned by a process we cannot read,
 * by a process in no namespace we know, or by the kernel) are remembered while
 * they stay in the table: they do not force a scan again, but the new
 * processes of later passes are still searched for them (cheap: few fds), so a
 * socket whose process appeared just after the walk is placed one pass later.
 *
 * Measured (bench/probe-stages.ts, 1,100 pids, 7,500 fds): a full scan costs
 * 40-100 ms; a targeted one for the probe's own new socket well under 1 ms.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { isVanished } from './reader';

interface NamespaceOwners {
  owners: Map<number, number>;
  /** Inodes a full scan could not place, while they are still in the table. */
  unplaced: Set<number>;
  /** fd count of each pid at its last scan (to scan small owners first). */
  fdCount: Map<number, number>;
  seen: number;
}

/** Receives the read errors of a scan that are not vanished processes. */
export type ErrorSink = (err: unknown, path: string) => void;

/** Counters for benchmarks and tests. */
export interface ScanCounters {
  /** Scans that fell through to every process of a namespace. */
  full: number;
  /** Scans that placed every unseen inode before reaching the full stage. */
  targeted: number;
  /** fd directories read (one per process scanned). */
  dirs: number;
  /** readlink calls. */
  links: number;
}

const SOCKET_PREFIX = 'socket:[';
const NONE: ReadonlySet<number> = new Set();

export class SocketOwners {
  private readonly byNetns = new Map<number, NamespaceOwners>();
  private pass = 0;
  /** pid → the pass it was last listed in (any namespace): a pid absent last pass is new. */
  private readonly pidSeen = new Map<number, number>();
  private readonly selfPid: number;
  /** pid → fd → the socket inode it held at the last scan (0: not a socket). */
  private readonly links = new Map<number, Map<number, number>>();
  /** Processes of the current `place` whose scan trusted remembered links: the full scan reads them again. */
  private readonly trusted = new Set<number>();
  readonly counters: ScanCounters = { full: 0, targeted: 0, dirs: 0, links: 0 };

  /**
   * `ownFiles`: fds of the probe itself known not to be sockets (the /proc
   * files it holds open between passes, over a thousand): a scan of the probe
   * does not readlink them.
   */
  constructor(
    private readonly root: string,
    private readonly ownFiles: () => ReadonlySet<number> = () => NONE,
  ) {
    this.selfPid = readSelfPid(root);
  }

  /** Full scans so far (the expensive kind). */
  get rescans(): number {
    return this.counters.full;
  }

  /** Starts a pass; namespaces not used during the previous pass are dropped at `endPass`. */
  beginPass(): void {
    this.pass++;
  }

  endPass(): void {
    for (const [ns, o] of this.byNetns) if (o.seen !== this.pass) this.byNetns.delete(ns);
    for (const [pid, p] of this.pidSeen) {
      if (p < this.pass - 1) {
        this.pidSeen.delete(pid);
        this.links.delete(pid);
      }
    }
  }

  /**
   * Marks `pids` as listed in this pass. Call once per namespace per pass with
   * its processes, whether its sockets are read or not, so that "new since the
   * previous pass" stays true to the process table.
   */
  private markSeen(pids: readonly number[]): number[] {
    const fresh: number[] = [];
    const prev = this.pass - 1;
    for (const pid of pids) {
      const p = this.pidSeen.get(pid);
      if (p === undefined || p < prev) {
        fresh.push(pid);
        this.links.delete(pid); // a new process (or a reused pid): nothing known of its fds
      }
      this.pidSeen.set(pid, this.pass);
    }
    return fresh;
  }

  /** Notes the processes of a namespace whose sockets are not read this pass. */
  listed(pids: readonly number[]): void {
    this.markSeen(pids);
  }

  /**
   * The owner map of a namespace after placing `inodes` (this pass's sockets
   * of the namespace). `pids` are the processes in that namespace; `alive`
   * tells whether a pid is still a live process.
   */
  owners(netns: number, inodes: readonly number[], pids: readonly number[], alive: (pid: number) => boolean, onError: ErrorSink): ReadonlyMap<number, number> {
    const fresh = this.markSeen(pids);
    let ns = this.byNetns.get(netns);
    if (ns === undefined) {
      ns = { owners: new Map(), unplaced: new Set(), fdCount: new Map(), seen: this.pass };
      this.byNetns.set(netns, ns);
    }
    ns.seen = this.pass;

    let missing: Set<number> | null = null;
    let unplacedNow = 0;
    for (const inode of inodes) {
      if (inode === 0) continue;
      const pid = ns.owners.get(inode);
      if (pid !== undefined && alive(pid)) continue;
      if (pid !== undefined) ns.owners.delete(inode); // its owner exited: maybe inherited by another
      if (ns.unplaced.has(inode)) {
        unplacedNow++;
        continue;
      }
      (missing ??= new Set()).add(inode);
    }
    this.prune(ns, inodes);

    if (missing !== null) {
      // Owners of the table's other sockets, the likeliest to have opened one more.
      const prior = new Set<number>();
      for (const inode of inodes) {
        const pid = ns.owners.get(inode);
        if (pid !== undefined) prior.add(pid);
      }
      this.place(ns, missing, pids, fresh, prior, new Set(inodes), onError);
    } else if (unplacedNow > 0 && fresh.length > 0) {
      // Only the new processes can hold what a full scan missed before.
      this.scanList(ns, fresh, new Set(), null, onError, true, null);
    }
    return ns.owners;
  }

  /** Scans candidates in likelihood order until every `must` inode is placed. */
  private place(ns: NamespaceOwners, must: Set<number>, pids: readonly number[], fresh: readonly number[], owning: ReadonlySet<number>, live: ReadonlySet<number>, onError: ErrorSink): void {
    const done = new Set<number>();
    this.trusted.clear();
    const inNs = new Set(pids);
    const stages: number[][] = [];
    // Everyone is new (the first pass): that is a full scan, in pid order.
    if (fresh.length < pids.length) {
      if (this.selfPid > 0 && inNs.has(this.selfPid)) stages.push([this.selfPid]);
      stages.push([...fresh]);
      for (const pid of ns.fdCount.keys()) if (!inNs.has(pid)) ns.fdCount.delete(pid);
      const fds = (pid: number): number => ns.fdCount.get(pid) ?? Number.MAX_SAFE_INTEGER;
      stages.push([...owning].sort((a, b) => fds(a) - fds(b)));
    }
    for (const stage of stages) {
      this.scanList(ns, stage, must, done, onError, false, live);
      if (must.size === 0) {
        this.counters.targeted++;
        return;
      }
    }
    // Full scan: everyone not scanned yet, in pid order (the first owner wins:
    // a socket shared after fork goes to the lowest pid, usually its opener).
    this.counters.full++;
    this.scanList(ns, pids.filter((p) => !done.has(p)), must, done, onError, false, live);
    if (must.size > 0 && this.trusted.size > 0) {
      // A remembered link may hide an fd reused for one of these: read those processes' links again (class comment).
      this.scanList(ns, [...this.trusted].sort((a, b) => a - b), must, null, onError, false, null);
    }
    // What is still wanted could not be placed by anyone we can see.
    for (const i of must) ns.unplaced.add(i);
  }

  /**
   * Reads the fds of `pids` (skipping those in `done`, adding them to it),
   * recording each socket's owner and taking placed inodes out of `must` and
   * `unplaced`; stops once `must` is empty (or, with `forUnplaced`, once
   * nothing is unplaced). With `live` (this pass's inodes of the namespace),
   * remembered links to live sockets of the same owner are not read again.
   */
  private scanList(ns: NamespaceOwners, pids: readonly number[], must: Set<number>, done: Set<number> | null, onError: ErrorSink, forUnplaced: boolean, live: ReadonlySet<number> | null): void {
    for (const pid of pids) {
      if (forUnplaced ? ns.unplaced.size === 0 : must.size === 0) return;
      if (done !== null) {
        if (done.has(pid)) continue;
        done.add(pid);
      }
      this.scanPid(ns, pid, must, onError, live);
    }
  }

  private scanPid(ns: NamespaceOwners, pid: number, must: Set<number>, onError: ErrorSink, live: ReadonlySet<number> | null): void {
    const dir = `${this.root}/${pid}/fd`;
    let fds: string[];
    try {
      fds = readdirSync(dir);
    } catch (err) {
      this.links.delete(pid);
      if (!isVanished(err)) onError(err, dir);
      return;
    }
    this.counters.dirs++;
    const known = live === null ? undefined : this.links.get(pid);
    const links = new Map<number, number>();
    const ownFiles = pid === this.selfPid ? this.ownFiles() : NONE;
    for (const name of fds) {
      const fd = Number(name);
      if (ownFiles.has(fd)) continue;
      const was = known?.get(fd);
      if (was !== undefined && was > 0 && live!.has(was) && ns.owners.get(was) === pid) {
        links.set(fd, was); // still that socket, most likely; see the class comment
        this.trusted.add(pid);
        continue;
      }
      let link: string;
      this.counters.links++;
      try {
        link = readlinkSync(`${dir}/${name}`);
      } catch {
        continue; // the fd was closed meanwhile
      }
      // "socket:[12345]"
      const inode = link.charCodeAt(0) === 115 /* s */ && link.startsWith(SOCKET_PREFIX) ? Number(link.slice(SOCKET_PREFIX.length, -1)) : 0;
      links.set(fd, inode > 0 ? inode : 0);
      if (!(inode > 0)) continue;
      // The first owner found wins (a socket shared after fork has several).
      if (must.delete(inode) || ns.unplaced.delete(inode) || !ns.owners.has(inode)) ns.owners.set(inode, pid);
    }
    this.links.set(pid, links);
    ns.fdCount.set(pid, fds.length);
  }

  /** Keeps the maps to about the size of the table: sockets that closed are forgotten. */
  private prune(ns: NamespaceOwners, inodes: readonly number[]): void {
    const limit = 2 * inodes.length + 256;
    if (ns.owners.size <= limit && ns.unplaced.size <= limit) return;
    const now = new Set(inodes);
    for (const i of ns.owners.keys()) if (!now.has(i)) ns.owners.delete(i);
    for (const i of ns.unplaced) if (!now.has(i)) ns.unplaced.delete(i);
  }
}

/** Our own pid as the proc tree at `root` numbers it (another pid namespace, a fake tree): -1 if unknown. */
function readSelfPid(root: string): number {
  try {
    const n = Number(readlinkSync(`${root}/self`));
    return Number.isInteger(n) && n > 0 ? n : -1;
  } catch {
    return -1;
  }
}
