/**
 * The model's side of search: which nodes' searchable text changed, as `DocChange`s for the
 * index (search.ts), which lives on another thread.
 *
 * A node's text comes from its id, topology and `latest` only, and the model keeps a node's
 * `latest` object while none of its values changes (share.ts): most change sets (new metric
 * samples) carry no text change and cross to the index as nothing. A stale mark changes a
 * node without changing its text: it crosses as a `stale` change of a few bytes.
 */
import { TOPOLOGY_NAMES, type TopologyName } from '../report';
import type { ChangeSet, LiveModel } from './model';
import { SearchIndex } from './search';
import { naming } from './views/labels';

/** One node as search knows it. */
export interface SearchDoc {
  readonly id: string;
  readonly topology: TopologyName;
  readonly label: string;
  readonly labelMinor: string;
  /**
   * [field, text, field, text, …]: `label` and `topology` first, then every string `latest`
   * value (and the numeric ids in NUMERIC_FIELDS) under its key.
   */
  readonly fields: string[];
  /** True when every probe reporting the node is stale. */
  readonly stale: boolean;
}

export type DocChange =
  | { readonly kind: 'put'; readonly id: string; readonly doc: SearchDoc }
  | { readonly kind: 'stale'; readonly id: string; readonly stale: boolean }
  | { readonly kind: 'remove'; readonly id: string };

const INDEXED: readonly TopologyName[] = ['host', 'process', 'container', 'container_image', 'pod', 'service', 'controller'];
const INDEXED_SET: ReadonlySet<string> = new Set(INDEXED);

/** Numeric fields worth finding by value. */
const NUMERIC_FIELDS: ReadonlySet<string> = new Set(['pid', 'ppid', 'uid', 'port']);

interface Known {
  doc: SearchDoc;
  /** The `latest` object the doc was cut from: the same object means the same text. */
  latest: object;
}

export class SearchDocs {
  private readonly known = new Map<string, Known>();

  /** @param emit receives each change set's doc changes (none when no text or stale mark changed). */
  constructor(
    private readonly model: LiveModel,
    private readonly emit: (changes: DocChange[]) => void,
  ) {
    model.onChange((c) => this.onChange(c));
  }

  private onChange(c: ChangeSet): void {
    const out: DocChange[] = [];
    for (const t of TOPOLOGY_NAMES) {
      if (!INDEXED_SET.has(t)) continue;
      for (const id of c.changed[t]) {
        const m = this.model.get(t, id);
        const k = this.known.get(id);
        const same = k !== undefined && k.doc.topology === t;
        if (!m) {
          if (same) {
            this.known.delete(id);
            out.push({ kind: 'remove', id });
          }
          continue;
        }
        if (same && k.latest !== m.node.latest) {
          const doc = this.docOf(t, id, m.stale);
          if (!sameFields(k.doc.fields, doc.fields)) {
            this.known.set(id, { doc, latest: m.node.latest });
            out.push({ kind: 'put', id, doc });
            continue;
          }
          k.latest = m.node.latest;
        }
        if (same) {
          if (k.doc.stale !== m.stale) {
            k.doc = { ...k.doc, stale: m.stale };
            out.push({ kind: 'stale', id, stale: m.stale });
          }
          continue;
        }
        const doc = this.docOf(t, id, m.stale);
        this.known.set(id, { doc, latest: m.node.latest });
        out.push({ kind: 'put', id, doc });
      }
    }
    if (out.length > 0) this.emit(out);
  }

  private docOf(topology: TopologyName, id: string, stale: boolean): SearchDoc {
    const m = this.model.get(topology, id)!;
    const nm = naming(topology, id, m.node);
    const fields: string[] = ['label', `${nm.label} ${nm.labelMinor}`, 'topology', topology];
    for (const k in m.node.latest) {
      const v = m.node.latest[k]!.v;
      // Numbers other than named ids (sizes, counts, times) are unique per node: indexing
      // them would cost a posting each and no one searches for them.
      if (typeof v !== 'string' && !(typeof v === 'number' && NUMERIC_FIELDS.has(k))) continue;
      // A metadata key named like a built-in field replaces its text.
      if (k === 'label') fields[1] = String(v);
      else if (k === 'topology') fields[3] = String(v);
      else fields.push(k, String(v));
    }
    return { id, topology, label: nm.label, labelMinor: nm.labelMinor, fields, stale };
  }
}

function sameFields(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** An index fed by the model on the same thread: what benches and tests of search use. */
export function indexOnThread(model: LiveModel, lookupCost?: number): SearchIndex {
  const index = new SearchIndex(lookupCost);
  new SearchDocs(model, (changes) => index.apply(changes));
  return index;
}
