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

t.test('an unchanged node is the previous node itself', async (t) => {
  const sharer = new NodeSharer(new Interner());
  const prev = sharer.node(parsed(node([[1, 1], [2, 2]])), undefined);
  const next = parsed(node([[1, 1], [2, 2]]));
  const frozen = JSON.stringify(next);
  t.equal(sharer.node(next, prev), prev);
  t.equal(JSON.stringify(next), frozen, 'the input is not mutated');
});

t.test('a node whose ring slid by one sample shares everything else', async (t) => {
  const sharer = new NodeSharer(new Interner());
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
  const sharer = new NodeSharer(new Interner());
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
  const sharer = new NodeSharer(new Interner());
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
