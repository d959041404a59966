/**
 * Full-text search over the live model: labels, every `latest` value
 * (metadata, Kubernetes and container labels, images, command lines).
 *
 * An inverted index of the docs `SearchDocs` (search-docs.ts) cuts from the
 * model's change sets: the index lives on the app's front thread and the model
 * in the model thread (model-thread/), so only changed docs cross between them,
 * and a search never waits for the model's work or its collections. Each node's text is cut into lowercase tokens; a token
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
import type { TopologyName } from '../report';
import type { DocChange, SearchDoc } from './search-docs';
import { IdOrder, capacityFor } from './search-order';
import type { ViewId } from './views/catalog';

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

/**
 * One vocabulary entry and the docs that hold it, packed: each entry of `docs`
 * is `num * 2 + label` (label 1 when the token, without its field, is one of the
 * doc's label tokens). A plain array of small integers costs 8 bytes an entry
 * and is read by queries as it is; a Map per token cost ~30 bytes an entry, and
 * the typed-array copies queries made of it stayed alive beside it.
 */
interface Posting {
  readonly token: string;
  readonly docs: number[];
}

interface Doc {
  readonly num: number;
  readonly id: string;
  topology: TopologyName;
  label: string;
  labelMinor: string;
  /** [field, text, field, text, …] (SearchDoc.fields): to show what matched, and to find the doc's postings again when it is removed. */
  fields: string[];
  stale: boolean;
}

