/**
 * The process topology: one node per process, from a walk of /proc.
 *
 * Per pass and process: /proc/<pid>/stat (name, ppid, threads, CPU ticks,
 * start time, RSS) and the fd count. What does not change over a process's life
 * (command line, uid, container, network namespace) is read once per process
 * and kept by pid + start time; it is re-read when the name changes (an exec)
 * and at most every `staticTtlMs`, which bounds staleness after a setuid.
 *
 * Processes that exit during the walk (ENOENT/ESRCH between readdir and read)
 * are skipped silently: they are gone. Entries we may not read (EACCES/EPERM)
 * are counted and reported as an issue, and the walk goes on.
 *
 * CPU % is the share of one core used between two passes (so it needs two
 * passes; the first pass of a process has no cpu sample). Kernel threads are
 * left out unless asked for: they are not what anyone monitors here, and on a
 * big host they are hundreds of nodes.
 */
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { EMPTY_NODE, containerNodeId, processNodeId, type Latest, type Metric, type ReportNode, type TopologyName } from '../../report';
import { CollectorFailure, type Collector, type CollectorIssue, type CollectorResult, type PassContext, type ProbeIdentity } from '../collector';
import { DEFAULT_RING, LatestInterner, LatestMemory, SampleRing, round2 } from '../nodes';
import { containerIdFromCgroup } from '../procfs/cgroup';
import { formatCmdline } from '../procfs/cmdline';
import { UserNames } from '../procfs/passwd';
import { ProcReader, errnoOf, isDenied, isVanished, parseUint } from '../procfs/reader';
import { PF_KTHREAD, parsePidStat, type PidStat } from '../procfs/stat';
import { StatFiles } from '../procfs/stat-files';
import { CLOCK_TICKS_PER_SECOND, systemPageSize } from '../procfs/system';

export interface ProcessesCollectorOptions {
  identity: ProbeIdentity;
  /** Root of the proc tree; tests point it at a fake tree. Default /proc. */
  procRoot?: string;
  passwdPath?: string;
  /** Samples kept per metric. */
  ring?: number;
  includeKernelThreads?: boolean;
  /** Longest time the per-process static facts are trusted. Default 10 minutes. */
  staticTtlMs?: number;
  /** Most /proc/<pid>/stat files held open between passes (see procfs/stat-files.ts). */
  maxHeldStatFiles?: number;
}

/** What the connections collector needs to know about each live process. */
export interface ProcessTableEntry {
  readonly pid: number;
  readonly startTicks: number;
  readonly nodeId: string;
  /** Inode of the process's network namespace; 0 when it could not be read. */
  readonly netns: number;
}

export interface ProcessTable {
  /** Pass number; increases by one per completed walk. */
  readonly pass: number;
  readonly byPid: ReadonlyMap<number, ProcessTableEntry>;
}

/** Something that can hand out the process table of its latest pass. */
export interface ProcessTableSource {
  processTable(): ProcessTable | null;
  /** The probe's own fds that this source holds open on /proc files (never sockets). */
  heldFds?(): ReadonlySet<number>;
}

interface Entry extends ProcessTableEntry {
  /** `<root>/<pid>/stat` and `<root>/<pid>/fd`, made once per process rather than per pass. */
  statPath: string;
  fdPath: string;
  comm: string;
  cmdline: string;
  uid: number;
  netns: number;
  parents: ReportNode['parents'];
  staticAt: number;
  prevTicks: number;
  prevMono: number;
  seen: number;
  latest: LatestMemory;
  cpu: SampleRing;
  rss: SampleRing;
  /** The node the last pass reported for this process, updated in place by a pass that may (see `collect`). */
  node: ProcessNode | null;
}

/** A process's report node as the collector holds it between passes. */
interface ProcessNode {
  latest: Readonly<Record<string, Latest>>;
  metrics: Record<string, Metric>;
  adjacency: readonly string[];
  parents: ReportNode['parents'];
}

/** A process's latest values, as `visit` hands them to its LatestMemory. */
type ProcessValues = {
  pid: number;
  ppid: number;
  name: string;
  cmdline: string;
  uid: number | undefined;
  user: string | undefined;
  threads: number;
  open_fds: number | undefined;
  started_at: number | undefined;
};

