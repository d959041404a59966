/** The front thread's copy of a topic's recent deltas (runtime/app/model-thread/topic-mirror.ts). */
import t from 'tap';
import { TopicMirrors } from '../../runtime/app/model-thread/topic-mirror';
import { RECENT_DELTAS } from '../../runtime/app/views/hub';

/** The copy holds each delta as its UTF-8 bytes (what the front publishes); read back as text here. */
function since(m: TopicMirrors, topic: string, seq: number): { seq: number; messages: string[]; current: true } | undefined {
  const a = m.deltasAfter(topic, seq);
  return a && { ...a, messages: a.messages.map((b) => b.toString('utf8')) };
}

t.test('answers the deltas since a seq while it holds them all, and nothing else', async (t) => {
  const m = new TopicMirrors();
  t.equal(m.deltasAfter('a', 0), undefined, 'an unknown topic is asked of the model thread');
  m.watch('a');
  m.opened('a', 5);
  t.same(since(m, 'a', 5), { seq: 5, messages: [], current: true }, 'nothing since the current seq');
  t.equal(m.deltasAfter('a', 4), undefined, 'a delta from before the copy began is not held');
  for (let s = 6; s <= 8; s++) m.published('a', s, Buffer.from(`d${s}`));
  t.same(since(m, 'a', 5), { seq: 8, messages: ['d6', 'd7', 'd8'], current: true });
  t.same(since(m, 'a', 7), { seq: 8, messages: ['d8'], current: true });
  t.ok(m.deltasAfter('a', 7)!.messages.every((b) => Buffer.isBuffer(b)), 'kept as bytes, as published');
  t.equal(m.deltasAfter('a', 9), undefined, 'a seq ahead of the copy is not answered here');
  m.published('b', 1, Buffer.from('x'));
  t.equal(m.deltasAfter('b', 0), undefined, 'deltas of an unwatched topic are not kept');
});

t.test('keeps at most RECENT_DELTAS, and starts again when the order breaks', async (t) => {
  const m = new TopicMirrors();
  m.watch('a');
  m.opened('a', 0);
  for (let s = 1; s <= RECENT_DELTAS + 10; s++) m.published('a', s, Buffer.from(`d${s}`));
  t.equal(m.deltasAfter('a', 5), undefined, 'the oldest were let go');
  t.equal(m.deltasAfter('a', 10)!.messages.length, RECENT_DELTAS);
  // The topic was made again on the model thread: its seq starts over.
  m.published('a', 1, Buffer.from('new1'));
  t.same(since(m, 'a', 0), { seq: 1, messages: ['new1'], current: true }, 'the new topic from its first delta');
  m.published('a', 5, Buffer.from('new5'));
  t.equal(m.deltasAfter('a', 2), undefined, 'deltas it did not see (2 to 4) are not answered here');
  t.same(since(m, 'a', 4), { seq: 5, messages: ['new5'], current: true });
  m.opened('a', 7);
  t.same(since(m, 'a', 7), { seq: 7, messages: [], current: true }, 'a subscribe answer at another seq starts the copy there');
  t.equal(m.deltasAfter('a', 5), undefined);
});

t.test('the last unwatch drops the copy; watchers are counted when asked', async (t) => {
  const m = new TopicMirrors();
  m.watch('a');
  m.watch('a');
  m.opened('a', 3);
  m.unwatch('a');
  t.ok(m.deltasAfter('a', 3), 'one watcher left');
  m.unwatch('a');
  t.equal(m.deltasAfter('a', 3), undefined, 'dropped with the last');
  m.opened('a', 3);
  t.equal(m.deltasAfter('a', 3), undefined, 'a late answer for a topic nobody watches keeps nothing');
});