/** Label lengths beyond this rank as this long (a rank key is score × span − length). */
const LABEL_LENGTH_SPAN = 1 << 16;

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
  private readonly ids = new Map<string, Doc>();
  /** Docs by number; numbers of removed docs are reused. */
  private readonly byNum: Array<Doc | undefined> = [];
  private readonly freeNums: number[] = [];
  /** The ids' string order as numbers: the ranking's last tie-break without reading docs (search-order.ts). */
  private readonly order = new IdOrder();
  private readonly postings = new Map<string, Posting>();
  /** First two characters (after `field=`) → postings: a prefix query reads one bucket. */
  private readonly buckets = new Map<string, Set<Posting>>();
  /** First character (after `field=`) → bucket keys: a one-character prefix reads only its buckets. */
  private readonly buckets1 = new Map<string, Set<string>>();
  // Per-query scratch, indexed by doc number (no Map per query): stamps say which entries are current.
  private mark = new Int32Array(1024);
  private best = new Int32Array(1024);
  private acc = new Int32Array(1024);
  /** Each doc's label length, by number (the first tie-break of ranking, read without a Doc lookup). */
  private labelLen = new Int32Array(1024);
  private stamp = 0;
  /** A query's docs still matching (after each word), and where the next word's matches are written; swapped per word. */
  private survivors = new Int32Array(1024);
  private matched = new Int32Array(1024);

  /**
   * @param lookupCost a survivor looked up costs about this many posting entries read (see
   *   `search`); tests set 0 (every later word looked up) and Infinity (every word read whole).
   */
  constructor(private readonly lookupCost = LOOKUP_COST) {}

  get size(): number {
    return this.ids.size;
  }

  /** Takes in what changed in the model (SearchDocs), in the order it changed. */
  apply(changes: readonly DocChange[]): void {
    for (const c of changes) {
      if (c.kind === 'stale') {
        const d = this.ids.get(c.id);
        if (d) d.stale = c.stale;
        continue;
      }
      const d = this.ids.get(c.id);
      if (d === undefined) {
        if (c.kind === 'put') this.add(c.doc);
      } else if (c.kind === 'put') this.replace(d, c.doc);
      else this.remove(d);
    }
  }

  /** The doc's tokens, plain and `field=`-qualified: token → its plain part. */
  private static tokensOf(fields: readonly string[]): Map<string, string> {
    const tokens = new Map<string, string>();
    for (let i = 0; i < fields.length; i += 2) {
      const field = fields[i]!;
      for (const tok of tokenize(fields[i + 1]!)) {
        tokens.set(tok, tok);
        tokens.set(`${field}=${tok}`, tok);
      }
    }
    return tokens;
  }

  /** A doc's posting entries: token → `num * 2 + label` (see Posting). */
  private static entriesOf(num: number, label: string, fields: readonly string[]): Map<string, number> {
    const labelTokens = new Set(tokenize(label));
    const out = new Map<string, number>();
    for (const [tok, plain] of SearchIndex.tokensOf(fields)) out.set(tok, num * 2 + (labelTokens.has(plain) ? 1 : 0));
    return out;
  }

  private add(doc: SearchDoc): void {
    const { id, topology, label, labelMinor, fields, stale } = doc;
    const num = this.freeNums.pop() ?? this.byNum.length;
    if (num >= this.mark.length) this.grow(num + 1);
    for (const [tok, entry] of SearchIndex.entriesOf(num, label, fields)) this.post(tok, entry);
    const d: Doc = { num, id, topology, label, labelMinor, fields, stale };
    this.byNum[num] = d;
    this.labelLen[num] = label.length;
    this.ids.set(id, d);
    this.order.add(num, id);
  }

  /**
   * A doc put again: only the entries that differ are taken out and put in. Why not remove and
   * add: taking an entry out of a posting is a scan of it, and a container's doc holds the
   * commonest tokens of the index (its topology, namespace, image: postings of thousands of
   * docs); a container paused or restarted changes one field, and its whole doc taken out and put
   * back held the front thread for milliseconds per batch of docs, which searches waited behind.
   */
  private replace(d: Doc, doc: SearchDoc): void {
    const before = SearchIndex.entriesOf(d.num, d.label, d.fields);
    const after = SearchIndex.entriesOf(d.num, doc.label, doc.fields);
    for (const [tok, entry] of before) if (after.get(tok) !== entry) this.unpost(tok, entry);
    for (const [tok, entry] of after) if (before.get(tok) !== entry) this.post(tok, entry);
    d.topology = doc.topology;
    d.label = doc.label;
    d.labelMinor = doc.labelMinor;
    d.fields = doc.fields;
    d.stale = doc.stale;
    this.labelLen[d.num] = doc.label.length;
  }

  private post(tok: string, entry: number): void {
    let p = this.postings.get(tok);
    if (!p) {
      p = { token: tok, docs: [] };
      this.postings.set(tok, p);
      const b = bucketOf(tok);
      let bucket = this.buckets.get(b);
      if (!bucket) {
        this.buckets.set(b, (bucket = new Set()));
        const b1 = bucket1Of(tok);
        let keys = this.buckets1.get(b1);
        if (!keys) this.buckets1.set(b1, (keys = new Set()));
        keys.add(b);
      }
      bucket.add(p);
    }
    p.docs.push(entry);
  }

  /** Takes one entry out of its token's posting (the posting, and its buckets, when emptied). */
  private unpost(tok: string, entry: number): void {
    const p = this.postings.get(tok);
    if (!p) return;
    const docs = p.docs;
    const at = docs.indexOf(entry);
    if (at < 0) return;
    // Order within a posting does not matter (ranking breaks every tie): swap with the last.
    docs[at] = docs[docs.length - 1]!;
    docs.pop();
    if (docs.length > 0) return;
    this.postings.delete(p.token);
    const b = bucketOf(p.token);
    const bucket = this.buckets.get(b);
    bucket?.delete(p);
    if (bucket?.size === 0) {
      this.buckets.delete(b);
      const b1 = bucket1Of(p.token);
      const keys = this.buckets1.get(b1);
      keys?.delete(b);
      if (keys?.size === 0) this.buckets1.delete(b1);
    }
  }

  private remove(d: Doc): void {
    for (const [tok, entry] of SearchIndex.entriesOf(d.num, d.label, d.fields)) this.unpost(tok, entry);
    this.ids.delete(d.id);
    this.order.remove(d.num);
    this.byNum[d.num] = undefined;
    this.freeNums.push(d.num);
  }

  private grow(n: number): void {
    const size = capacityFor(this.mark.length, n);
    const mark = new Int32Array(size);
    mark.set(this.mark);
    this.mark = mark;
    this.best = new Int32Array(size);
    this.acc = new Int32Array(size);
    this.survivors = new Int32Array(size);
    this.matched = new Int32Array(size);
    const labelLen = new Int32Array(size);
    labelLen.set(this.labelLen);
    this.labelLen = labelLen;
  }

  /**
   * Runs a query (already checked for length by the API schema). Returns at
   * most `limit` hits, best first, and how many matched in all.
   *
   * Words are matched rarest first (by the posting entries they would read): the
   * first word's postings are read whole into per-doc scratch arrays; each later
   * word either reads its postings, keeping only the docs still matching, or,
   * when the docs still matching are far fewer than its posting entries, is
   * looked up in those docs' own text (`host-0500`: the 41 docs of `0500` are
   * checked for `host`, not the 41,000 entries of `host` read). The best
   * `limit` are chosen with a bounded heap, not by sorting every match.
   *
   * Nothing a query allocates grows with the number of matches: the survivors
   * live in two reused Int32Arrays. A JavaScript array of 50,000 survivors is a
   * large object, which V8 places on pages of its own, fresh from the kernel each
   * time; on this project's machines a fresh page costs about 11 µs (docs/app.md),
   * and those arrays were most of a broad query's time.
   */
  search(query: string, limit = 50): SearchResult {
    const terms = query.trim().split(/\s+/).filter((t) => t.length > 0).slice(0, MAX_TERMS);
    const words: QueryWord[] = [];
    const termFields: string[] = [];
    for (const term of terms) {
      const colon = term.indexOf(':');
      const field = colon > 0 ? term.slice(0, colon).toLowerCase() : '';
      const ws = tokenize(colon > 0 ? term.slice(colon + 1) : term);
      if (ws.length === 0) continue;
      for (const word of ws) {
        const tokens = this.tokensOf(field, word);
        let entries = 0;
        for (const [p] of tokens) entries += p.docs.length;
        if (entries === 0) return { query, total: 0, hits: [] };
        words.push({ field, word, tokens, entries });
      }
      if (field) termFields.push(field);
    }
    if (words.length === 0) return { query, total: 0, hits: [] };
    // AND of the words, and a doc's score is the sum of its best per word: the order is free.
    words.sort((a, b) => a.entries - b.entries);
    let n = this.matchPostings(words[0]!, -1);
    for (let i = 1; i < words.length && n > 0; i++) {
      const w = words[i]!;
      n = n * this.lookupCost < w.entries ? this.matchByLookup(w, n) : this.matchPostings(w, n);
    }
    if (n === 0) return { query, total: 0, hits: [] };
    const top = this.topK(n, Math.max(0, limit));
    const freeWords = termFields.length > 0 ? [] : terms.filter((t) => !t.includes(':')).flatMap(tokenize);
    const hits = top.map((num) => {
      const d = this.byNum[num]!;
      const fields = termFields.length > 0 ? new Set(termFields) : new Set(freeFields(d, freeWords));
      return {
        id: d.id,
        topology: d.topology,
        view: VIEW_OF[d.topology] ?? null,
        label: d.label,
        labelMinor: d.labelMinor,
        score: this.acc[num]!,
        matches: [...fields].flatMap((f) => {
          const text = fieldText(d.fields, f);
          return text === undefined ? [] : [{ field: f, value: text.slice(0, 200) }];
        }),
        stale: d.stale,
      };
    });
    return { query, total: n, hits };
  }

  /** The postings one word matches: [posting, exact]. */
  private tokensOf(field: string, word: string): Array<[Posting, boolean]> {
    const key = field ? `${field}=${word}` : word;
    const out: Array<[Posting, boolean]> = [];
    const scan = (bucket: Set<Posting> | undefined): void => {
      if (bucket) for (const p of bucket) if (p.token.startsWith(key)) out.push([p, p.token === key]);
    };
    if (word.length >= 2) scan(this.buckets.get(bucketOf(key)));
    else for (const b of this.buckets1.get(key) ?? []) scan(this.buckets.get(b));
    return out;
  }

  /**
   * The docs matching one word (exact or prefix) through its postings: all docs when `n` is -1
   * (the first word), else among the `n` survivors in `this.survivors`. Adds each doc's best score
   * for the word to `acc`; leaves the matches in `this.survivors` and returns how many.
   * Survivors of earlier words are marked first, so each posting entry costs one array read
   * whatever the number of survivors.
   */
  private matchPostings(w: QueryWord, n: number): number {
    const mark = this.mark;
    const best = this.best;
    const acc = this.acc;
    const next = this.matched;
    let count = 0;
    // Entries whose mark is `open` may still match; `found` ones already did (for this word).
    let open = -1;
    if (n >= 0) {
      open = ++this.stamp;
      const within = this.survivors;
      for (let i = 0; i < n; i++) mark[within[i]!] = open;
    }
    const found = ++this.stamp;
    for (const [p, exact] of w.tokens) {
      const docs = p.docs;
      const factor = exact ? 2 : 1;
      for (let i = 0; i < docs.length; i++) {
        const e = docs[i]!;
        const num = e >> 1;
        const m = mark[num];
        if (m !== found && open !== -1 && m !== open) continue;
        const s = ((e & 1) === 1 ? 10 : 3) * factor;
        if (m !== found) {
          mark[num] = found;
          best[num] = s;
          next[count++] = num;
        } else if (s > best[num]!) best[num] = s;
      }
    }
    if (open === -1) for (let i = 0; i < count; i++) acc[next[i]!] = best[next[i]!]!;
    else for (let i = 0; i < count; i++) acc[next[i]!] = acc[next[i]!]! + best[next[i]!]!;
    this.matched = this.survivors;
    this.survivors = next;
    return count;
  }

  /**
   * The same as `matchPostings` for a word whose postings are far longer than the survivors:
   * each survivor's own text is cut into tokens again and tested (the scores are those the
   * postings would give: exact or prefix, label token or not).
   */
  private matchByLookup(w: QueryWord, n: number): number {
    const within = this.survivors;
    const acc = this.acc;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const num = within[i]!;
      const s = wordScore(this.byNum[num]!, w.field, w.word);
      if (s < 0) continue;
      acc[num] = acc[num]! + s;
      within[count++] = num;
    }
    return count;
  }

  /**
   * Ranks before: higher score, then shorter label, then smaller id. Score and label length are
   * one integer (`rankKey`): most comparisons of a broad query (a one-letter prefix matches most
   * docs, nearly all with the same score) end there, without reading two Docs.
   */
  private before(a: number, b: number): boolean {
    const ka = this.rankKey(a);
    const kb = this.rankKey(b);
    if (ka !== kb) return ka > kb;
    return this.order.compare(a, b) < 0;
  }

  private rankKey(num: number): number {
    return this.acc[num]! * LABEL_LENGTH_SPAN - Math.min(this.labelLen[num]!, LABEL_LENGTH_SPAN - 1);
  }

  /**
   * The best `k` of the `n` survivors, best first, over integers before any doc is read. One pass
   * finds the k-th best rank key (a bounded min-heap of keys) and keeps, in the free scratch
   * array, each doc that could still be in (its key not below the heap's worst at the time). Over
   * those: every doc above the k-th key is in, and among those at it the smallest ids fill what is
   * left. A broad query (a one-letter prefix: 54,000 matches, most of them tied) then costs one id
   * comparison per tie, not a heap of docs kept in `before` order all along.
   */
  private topK(n: number, k: number): number[] {
    const m = Math.min(k, n);
    if (m === 0) return [];
    const nums = this.survivors;
    const candidates = this.matched;
    const keys = new Float64Array(m);
    let size = 0;
    let c = 0;
    for (let x = 0; x < n; x++) {
      const num = nums[x]!;
      const key = this.rankKey(num);
      if (size < m) {
        candidates[c++] = num;
        let i = size++;
        while (i > 0) {
          const parent = (i - 1) >> 1;
          if (keys[parent]! <= key) break;
          keys[i] = keys[parent]!;
          i = parent;
        }
        keys[i] = key;
        continue;
      }
      if (key < keys[0]!) continue;
      candidates[c++] = num;
      if (key === keys[0]!) continue;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= m) break;
        const r = l + 1;
        const child = r < m && keys[r]! < keys[l]! ? r : l;
        if (keys[child]! >= key) break;
        keys[i] = keys[child]!;
        i = child;
      }
      keys[i] = key;
    }
    const kth = keys[0]!;
    // Among the candidates: above the k-th key, all; at it, the m smallest ids (a max-heap by id,
    // compared through the ids' order keys, not the ids: see search-order.ts).
    const out: number[] = [];
    const ties: number[] = [];
    const order = this.order;
    for (let x = 0; x < c; x++) {
      const num = candidates[x]!;
      const key = this.rankKey(num);
      if (key > kth) {
        out.push(num);
        continue;
      }
      if (key !== kth) continue;
      if (ties.length < m) {
        ties.push(num);
        for (let i = ties.length - 1; i > 0; ) {
          const parent = (i - 1) >> 1;
          if (order.compare(ties[parent]!, ties[i]!) >= 0) break;
          [ties[i], ties[parent]] = [ties[parent]!, ties[i]!];
          i = parent;
        }
        continue;
      }
      if (order.compare(num, ties[0]!) >= 0) continue;
      ties[0] = num;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        if (l >= ties.length) break;
        const r = l + 1;
        const child = r < ties.length && order.compare(ties[r]!, ties[l]!) > 0 ? r : l;
        if (order.compare(ties[child]!, num) <= 0) break;
        [ties[i], ties[child]] = [ties[child]!, ties[i]!];
        i = child;
      }
    }
    ties.sort((a, b) => order.compare(a, b));
    for (let i = 0; out.length < m && i < ties.length; i++) out.push(ties[i]!);
    return out.sort((a, b) => (this.before(a, b) ? -1 : 1));
  }
}