const UID_TAG = Buffer.from('\nUid:');

/** Tallies the permission and unexpected errors of one pass, by code. */
class IssueTally {
  private readonly byCode = new Map<string, { count: number; example: string }>();

  add(err: unknown, path: string): void {
    const code = errnoOf(err) || 'E_PROC_READ';
    const t = this.byCode.get(code);
    if (t) t.count++;
    else this.byCode.set(code, { count: 1, example: path });
  }

  issues(): CollectorIssue[] {
    return [...this.byCode].map(([code, t]) => ({
      code,
      count: t.count,
      message: `${t.count} /proc ${t.count === 1 ? 'entry' : 'entries'} unreadable (${code}), e.g. ${t.example}`,
    }));
  }
}

export class ProcessesCollector implements Collector, ProcessTableSource {
  readonly name = 'processes';
  private readonly root: string;
  private readonly reader = new ProcReader(64 * 1024);
  private readonly statFiles: StatFiles;
  private readonly users: UserNames;
  private readonly entries = new Map<number, Entry>();
  private readonly ring: number;
  private readonly staticTtlMs: number;
  private readonly fdCountByStat: boolean;
  private readonly pageSize = systemPageSize();
  private readonly hostParents: readonly string[];
  private pass = 0;
  /** This pass may update the last pass's nodes in place (see `collect`). */
  private reuse = false;
  private table: ProcessTable | null = null;
  /** Latest records shared between the processes of a pass (see LatestInterner). */
  private readonly shared = new LatestInterner();
  private readonly values: ProcessValues = { pid: 0, ppid: 0, name: '', cmdline: '', uid: undefined, user: undefined, threads: 0, open_fds: undefined, started_at: undefined };
  private readonly scratch: PidStat = { comm: '', state: '', ppid: 0, flags: 0, cpuTicks: 0, threads: 0, startTicks: 0, rssPages: 0 };
  /** Boot time in ms, to turn start ticks into a wall-clock start time. */
  private readonly bootMs: number;

  constructor(private readonly opts: ProcessesCollectorOptions) {
    this.root = opts.procRoot ?? '/proc';
    this.users = new UserNames(opts.passwdPath);
    this.ring = opts.ring ?? DEFAULT_RING;
    this.staticTtlMs = opts.staticTtlMs ?? 10 * 60_000;
    this.hostParents = [opts.identity.hostId];
    this.fdCountByStat = this.root === '/proc' && kernelCountsFdsInStat();
    this.bootMs = readBootMs(this.reader, this.root);
    this.statFiles = new StatFiles(this.reader, opts.maxHeldStatFiles);
  }

  processTable(): ProcessTable | null {
    return this.table;
  }

  heldFds(): ReadonlySet<number> {
    return this.statFiles.fds;
  }

  async close(): Promise<void> {
    this.statFiles.close();
  }

  /**
   * `pass.reuseNodes` (passes of the interval only): no report the probe emitted is still
   * read, so each process's node of the last pass, its metrics record and its
   * metric rings are updated in place instead of made anew. Why: those are
   * about 0.5 MB per pass on 1,000 processes that live until the next pass,
   * so every pass promoted them out of the 1 MB young generation and the old
   * generation grew by them until a major collection (docs/probe.md
   * "Memory", item 17). Otherwise (a report still held, or a pass an event
   * asked for) every node is new.
   */
  async collect(now: number, passContext?: PassContext): Promise<CollectorResult> {
    this.reuse = passContext?.reuseNodes === true && passContext.kind === 'interval';
    const pass = ++this.pass;
    const tally = new IssueTally();
    this.users.refresh();
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch (err) {
      throw new CollectorFailure('E_PROC_UNREADABLE', `cannot list ${this.root}: ${(err as Error).message}`, { cause: err });
    }
    const nodes: Record<string, ReportNode> = {};
    this.statFiles.beginPass();
    for (const name of names) {
      const c = name.charCodeAt(0);
      if (c < 48 || c > 57) continue;
      this.visit(Number(name), name, now, pass, tally, nodes);
    }
    this.statFiles.endPass();
    this.shared.clear();
    for (const [pid, e] of this.entries) if (e.seen !== pass) this.entries.delete(pid);
    this.table = { pass, byPid: this.entries };
    return { nodes: { process: nodes }, issues: tally.issues() };
  }

