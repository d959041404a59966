/**
 * What a probe keeps of its last full report to compute deltas against it: each node's members as
 * JSON text, not the nodes; a member that is frozen is kept as it is.
 *
 * Why texts and not the report: the probe's collectors update the nodes of the last pass in place
 * (ProbeOptions.reuseNodes), so by the next pass the base's objects say what the host is now, not
 * what the app holds; and a copy of the objects would keep two pictures of the host at the top of
 * every pass, against the probe's memory budget. The texts are about the size of the report's JSON
 * (docs/probe.md, "Deltas between full reports").
 *
 * A frozen member (`Object.isFrozen`) is taken to be immutable, what it holds included, and is
 * kept by reference: the same object in the next report is the same member, and only a different
 * object is compared by text. The probe's `latest` records (LatestMemory, runtime/probe/nodes.ts)
 * and processes' parents are frozen: those are most of a host's text (command lines), and neither
 * their text nor a stringify of them per pass is needed.
 *
 * Comparing texts is stricter than comparing values: a record whose keys come in another order is
 * sent again though equal. Collectors build their records in a fixed order, so that costs a few
 * bytes in the rare pass where it happens (a process's second pass gains `cpu_percent` first), and
 * never a change missed.
 */
import { ReportError } from './errors';
import { deltaReport } from './merge';
import { TOPOLOGY_NAMES, type CollectorError, type DeltaReport, type FullReport, type NodePatch, type ReportNode, type Topology, type TopologyName } from './schema';

/** The members a patch carries, in the order `diffReports` writes them. */
const MEMBERS = ['latest', 'metrics', 'adjacency', 'parents', 'controls'] as const;
type Member = (typeof MEMBERS)[number];

/** One member as kept: its JSON text, or the member itself when frozen; `undefined` when the node lacks it. */
type KeptMember = string | object | undefined;
/** One node's members as kept, in MEMBERS order. */
type MemberTexts = readonly KeptMember[];

function keep(v: unknown): KeptMember {
  if (v === undefined) return undefined;
  return typeof v === 'object' && v !== null && Object.isFrozen(v) ? v : JSON.stringify(v);
}

function textsOf(n: ReportNode): MemberTexts {
  const out: KeptMember[] = new Array<KeptMember>(MEMBERS.length);
  for (let i = 0; i < MEMBERS.length; i++) out[i] = keep(n[MEMBERS[i]!]);
  return out;
}

/** Whether `v` (a member of the next report) is what `was` keeps. */
function same(was: KeptMember, v: unknown): boolean {
  if (was === v) return true;
  const text = JSON.stringify(v);
  return typeof was === 'string' ? text === was : text === JSON.stringify(was);
}

export class DeltaBase {
  private constructor(
    /** The probe and seq of the full report the texts are of: a delta's `baseSeq`. */
    readonly probeId: string,
    readonly hostId: string,
    readonly seq: number,
    /** The full report's errors: a delta with nothing else new and the same errors says nothing. */
    readonly errors: readonly CollectorError[],
    private readonly texts: Readonly<Record<TopologyName, ReadonlyMap<string, MemberTexts>>>,
    /** Characters held in texts (frozen members kept by reference are not counted), for the probe's memory figures. */
    readonly chars: number,
  ) {}

  /** The texts of `full`'s nodes. The report is not kept. */
  static of(full: FullReport): DeltaBase {
    const texts = {} as Record<TopologyName, Map<string, MemberTexts>>;
    let chars = 0;
    for (const name of TOPOLOGY_NAMES) {
      const m = new Map<string, MemberTexts>();
      const nodes = full.topologies[name].nodes;
      for (const id in nodes) {
        const t = textsOf(nodes[id]!);
        for (const s of t) if (typeof s === 'string') chars += s.length;
        m.set(id, t);
      }
      texts[name] = m;
    }
    return new DeltaBase(full.probeId, full.hostId, full.seq, full.errors, texts, chars);
  }

  /** Nodes over all topologies. */
  get nodes(): number {
    let n = 0;
    for (const name of TOPOLOGY_NAMES) n += this.texts[name].size;
    return n;
  }

  /**
   * The delta that turns the base into `next`, a later full report of the same probe: what
   * `diffReports(base, next)` returns (new nodes, and changed ones that lost a member, whole; the
   * other changed ones as patches of the members whose text differs; the ids gone). The delta
   * refers to `next`'s nodes and members, not to copies.
   */
  diff(next: FullReport): DeltaReport {
    if (next.probeId !== this.probeId || next.seq <= this.seq) {
      throw new ReportError('E_DELTA_BASE_MISMATCH', `report ${next.probeId}#${next.seq} does not follow the base ${this.probeId}#${this.seq}`);
    }
    const topologies = {} as Record<TopologyName, Topology>;
    const removed: Partial<Record<TopologyName, string[]>> = {};
    const patches: Partial<Record<TopologyName, Record<string, NodePatch>>> = {};
    for (const name of TOPOLOGY_NAMES) {
      const before = this.texts[name];
      const after = next.topologies[name].nodes;
      const changed: Record<string, ReportNode> = {};
      let patched: Record<string, NodePatch> | null = null;
      let kept = 0;
      for (const id of Object.keys(after)) {
        const n = after[id]!;
        const old = before.get(id);
        if (old === undefined) {
          changed[id] = n;
          continue;
        }
        kept++;
        let p: Partial<Record<Member, unknown>> | null = null;
        let lost = false;
        for (let i = 0; i < MEMBERS.length; i++) {
          const was = old[i];
          const v = n[MEMBERS[i]!];
          if (v === undefined) {
            // A patch cannot say "gone": a node that lost a member goes whole.
            if (was !== undefined) lost = true;
            continue;
          }
          if (was !== undefined && same(was, v)) continue;
          (p ??= {})[MEMBERS[i]!] = v;
        }
        if (lost) changed[id] = n;
        else if (p !== null) (patched ??= {})[id] = p as NodePatch;
      }
      if (kept < before.size) {
        const gone: string[] = [];
        for (const id of before.keys()) if (!Object.prototype.hasOwnProperty.call(after, id)) gone.push(id);
        removed[name] = gone.sort();
      }
      topologies[name] = { nodes: changed };
      if (patched !== null) patches[name] = patched;
    }
    return deltaReport(next, this.seq, topologies, removed, patches);
  }
}
