/**
 * Full-text search over the live model: labels, every `latest` value
 * (metadata, Kubernetes and container labels, images, command lines).
 *
 * An inverted index kept up to date from the model's change sets (only changed
 * nodes are re-indexed). Each node's text is cut into lowercase tokens; a token
 * is indexed plain (`nginx`) and qualified by its key (`image=nginx`), so
 * `image:nginx` and `nginx` are both lookups, not scans. Prefix matches go
 * through buckets keyed by the token's first two characters, so a prefix query
 * reads one bucket, not the whole vocabulary.
 *
 * Query: whitespace-separated terms, all of which must match (AND). A term is
 * `value` (any field) or `field:value` (one `latest` key, or `label`,
 * `topology`). Ranking: a term matching the node's label scores more than one
 * matching other text, an exact token more than a prefix; ties go to the
 * shorter label, then the id.
 */
import { TOPOLOGY_NAMES, type TopologyName } from '../report';
import type { ChangeSet, LiveModel } from './model';
import { naming } from './views/labels';
import type { ViewId } from './views/catalog';

const INDEXED: readonly TopologyName[] = ['host', 'process', 'container', 'container_image', 'pod', 'service', 'controller'];
const INDEXED_SET: ReadonlySet<string> = new Set(INDEXED);

/** The view a node of each topology is shown in. */
const VIEW_OF: Readonly<Partial<Record<TopologyName, ViewId>>> = {
  host: 'hosts',
  process: 'processes',
  container: 'containers',
  container_image: 'containers-by-image',
  pod: 'pods',
  service: 'services',
  controller: 'controllers',
};

export interface SearchHit {
  id: string;
  topology: TopologyName;
  view: ViewId | null;
  label: string;
  labelMinor: string;
  score: number;
  /** The fields the terms matched, with their values (cut to 200 characters). */
  matches: Array<{ field: string; value: string }>;
  stale: boolean;
}

export interface SearchResult {
  query: string;
  total: number;
  hits: SearchHit[];
}

interface Doc {
  topology: TopologyName;
  label: string;
  labelMinor: string;
  labelTokens: Set<string>;
  tokens: string[];
  /** field → text, to show what matched. */
  fields: Map<string, string>;
}

/** Numeric fields worth finding by value. */
const NUMERIC_FIELDS: ReadonlySet<string> = new Set(['pid', 'ppid', 'uid', 'port']);

const TOKEN_RE = /[\p{L}\p{N}_]+/gu;
const MAX_TOKENS_PER_VALUE = 64;
export const MAX_QUERY_LENGTH = 256;
export const MAX_TERMS = 8;

export function tokenize(s: string): string[] {
  const out: string[] = [];
  for (const m of s.toLowerCase().matchAll(TOKEN_RE)) {
    out.push(m[0]);
    if (out.length >= MAX_TOKENS_PER_VALUE) break;
  }
  return out;
}

function bucketOf(token: string): string {
  const eq = token.indexOf('=');
  return token.slice(0, eq + 3);
}

export class SearchIndex {
  private readonly docs = new Map<string, Doc>();
  private readonly postings = new Map<string, Set<string>>();
  private readonly buckets = new Map<string, Set<string>>();

  constructor(private readonly model: LiveModel) {
    model.onChange((c) => this.apply(c));
  }

  get size(): number {
    return this.docs.size;
  }

  private apply(c: ChangeSet): void {
    for (const t of TOPOLOGY_NAMES) {
      if (!INDEXED_SET.has(t)) continue;
      for (const id of c.changed[t]) {
        this.remove(id);
        const m = this.model.get(t, id);
        if (m) this.add(t, id);
      }
    }
  }

  private add(topology: TopologyName, id: string): void {
    const m = this.model.get(topology, id)!;
    const nm = naming(topology, id, m.node);
    const fields = new Map<string, string>();
    const tokens = new Set<string>();
    const put = (field: string, value: string): void => {
      fields.set(field, value);
      for (const tok of tokenize(value)) {
        tokens.add(tok);
        tokens.add(`${field}=${tok}`);
      }
    };
    put('label', `${nm.label} ${nm.labelMinor}`);
    put('topology', topology);
    for (const k in m.node.latest) {
      const v = m.node.latest[k]!.v;
      // Numbers other than named ids (sizes, counts, times) are unique per node: indexing
      // them would cost a posting set each and no one searches for them.
      if (typeof v === 'string' || (typeof v === 'number' && NUMERIC_FIELDS.has(k))) put(k, String(v));
    }
    const list = [...tokens];
    for (const tok of list) {
      let p = this.postings.get(tok);
      if (!p) {
        this.postings.set(tok, (p = new Set()));
        const b = bucketOf(tok);
        let bucket = this.buckets.get(b);
        if (!bucket) this.buckets.set(b, (bucket = new Set()));
        bucket.add(tok);
      }
      p.add(id);
    }
    this.docs.set(id, { topology, label: nm.label, labelMinor: nm.labelMinor, labelTokens: new Set(tokenize(nm.label)), tokens: list, fields });
  }