  /** One process, added to `nodes` unless it vanished, is a kernel thread, or could not be read. */
  private visit(pid: number, name: string, now: number, pass: number, tally: IssueTally, nodes: Record<string, ReportNode>): void {
    const known = this.entries.get(pid);
    const statPath = known !== undefined ? known.statPath : `${this.root}/${name}/stat`;
    let st;
    try {
      const n = this.statFiles.read(pid, statPath);
      // Parsed into one scratch record (its comm string is reused when the name is the same).
      if (known !== undefined) this.scratch.comm = known.comm;
      st = parsePidStat(this.reader.bytes, n, this.scratch);
    } catch (err) {
      if (!isVanished(err)) tally.add(err, statPath);
      return;
    }
    if (st === null) return; // empty read: the task went away mid-read
    if (!this.opts.includeKernelThreads && (st.flags & PF_KTHREAD) !== 0) return;

    let e = known;
    if (e === undefined || e.startTicks !== st.startTicks) {
      e = this.newEntry(pid, name, st.startTicks, st.comm);
      if (!this.loadStatic(e, `${this.root}/${name}`, now, tally)) return;
      this.entries.set(pid, e);
    } else if (e.comm !== st.comm || now - e.staticAt > this.staticTtlMs) {
      e.comm = st.comm;
      if (!this.loadStatic(e, `${this.root}/${name}`, now, tally)) {
        this.entries.delete(pid);
        return;
      }
    }

    const fds = this.countFds(e.fdPath, tally);
    if (fds === null) {
      this.entries.delete(pid);
      return;
    }
    e.seen = pass;

    const mono = performance.now();
    let cpuPct = -1;
    if (e.prevMono > 0 && mono > e.prevMono) {
      const seconds = (mono - e.prevMono) / 1000;
      cpuPct = round2(Math.max(0, ((st.cpuTicks - e.prevTicks) / CLOCK_TICKS_PER_SECOND / seconds) * 100));
    }
    e.prevTicks = st.cpuTicks;
    e.prevMono = mono;
    const rssBytes = st.rssPages * this.pageSize;

    // One values record for every process (LatestMemory.update copies what it keeps).
    const v = this.values;
    v.pid = pid;
    v.ppid = st.ppid;
    v.name = st.comm;
    v.cmdline = e.cmdline || `[${st.comm}]`;
    v.uid = e.uid >= 0 ? e.uid : undefined;
    v.user = e.uid >= 0 ? this.users.nameOf(e.uid) : undefined;
    v.threads = st.threads;
    v.open_fds = fds >= 0 ? fds : undefined;
    v.started_at = this.bootMs > 0 ? this.bootMs + Math.round((st.startTicks * 1000) / CLOCK_TICKS_PER_SECOND) : undefined;
    const latest = e.latest.update(v, now, this.shared);

    const node = e.node;
    // A metrics record gaining cpu_percent (a process's second pass) is made anew, so that its
    // keys keep the order of a new node's: cpu_percent first.
    if (this.reuse && node !== null && (cpuPct < 0 || node.metrics.cpu_percent !== undefined)) {
      if (cpuPct >= 0) node.metrics.cpu_percent = e.cpu.update(now, cpuPct);
      node.metrics.memory_rss_bytes = e.rss.update(now, rssBytes);
      node.latest = latest;
      node.parents = e.parents;
      nodes[e.nodeId] = node;
      return;
    }
    const metrics: Record<string, Metric> = {};
    if (cpuPct >= 0) metrics.cpu_percent = this.reuse ? e.cpu.update(now, cpuPct) : e.cpu.push(now, cpuPct);
    metrics.memory_rss_bytes = this.reuse ? e.rss.update(now, rssBytes) : e.rss.push(now, rssBytes);
    const made: ProcessNode = { latest, metrics, adjacency: EMPTY_NODE.adjacency, parents: e.parents };
    e.node = made;
    nodes[e.nodeId] = made;
  }