/** One word of a query: its field (or '') and the postings it matches. */
interface QueryWord {
  readonly field: string;
  readonly word: string;
  readonly tokens: Array<[Posting, boolean]>;
  /** Posting entries that reading its postings would visit. */
  readonly entries: number;
}

/**
 * A survivor looked up costs about this many posting entries read (a doc's fields cut into
 * tokens again, a dozen short strings): below that ratio a word is looked up in the survivors.
 */
const LOOKUP_COST = 64;

/** The best score `word` gets in the doc (as its postings would give it), or -1 when it does not match. */
function wordScore(d: Doc, field: string, word: string): number {
  let best = -1;
  let labelTokens: string[] | null = null;
  for (let i = 0; i < d.fields.length; i += 2) {
    if (field !== '' && d.fields[i] !== field) continue;
    const text = d.fields[i + 1]!;
    // Most fields do not hold the word at all: a substring test first spares their tokens.
    if (!text.toLowerCase().includes(word)) continue;
    for (const tok of tokenize(text)) {
      if (!tok.startsWith(word)) continue;
      labelTokens ??= tokenize(d.label);
      const s = (labelTokens.includes(tok) ? 10 : 3) * (tok === word ? 2 : 1);
      if (s > best) best = s;
    }
  }
  return best;
}

