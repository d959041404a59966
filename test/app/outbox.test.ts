import t from 'tap';
import { Outbox } from '../../runtime/app/model-thread/outbox';
import type { ThreadMessage } from '../../runtime/app/model-thread/protocol';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('what cannot wait goes at once, alone, and carries what waited before it, in order', async (t) => {
  const posted: ThreadMessage[] = [];
  const box = new Outbox((m) => posted.push(m), 1_000);
  box.send({ ready: true, ingestPort: null }, false);
  t.same(posted, [{ ready: true, ingestPort: null }], 'alone: not wrapped');
  box.send({ id: 1, value: 'a' }, true);
  box.send({ event: { type: 'rendered', view: 'containers', seconds: 0.01 } }, true);
  t.equal(posted.length, 1, 'the waiting ones are held');
  box.send({ event: { type: 'published', topics: ['t'], seqs: [3], messages: ['m'], arrivedAt: null } }, false);
  t.same(posted.slice(1), [
    {
      batch: [
        { id: 1, value: 'a' },
        { event: { type: 'rendered', view: 'containers', seconds: 0.01 } },
        { event: { type: 'published', topics: ['t'], seqs: [3], messages: ['m'], arrivedAt: null } },
      ],
    },
  ]);
  box.flush();
  t.equal(posted.length, 2, 'nothing left to flush');
});

t.test('what waits goes by itself once the wait is over', async (t) => {
  const posted: ThreadMessage[] = [];
  const box = new Outbox((m) => posted.push(m), 30);
  box.send({ id: 1, value: 1 }, true);
  box.send({ id: 2, value: 2 }, true);
  await sleep(5);
  t.same(posted, [], 'held within the wait');
  for (let waited = 0; posted.length === 0 && waited < 5_000; waited += 10) await sleep(10);
  t.same(posted, [{ batch: [{ id: 1, value: 1 }, { id: 2, value: 2 }] }], 'both, in one message, in order');
  box.send({ id: 3, value: 3 }, true);
  box.flush();
  t.same(posted[1], { id: 3, value: 3 }, 'flush sends at once');
  await sleep(60);
  t.equal(posted.length, 2, 'and its timer is gone');
});