  private newEntry(pid: number, name: string, startTicks: number, comm: string): Entry {
    return {
      pid,
      statPath: `${this.root}/${name}/stat`,
      fdPath: `${this.root}/${name}/fd`,
      startTicks,
      nodeId: processNodeId(this.opts.identity.hostname, pid, startTicks),
      comm,
      cmdline: '',
      uid: -1,
      netns: 0,
      parents: {},
      staticAt: 0,
      prevTicks: 0,
      prevMono: 0,
      seen: 0,
      latest: new LatestMemory(),
      cpu: new SampleRing(this.ring),
      rss: new SampleRing(this.ring),
      node: null,
    };
  }

  /** Reads the facts that do not change per pass. False when the process vanished meanwhile. */
  private loadStatic(e: Entry, dir: string, now: number, tally: IssueTally): boolean {
    const r = this.reader;
    try {
      e.cmdline = formatCmdline(r.bytes, r.read(`${dir}/cmdline`));

      const n = r.read(`${dir}/status`);
      const at = r.bytes.subarray(0, n).indexOf(UID_TAG);
      let i = at + UID_TAG.length;
      while (i < n && (r.bytes[i] === 9 || r.bytes[i] === 32)) i++;
      e.uid = at >= 0 ? parseUint(r.bytes, i, n) : -1;

      let containerId: string | null = null;
      try {
        containerId = containerIdFromCgroup(r.readText(`${dir}/cgroup`, 'latin1'));
      } catch (err) {
        if (isVanished(err)) return false;
        tally.add(err, `${dir}/cgroup`);
      }
      const parents: Partial<Record<TopologyName, readonly string[]>> = { host: this.hostParents };
      if (containerId) parents.container = [containerNodeId(containerId)];
      // Frozen: the same object every pass until the static facts are read again (DeltaBase keeps it by reference).
      e.parents = Object.freeze(parents);

      try {
        const link = readlinkSync(`${dir}/ns/net`);
        e.netns = Number(link.slice(link.indexOf('[') + 1, -1)) || 0; // "net:[4026531833]"
      } catch (err) {
        if (isVanished(err)) return false;
        tally.add(err, `${dir}/ns/net`);
        e.netns = 0;
      }
    } catch (err) {
      if (isVanished(err)) return false;
      if (!isDenied(err)) throw err;
      tally.add(err, dir);
    }
    e.staticAt = now;
    return true;
  }

  /** Open fd count; -1 when not permitted; null when the process vanished. */
  private countFds(fdPath: string, tally: IssueTally): number | null {
    try {
      // Since Linux 6.2 the size of /proc/<pid>/fd is its number of open fds:
      // one stat instead of a readdir that builds a name per fd. The stat's
      // Stats object is 1.5-2 KB of garbage, a short listing less, but listing
      // processes with few fds made a full pass cost 9 ms more CPU on the
      // bench host (docs/probe.md "Memory", item 14).
      return this.fdCountByStat ? statSync(fdPath).size : readdirSync(fdPath).length;
    } catch (err) {
      if (isVanished(err)) return null;
      tally.add(err, fdPath);
      return -1;
    }
  }
}

/** True when stat(/proc/<pid>/fd).size is the fd count (Linux ≥ 6.2), checked on ourselves. */
function kernelCountsFdsInStat(): boolean {
  try {
    const bySize = statSync('/proc/self/fd').size;
    const byList = readdirSync('/proc/self/fd').length;
    // readdir holds one fd of its own while listing
    return bySize > 0 && Math.abs(byList - bySize) <= 1;
  } catch {
    return false;
  }
}

function readBootMs(reader: ProcReader, root: string): number {
  try {
    const m = /^btime (\d+)$/m.exec(reader.readText(`${root}/stat`, 'latin1'));
    return m ? Number(m[1]) * 1000 : 0;
  } catch {
    return 0;
  }
}
