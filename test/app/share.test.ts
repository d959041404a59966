/** Structural sharing in the live model: equal content, reused objects, nothing mutated. */
import t from 'tap';
import { Interner, NodeSharer } from '../../runtime/app/share';
import type { ReportNode } from '../../runtime/report';

function node(samples: Array<[number, number]>, state = 'running'): ReportNode {
  return {
    latest: { state: { ts: 1, v: state }, image: { ts: 1, v: 'docker.io/library/redis:7.2' } },
    metrics: { cpu: { samples } },
    adjacency: ['container;b'],
    parents: { host: ['host;h1'] },
    controls: { ts: 1, ids: ['stop', 'pause'] },
  };
}
// A node as it arrives parsed from JSON: nothing shared with any earlier object.
const parsed = (n: ReportNode): ReportNode => JSON.parse(JSON.stringify(n)) as ReportNode;
// History as long as the rings these nodes carry (a probe that sends its whole ring): nothing carried over.
const wholeRings = (): NodeSharer => new NodeSharer(new Interner(), 2);

t.test('an unchanged node is the previous node itself', async (t) => {
  const sharer = new NodeSharer(new Interner());
  const prev = sharer.node(parsed(node([[1, 1], [2, 2]])), undefined);
  const next = parsed(node([[1, 1], [2, 2]]));
  const frozen = JSON.stringify(next);
  t.equal(sharer.node(next, prev), prev);
  t.equal(JSON.stringify(next), frozen, 'the input is not mutated');
});

t.test('a node whose ring slid by one sample shares everything else', async (t) => {
  const sharer = wholeRings();
  const prev = sharer.node(parsed(node([[1, 1], [2, 2]])), undefined);
  const incoming = parsed(node([[2, 2], [3, 3]]));
  const next = sharer.node(incoming, prev);
  t.same(next, incoming, 'structurally equal to what arrived');
  t.not(next, prev);
  t.equal(next.latest, prev.latest, 'latest reused');
  t.equal(next.adjacency, prev.adjacency, 'adjacency reused');
  t.equal(next.parents, prev.parents, 'parents reused');
  t.equal(next.controls, prev.controls, 'controls reused');
  t.equal(next.metrics.cpu!.samples[0], prev.metrics.cpu!.samples[1], 'the carried-over sample pair is the same object');
});

t.test('a changed value is taken, and keys keep their order', async (t) => {
  const sharer = new NodeSharer(new Interner());
  const prev = sharer.node(parsed(node([[1, 1]])), undefined);
  const next = sharer.node(parsed(node([[1, 1]], 'paused')), prev);
  t.equal(next.latest.state!.v, 'paused');
  t.same(Object.keys(next.latest), ['state', 'image']);
  t.equal(next.latest.image, prev.latest.image, 'the unchanged latest entry is reused');
});

t.test('the intern table is bounded and leaves long strings alone', async (t) => {
  const interner = new Interner();
  const a = interner.str(['im', 'age'].join(''));
  t.equal(interner.str('image'), a);
  const long = 'x'.repeat(300);
  interner.str(long);
  t.equal(interner.size, 1, 'long strings are not kept');
});

// The incoming node is the app's own (parsed from the request): equal parts of the previous picture
// are written into it in place instead of into new copies, which were kept besides it and copied by
// the young-generation GC every report.
t.test('a changed node is the incoming node itself, carrying the previous equal parts', async (t) => {
  const sharer = wholeRings();
  const prev = sharer.node(parsed(node([[1, 1], [2, 2]])), undefined);
  const incoming = parsed(node([[2, 2], [3, 3]]));
  const ring = incoming.metrics.cpu!.samples;
  const serialised = JSON.stringify(incoming);
  const next = sharer.node(incoming, prev);
  t.equal(next, incoming, 'no new node object');
  t.equal(next.metrics.cpu!.samples, ring, 'no new ring: the pairs are written into the incoming one');
  t.equal(ring[0], prev.metrics.cpu!.samples[1], 'the carried-over pair is the previous one');
  t.equal(JSON.stringify(incoming), serialised, 'its content is unchanged');
  t.equal(next.latest, prev.latest, 'an equal record is still the previous one');
});

t.test('a frozen incoming node is copied, not written to', async (t) => {
  const sharer = wholeRings();
  const prev = sharer.node(parsed(node([[1, 1], [2, 2]])), undefined);
  const deepFreeze = <T>(o: T): T => {
    if (typeof o === 'object' && o !== null) {
      for (const v of Object.values(o)) deepFreeze(v);
      Object.freeze(o);
    }
    return o;
  };
  const incoming = deepFreeze(parsed(node([[2, 2], [3, 3]], 'paused')));
  const next = sharer.node(incoming, prev);
  t.same(next, incoming, 'structurally equal to what arrived');
  t.not(next, incoming, 'a copy');
  t.not(incoming.metrics.cpu!.samples[0], prev.metrics.cpu!.samples[1], 'the frozen ring was not written to');
  t.equal(next.metrics.cpu!.samples[0], prev.metrics.cpu!.samples[1], 'the copy shares the carried-over pair');
});

const cpu = (n: ReportNode) => n.metrics.cpu!.samples;

t.test('one sample per report: the ring keeps the newest `history` samples across reports', async (t) => {
  const sharer = new NodeSharer(new Interner(), 3);
  let prev = sharer.node(parsed(node([[1, 1]])), undefined);
  const seen: ReportNode[] = [prev];
  for (const ts of [2, 3, 4]) {
    const before = JSON.stringify(prev);
    const next = sharer.node(parsed(node([[ts, ts * 10]])), prev);
    t.equal(JSON.stringify(prev), before, 'the previous picture is not mutated');
    seen.push((prev = next));
  }
  t.same(cpu(seen[1]!), [[1, 1], [2, 20]], 'the second report: the first sample carried, then its own');
  t.same(cpu(prev), [[2, 20], [3, 30], [4, 40]], 'bounded at three, newest kept, oldest first');
  t.equal(cpu(prev)[0], cpu(seen[2]!)[1], 'a carried pair is the previous picture’s object');
  t.equal(prev.latest, seen[0]!.latest, 'everything else still shared');
});

t.test('a resent sample changes nothing; a newer value at the same time replaces it', async (t) => {
  const sharer = new NodeSharer(new Interner(), 4);
  let prev = sharer.node(parsed(node([[1, 1]])), undefined);
  prev = sharer.node(parsed(node([[2, 2]])), prev);
  t.equal(sharer.node(parsed(node([[2, 2]])), prev), prev, 'the same node as before');
  const fixed = sharer.node(parsed(node([[2, 5]])), prev);
  t.same(cpu(fixed), [[1, 1], [2, 5]]);
});

t.test('a sample older than the history (a clock stepped back) starts the ring again', async (t) => {
  const sharer = new NodeSharer(new Interner(), 4);
  let prev = sharer.node(parsed(node([[10, 1]])), undefined);
  prev = sharer.node(parsed(node([[20, 2]])), prev);
  t.same(cpu(sharer.node(parsed(node([[5, 3]])), prev)), [[5, 3]]);
});

t.test('a report carrying more samples than the history keeps them all; an empty ring is taken as it is', async (t) => {
  const sharer = new NodeSharer(new Interner(), 2);
  const prev = sharer.node(parsed(node([[1, 1]])), undefined);
  t.same(cpu(sharer.node(parsed(node([[2, 2], [3, 3], [4, 4]])), prev)), [[2, 2], [3, 3], [4, 4]], 'what the report says, nothing carried');
  t.same(cpu(sharer.node(parsed(node([])), prev)), [], 'no samples now');
});