/** For display: the fields whose text holds a free word (at most 8). */
function freeFields(d: Doc, words: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < d.fields.length && out.length < 8; i += 2) {
    const f = d.fields[i]!;
    if (f === 'id' || f === 'topology') continue;
    const text = d.fields[i + 1]!;
    const lower = text.toLowerCase();
    if (words.some((w) => holdsTokenPrefix(text, lower, w))) out.push(f);
  }
  return out;
}

/**
 * Whether one of the tokens `tokenize(text)` cuts starts with `word` (a query's word: token
 * characters only); `lower` is `text` lowercased. Read in place where that is sure to say the
 * same: a word found at the text's start or after an ASCII separator starts a token. The tokenizer
 * itself decides when the character before is not ASCII (a letter of another script may run on
 * into the word) and for texts long enough to hold more tokens than it cuts. Why: a broad query's
 * 50 hits had every field that held the word cut into tokens by a regular expression; in place,
 * the bench's mix of queries takes 8 % less time with the index out of the caches (docs/app.md,
 * "Round 14").
 */
export function holdsTokenPrefix(text: string, lower: string, word: string): boolean {
  if (word === '') return false;
  let i = lower.indexOf(word);
  if (i < 0) return false;
  const byTokenizer = (): boolean => tokenize(text).some((t) => t.startsWith(word));
  if (lower.length > 2 * MAX_TOKENS_PER_VALUE) return byTokenizer();
  for (; i >= 0; i = lower.indexOf(word, i + 1)) {
    if (i === 0) return true;
    const c = lower.charCodeAt(i - 1);
    if (c >= 0x80) return byTokenizer();
    if (!isAsciiTokenChar(c)) return true;
  }
  return false;
}

/** `[0-9A-Za-z_]`: the ASCII characters TOKEN_RE takes into a token. */
function isAsciiTokenChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}
function fieldText(fields: readonly string[], field: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === field) return fields[i + 1];
  return undefined;
}

function bucket1Of(token: string): string {
  const eq = token.indexOf('=');
  return token.slice(0, eq + 2);
}
