/**
 * The search index against a brute-force reference: for random queries
 * (one-letter prefixes, field terms, several words) over a fleet that keeps
 * changing, the index returns the same total, the same hits in the same order
 * and the same scores as scoring every node from scratch.
 */
import t from 'tap';
import { LiveModel } from '../../runtime/app/model';
import { SearchIndex, holdsTokenPrefix, tokenize } from '../../runtime/app/search';
import { indexOnThread, type SearchDoc } from '../../runtime/app/search-docs';
import { naming } from '../../runtime/app/views/labels';
import type { TopologyName } from '../../runtime/report';
import { SimProbe, loadTemplates, seededRandom, type FleetShape } from './fleet';

const INDEXED: TopologyName[] = ['host', 'process', 'container', 'container_image', 'pod', 'service', 'controller'];
const NUMERIC = new Set(['pid', 'ppid', 'uid', 'port']);

function reference(model: LiveModel, query: string, limit: number): { total: number; hits: Array<[string, number]> } {
  const terms = query.trim().split(/\s+/).filter((x) => x.length > 0).slice(0, 8);
  const scored: Array<[string, number, number]> = [];
  for (const topology of INDEXED) {
    for (const m of model.topology(topology).values()) {
      const nm = naming(topology, m.id, m.node);
      const fields: Array<[string, string]> = [['label', `${nm.label} ${nm.labelMinor}`], ['topology', topology]];
      for (const k in m.node.latest) {
        const v = m.node.latest[k]!.v;
        if (typeof v === 'string' || (typeof v === 'number' && NUMERIC.has(k))) fields.push([k, String(v)]);
      }
      const labelTokens = new Set(tokenize(nm.label));
      let total = 0;
      let ok = true;
      let anyWord = false;
      for (const term of terms) {
        const colon = term.indexOf(':');
        const field = colon > 0 ? term.slice(0, colon).toLowerCase() : '';
        for (const w of tokenize(colon > 0 ? term.slice(colon + 1) : term)) {
          anyWord = true;
          let best = -1;
          for (const [f, v] of fields) {
            if (field && f !== field) continue;
            for (const tok of tokenize(v)) if (tok.startsWith(w)) best = Math.max(best, (labelTokens.has(tok) ? 10 : 3) * (tok === w ? 2 : 1));
          }
          if (best < 0) ok = false;
          total += best;
        }
      }
      if (ok && anyWord) scored.push([m.id, total, nm.label.length]);
    }
  }
  scored.sort((a, b) => b[1] - a[1] || a[2] - b[2] || (a[0] < b[0] ? -1 : 1));
  return { total: scored.length, hits: scored.slice(0, limit).map(([id, s]) => [id, s]) };
}

for (const [how, lookupCost] of [['as tuned', undefined], ['later words always looked up in the docs', 0], ['every word read from its postings', Infinity]] as const) {
  t.test(`search equals a brute-force scoring of every node, while the fleet changes (${how})`, async (t) => {
    const tpl = await loadTemplates();
    const shape: FleetShape = { probes: 6, containersPerProbe: 4, processesPerProbe: 10, connectionsPerProbe: 1, ring: 2 };
    let clock = 1_700_000_000_000;
    const model = new LiveModel({ now: () => clock });
    const index = indexOnThread(model, lookupCost);
    const probes = Array.from({ length: shape.probes }, (_, i) => new SimProbe(i, shape, tpl));
    for (const p of probes) model.ingest(p.next(clock), 'tok', clock);
    const queries = ['p', 'n', 'nginx', 'ngi', 'image:redis', 'image:r', 'host-0003', 'name:postgres', 'serve', 'namespace:shop api', 'cmdline:8003', 'label:host', 'topology:pod shop', 'zzz', 'serve port 8001', 'kube', 'NAME:API', '1'];
    let round = 0;
    for (const limit of [50, 3]) {
      for (let step = 0; step < 3; step++) {
        clock += 1000;
        for (const [i, p] of probes.entries()) {
          if ((i + step) % 2 === 0) p.flip(step % 4);
          model.ingest(p.next(clock), 'tok', clock);
        }
        if (step === 1) {
          model.removeProbe(probes[2]!.probeId);
          probes[2] = new SimProbe(2, { ...shape, containersPerProbe: 2 }, tpl, ++round);
          model.ingest(probes[2]!.full(clock), 'tok', clock);
        }
        for (const q of queries) {
          const got = index.search(q, limit);
          const want = reference(model, q, limit);
          t.same({ total: got.total, hits: got.hits.map((h) => [h.id, h.score]) }, want, `${q} (limit ${limit}, step ${step})`);
        }
      }
    }
    const hit = index.search('image:nginx', 1).hits[0]!;
    t.same(hit.matches.map((m) => m.field), ['image'], 'field terms name the field that matched');
  });
}