  private remove(id: string): void {
    const d = this.docs.get(id);
    if (!d) return;
    for (const tok of d.tokens) {
      const p = this.postings.get(tok);
      if (!p) continue;
      p.delete(id);
      if (p.size === 0) {
        this.postings.delete(tok);
        const b = bucketOf(tok);
        const bucket = this.buckets.get(b);
        bucket?.delete(tok);
        if (bucket?.size === 0) this.buckets.delete(b);
      }
    }
    this.docs.delete(id);
  }

  /**
   * Runs a query (already checked for length by the API schema). Returns at
   * most `limit` hits, best first, and how many matched in all.
   */
  search(query: string, limit = 50): SearchResult {
    const terms = query.trim().split(/\s+/).filter((t) => t.length > 0).slice(0, MAX_TERMS);
    if (terms.length === 0) return { query, total: 0, hits: [] };
    let scores: Map<string, number> | null = null;
    const matchedFields = new Map<string, Set<string>>();
    for (const term of terms) {
      const colon = term.indexOf(':');
      const field = colon > 0 ? term.slice(0, colon).toLowerCase() : '';
      const words = tokenize(colon > 0 ? term.slice(colon + 1) : term);
      if (words.length === 0) continue;
      // Every word of a term must match (a term like `nginx:1.25` is two words).
      let termScores: Map<string, number> | null = null;
      for (const w of words) {
        const wordScores = this.matchWord(field, w, scores ?? termScores);
        termScores = termScores === null ? wordScores : intersectAdd(termScores, wordScores);
        if (termScores.size === 0) break;
      }
      if (termScores === null) continue;
      scores = scores === null ? termScores : intersectAdd(scores, termScores);
      if (field) for (const id of termScores.keys()) addTo(matchedFields, id, field);
      if (scores.size === 0) break;
    }
    if (scores === null || scores.size === 0) return { query, total: 0, hits: [] };
    const ranked = [...scores].sort((a, b) => b[1] - a[1] || this.docs.get(a[0])!.label.length - this.docs.get(b[0])!.label.length || (a[0] < b[0] ? -1 : 1));
    const hits = ranked.slice(0, limit).map(([id, score]) => {
      const d = this.docs.get(id)!;
      const m = this.model.get(d.topology, id);
      const fields = matchedFields.get(id) ?? new Set(this.freeFields(d, terms));
      return {
        id,
        topology: d.topology,
        view: VIEW_OF[d.topology] ?? null,
        label: d.label,
        labelMinor: d.labelMinor,
        score,
        matches: [...fields].filter((f) => d.fields.has(f)).map((f) => ({ field: f, value: d.fields.get(f)!.slice(0, 200) })),
        stale: m?.stale ?? false,
      };
    });
    return { query, total: scores.size, hits };
  }

  /** Ids matching one word (exact or prefix), with scores; restricted to `within` when given. */
  private matchWord(field: string, word: string, within: Map<string, number> | null): Map<string, number> {
    const key = field ? `${field}=${word}` : word;
    const out = new Map<string, number>();
    const visit = (tok: string, exact: boolean): void => {
      const ids = this.postings.get(tok);
      if (!ids) return;
      const plain = field ? tok.slice(field.length + 1) : tok;
      const consider = (id: string): void => {
        const d = this.docs.get(id)!;
        const s = (d.labelTokens.has(plain) ? 10 : 3) * (exact ? 2 : 1);
        const prev = out.get(id);
        if (prev === undefined || s > prev) out.set(id, s);
      };
      if (within && within.size < ids.size) {
        for (const id of within.keys()) if (ids.has(id)) consider(id);
      } else {
        for (const id of ids) if (!within || within.has(id)) consider(id);
      }
    };
    if (word.length >= 2) {
      const bucket = this.buckets.get(bucketOf(key));
      if (bucket) for (const tok of bucket) if (tok.startsWith(key)) visit(tok, tok === key);
    } else {
      // One character: the tokens it starts are spread over every bucket it begins.
      for (const [b, toks] of this.buckets) {
        if (!b.startsWith(key) || (!field && b.includes('='))) continue;
        for (const tok of toks) visit(tok, tok === key);
      }
    }
    return out;
  }

  /** For display: the fields whose text holds a free term. */
  private freeFields(d: Doc, terms: string[]): string[] {
    const words = terms.filter((t) => !t.includes(':')).flatMap(tokenize);
    const out: string[] = [];
    for (const [f, v] of d.fields) {
      if (f === 'id' || f === 'topology') continue;
      const toks = tokenize(v);
      if (words.some((w) => toks.some((t) => t.startsWith(w)))) out.push(f);
    }
    return out.slice(0, 8);
  }
}

function intersectAdd(a: Map<string, number>, b: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const [id, s] of small) {
    const t = large.get(id);
    if (t !== undefined) out.set(id, s + t);
  }
  return out;
}

function addTo(m: Map<string, Set<string>>, id: string, field: string): void {
  let s = m.get(id);
  if (!s) m.set(id, (s = new Set()));
  s.add(field);
}
