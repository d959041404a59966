/**
 * A feed client's catch-up (runtime/app/feed-catchup.ts) when the deltas since its full view come
 * from the front thread's copy, which holds them as UTF-8 bytes (model-thread/topic-mirror.ts): a
 * real uWS server and a real WebSocket client on loopback. Deltas are sent whole as text frames;
 * one delta larger than a fragment is sent in fragments cut from its text, whatever its
 * characters, and the client reads each message as it was published.
 */
import t, { type Test } from 'tap';
import uWS from 'uWebSockets.js';
import { WebSocket } from 'undici';
import { closeUwsApp } from '../../runtime/app/http';
import { CatchupQueue, type CatchupSocketData, type DeltasAfter } from '../../runtime/app/feed-catchup';

const FRAGMENT = 1024;
const TOPIC = 'containers';

/** Text with one-, two-, three- and four-byte UTF-8 characters, `n` characters or a little more. */
function delta(seq: number, n: number): string {
  const pieces = ['a', 'é', '€', '🚀'];
  let s = '';
  for (let i = 0; s.length < n; i++) s += pieces[i % pieces.length];
  return JSON.stringify({ type: 'delta', seq, text: s });
}

async function catchUp(t: Test, answers: Map<number, DeltasAfter>, full: string): Promise<string[]> {
  const queue = new CatchupQueue(
    {
      deltasAfter: async (_topic, seq) => answers.get(seq) ?? null,
      full: async () => null,
    },
    { fragmentChars: FRAGMENT, charsPerTurn: 4 * FRAGMENT, maxRestarts: 3, reset: (ws, reason) => ws.end(1011, reason) },
  );
  const app = uWS.App();
  app.ws<CatchupSocketData>('/ws', {
    upgrade: (res, req, context) => {
      res.upgrade<CatchupSocketData>({ topic: TOPIC, closed: false, catchup: null }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
    },
    open: (ws) => queue.start(ws, full, 1),
    drain: (ws) => queue.wake(ws),
    close: (ws) => {
      ws.getUserData().closed = true;
      queue.forget(ws);
    },
  });
  const listening = await new Promise<uWS.us_listen_socket>((resolve, reject) => app.listen('127.0.0.1', 0, (s) => (s ? resolve(s) : reject(new Error('no port')))));
  const port = uWS.us_socket_local_port(listening);
  t.teardown(() => {
    queue.close();
    uWS.us_listen_socket_close(listening);
    closeUwsApp(app);
  });
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  const got: string[] = [];
  const expected = 1 + [...answers.values()].reduce((n, a) => n + (a?.messages.length ?? 0), 0);
  await new Promise<void>((resolve, reject) => {
    ws.onmessage = (e) => {
      got.push(String(e.data));
      if (got.length === expected) resolve();
    };
    ws.onerror = () => reject(new Error('socket error'));
    ws.onclose = (e) => reject(new Error(`closed ${e.code} ${e.reason} after ${got.length} messages`));
    setTimeout(() => reject(new Error(`${got.length} of ${expected} messages in 5 s`)), 5000).unref();
  });
  ws.onclose = null;
  ws.close();
  return got;
}

t.test('deltas held as bytes reach a catching-up client whole, as the text they were', async (t) => {
  const texts = [delta(2, 10), delta(3, 40), delta(4, 200)];
  const answers = new Map<number, DeltasAfter>([
    [1, { seq: 4, messages: texts.map((s) => Buffer.from(s, 'utf8')), current: true }],
    [4, { seq: 4, messages: [], current: true }],
  ]);
  const got = await catchUp(t, answers, '{"type":"full","seq":1}');
  t.same(got, ['{"type":"full","seq":1}', ...texts]);
});

t.test('one delta held as bytes and larger than a fragment is sent in fragments cut from its text', async (t) => {
  // Over four fragments of characters, over eight of bytes: cut by bytes, a fragment would end
  // inside a character, and cut by characters from the bytes, the message would be lost.
  const big = delta(2, 4 * FRAGMENT + 7);
  t.ok(Buffer.byteLength(big) > 8 * FRAGMENT);
  const answers = new Map<number, DeltasAfter>([
    [1, { seq: 2, messages: [Buffer.from(big, 'utf8')], current: true }],
    [2, { seq: 2, messages: [], current: true }],
  ]);
  const got = await catchUp(t, answers, '{"type":"full","seq":1}');
  t.equal(got.length, 2);
  t.equal(got[1], big, 'the large delta arrives as one message, equal to its text');
});