t.test('a doc put again answers as the same doc put into a new index (fields, label and topology changed in place)', async (t) => {
  const rand = seededRandom(4242);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const words = ['nginx', 'redis', 'postgres', 'api', 'shop', 'running', 'paused', 'kube', 'serve', 'p1', 'web'];
  const topologies: TopologyName[] = ['container', 'process', 'pod'];
  const docOf = (id: string): SearchDoc => {
    const label = `${pick(words)}-${pick(words)}`;
    const fields = ['label', `${label} ${pick(words)}`, 'topology', pick(topologies)];
    for (let k = 0; k < 1 + Math.floor(rand() * 3); k++) fields.push(pick(['image', 'state', 'name', 'namespace']), `${pick(words)} ${pick(words)}`);
    return { id, topology: fields[3] as TopologyName, label, labelMinor: pick(words), fields, stale: rand() < 0.2 };
  };
  const ids = Array.from({ length: 40 }, (_, i) => `container;${i}`);
  const live = new SearchIndex();
  const now = new Map<string, SearchDoc>();
  for (let step = 0; step < 400; step++) {
    const id = pick(ids);
    if (rand() < 0.15) {
      live.apply([{ kind: 'remove', id }]);
      now.delete(id);
    } else {
      const doc = docOf(id);
      live.apply([{ kind: 'put', id, doc }]);
      now.set(id, doc);
    }
    if (step % 50 !== 49) continue;
    const fresh = new SearchIndex();
    fresh.apply([...now.values()].map((doc) => ({ kind: 'put', id: doc.id, doc }) as const));
    for (const q of [...words, 'p', 'n', 'image:redis', 'state:pa', 'label:web', 'topology:pod', 'namespace:shop api']) {
      const got = live.search(q);
      const want = fresh.search(q);
      t.same({ total: got.total, hits: got.hits }, { total: want.total, hits: want.hits }, `${q} at step ${step}`);
    }
  }
});

t.test("a field holds a free word as the tokenizer says, read in place or not", async (t) => {
  // Separators, ASCII token characters, letters of other scripts (one of them astral, one whose
  // lowercase is longer), and texts long enough to hold more tokens than the tokenizer cuts.
  const alphabet = ['a', 'b', 'p', 'P', '0', '_', '-', ' ', '.', '/', 'é', 'É', 'İ', '𝐀', 'ß', ':'];
  const rand = seededRandom(99);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  let wrong = 0;
  let found = 0;
  const cases = 6000;
  for (let n = 0; n < cases; n++) {
    const length = rand() < 0.2 ? 100 + Math.floor(rand() * 120) : Math.floor(rand() * 16);
    const text = Array.from({ length }, () => pick(alphabet)).join('');
    const word = tokenize(Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(alphabet)).join(''))[0];
    if (word === undefined) continue;
    const want = tokenize(text).some((tok) => tok.startsWith(word));
    if (want) found++;
    if (holdsTokenPrefix(text, text.toLowerCase(), word) !== want) wrong++;
  }
  t.ok(found > cases / 10, `${found} of the cases hold the word`);
  t.equal(wrong, 0, `every case answered as tokenize() does`);
  const past = `${'x '.repeat(70)}pod`;
  t.equal(holdsTokenPrefix(past, past, 'po'), false, 'a word past the tokens the tokenizer cuts (64) is not held');
});
