/**
 * Bringing a new WebSocket client of a view up to the live feed: its full view, then what
 * changed while the full view was on its way, then the topic's published deltas.
 *
 * A full view is large (10,000 containers are ~15 MB) and 100 clients may join at once (an app
 * restart, a page reload across a team). Handed to uWS whole, each would be copied into the
 * client's native send buffer (1.5 GB for 100 clients). It is sent instead as fragments of one
 * WebSocket message from the one JS string all joining clients share, each fragment only while
 * the client's buffer is nearly empty.
 *
 * All catching-up clients share one budget per event-loop turn (`charsPerTurn`), one fragment
 * per client in turn: the kernel takes several megabytes at once on loopback, and a client that
 * reads fast enough was otherwise sent its whole full view in one synchronous loop, 250-400 ms
 * during which no report, search or delta was served (bench/app.ts at 1,000 probes, 100
 * clients; docs/app.md).
 *
 * When the full view is out, the client gets the topic's deltas since its seq, or one `catchup`
 * message when those are no longer all kept (ViewHub.deltasAfter), itself fragmented when
 * large, and so on until nothing was published since its seq while its buffer is nearly empty:
 * then it is subscribed. Only when no catch-up can be built (changes older than the topic
 * remembers) does it get a newer full view, at most `maxRestarts` times, then a reset.
 *
 * The topics live on the model thread (ViewHub, model-thread/): what a client needs next is
 * asked for there, and the client waits for the answer out of the turn order. The answer
 * "nothing since your seq" subscribes the client as it arrives: the model thread's answers and
 * its published deltas reach this thread in the order they happened there, so no delta falls
 * between that answer and the subscription.
 */
import type { WebSocket } from 'uWebSockets.js';
import type { ViewHub } from './views/hub';

/**
 * ViewHub.deltasAfter's answer, whose deltas may be the front thread's UTF-8 copies of them
 * (model-thread/topic-mirror.ts); a catch-up message (`current` false, or one large message) is
 * the model thread's text.
 */
export type DeltasAfter = { seq: number; messages: ReadonlyArray<string | Buffer>; current: boolean } | null;
type FullView = ReturnType<ViewHub['full']>;

/** What the queue asks of the topics (ModelThread on the front thread; a ViewHub in tests). */
export interface TopicSource {
  deltasAfter(topic: string, seq: number): Promise<DeltasAfter>;
  full(topic: string): Promise<FullView>;
}

/** One client's catch-up: the message being sent in fragments, and the topic seq it brings the client to. */
export interface Catchup {
  message: string;
  seq: number;
  offset: number;
  restarts: number;
  /** A question to the topic source is on its way. */
  asking: boolean;
  /** Its answer, taken at the client's next step. */
  answer: { kind: 'deltas'; value: DeltasAfter } | { kind: 'full'; value: FullView } | null;
}

/** What the queue needs of a view socket's data. */
export interface CatchupSocketData {
  topic: string;
  closed: boolean;
  /** While the client is brought up to the feed; null once it is subscribed to its topic. */
  catchup: Catchup | null;
}

export interface CatchupQueueOptions {
  /** Characters per fragment, and the buffered bytes below which a client is sent the next one. */
  fragmentChars: number;
  /** Characters sent to all catching-up clients together in one event-loop turn. */
  charsPerTurn: number;
  /** Newer full views sent to one client (its catch-up could not be built) before it is reset. */
  maxRestarts: number;
  /** Resets and closes a client (it reconnects for a full view). */
  reset: (ws: WebSocket<CatchupSocketData>, reason: string) => void;
}

export class CatchupQueue {
  /** Clients with something to send and room in their buffer, in turn order. */
  private readonly ready = new Set<WebSocket<CatchupSocketData>>();
  private immediate: NodeJS.Immediate | null = null;
  private closed = false;

  constructor(
    private readonly topics: TopicSource,
    private readonly opts: CatchupQueueOptions,
  ) {}

  /** Starts a client's catch-up with the full message at `seq`. */
  start(ws: WebSocket<CatchupSocketData>, message: string, seq: number): void {
    ws.getUserData().catchup = { message, seq, offset: 0, restarts: 0, asking: false, answer: null };
    this.wake(ws);
  }

  /** A client's buffer drained (uWS `drain`), or it started: it has room for more. */
  wake(ws: WebSocket<CatchupSocketData>): void {
    const d = ws.getUserData();
    if (this.closed || d.closed || d.catchup === null) return;
    this.ready.add(ws);
    // Not sent from inside a uWS callback: this uWS build stops polling a socket for writable
    // when its drain callback ends with a send that the kernel took only in part and that started
    // from an empty buffer (the rest of that fragment stayed in the app's buffer and no further
    // drain came: about one load in 20 of a 5,000-node view in Chromium). Sent on the next turn
    // instead, corked since it is outside any uWS callback; a send left in part there keeps the
    // socket polled.
    this.immediate ??= setImmediate(() => this.turn());
  }

  forget(ws: WebSocket<CatchupSocketData>): void {
    this.ready.delete(ws);
  }

  close(): void {
    this.closed = true;
    this.ready.clear();
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.immediate = null;
  }

  /** One turn: fragments to the ready clients in turn until the budget is spent; again next turn if any is left. */
  private turn(): void {
    this.immediate = null;
    let budget = this.opts.charsPerTurn;
    while (budget > 0 && !this.closed) {
      const ws: WebSocket<CatchupSocketData> | undefined = this.ready.values().next().value;
      if (ws === undefined) break;
      this.ready.delete(ws);
      let sent = -1;
      ws.cork(() => (sent = this.step(ws)));
      if (sent < 0) continue; // done, closed, or waiting for its buffer to drain
      budget -= Math.max(1, sent);
      this.ready.add(ws); // to the back of the turn order
    }
    if (this.ready.size > 0 && !this.closed) this.immediate = setImmediate(() => this.turn());
  }

  /**
   * Sends a client the next fragment of its catch-up, or its last messages and subscribes it.
   * Returns the characters sent, or -1 when the client leaves the ready set (done, closed,
   * reset, or its buffer is full: uWS's drain brings it back).
   */
  private step(ws: WebSocket<CatchupSocketData>): number {
    const d = ws.getUserData();
    const c = d.catchup;
    const fragment = this.opts.fragmentChars;
    if (c === null || d.closed || ws.getBufferedAmount() >= fragment) return -1;
    const text = c.message;
    if (c.offset < text.length) {
      if (c.offset === 0 && text.length <= fragment) {
        ws.send(text, false);
        c.offset = text.length;
        return text.length;
      }
      let end = Math.min(text.length, c.offset + fragment);
      // Never cut a surrogate pair: each fragment is encoded to UTF-8 on its own.
      const last = text.charCodeAt(end - 1);
      if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
      const piece = text.slice(c.offset, end);
      if (c.offset === 0) ws.sendFirstFragment(piece, false);
      else if (end === text.length) ws.sendLastFragment(piece);
      else ws.sendFragment(piece);
      const n = end - c.offset;
      c.offset = end;
      return n;
    }
    if (c.asking) return -1;
    const answer = c.answer;
    c.answer = null;
    if (answer === null) {
      this.ask(ws, c, 'deltas');
      return -1;
    }
    if (answer.kind === 'full') {
      const again = answer.value;
      if (again === null || ++c.restarts > this.opts.maxRestarts) {
        this.opts.reset(ws, 'the view changed faster than the client read its full view; reconnect');
        return -1;
      }
      c.message = again.message;
      c.seq = again.seq;
      c.offset = 0;
      return 0;
    }
    const next = answer.value;
    if (next !== null && (!next.current || (next.messages.length === 1 && next.messages[0]!.length > fragment))) {
      // One catch-up: sent like the full view (in fragments when large), then the client asks
      // again from its seq. A large one no shorter than what the client just read means the
      // client reads slower than the view changes: counted like a newer full view, so that such
      // a client is reset rather than sent catch-ups for ever.
      const first = next.messages[0]!;
      if (first.length > fragment && first.length * 10 >= text.length * 9 && ++c.restarts > this.opts.maxRestarts) {
        this.opts.reset(ws, 'the view changed faster than the client read it; reconnect');
        return -1;
      }
      // (A single large delta from the front thread's copy is bytes: fragments are cut from text.)
      c.message = typeof first === 'string' ? first : first.toString('utf8');
      c.seq = next.seq;
      c.offset = 0;
      return 0;
    }
    if (next !== null && next.messages.length > 0) {
      // The deltas since (at most RECENT_DELTA_BYTES) or a small catch-up: sent whole; the client
      // is subscribed at a later step, once its buffer has drained (subscribed with megabytes still
      // buffered, the next publish found it over the backlog bound and reset it).
      let n = 0;
      for (const m of next.messages) {
        ws.send(m, false);
        n += m.length;
      }
      c.seq = next.seq;
      return n;
    }
    if (next !== null) {
      // Nothing published since: subscribed as the answer came (ask); an answer taken here is older.
      return 0;
    }
    this.ask(ws, c, 'full');
    return -1;
  }

  /** Asks the topic source what the client needs next; the answer wakes the client. */
  private ask(ws: WebSocket<CatchupSocketData>, c: Catchup, kind: 'deltas' | 'full'): void {
    const d = ws.getUserData();
    c.asking = true;
    const asked = kind === 'deltas' ? this.topics.deltasAfter(d.topic, c.seq).then((value) => ({ kind, value }) as const) : this.topics.full(d.topic).then((value) => ({ kind, value }) as const);
    asked.then(
      (answer) => {
        c.asking = false;
        if (this.closed || d.closed || d.catchup !== c) return;
        const v = answer.value;
        if (answer.kind === 'deltas' && v !== null && 'current' in v && v.current && v.messages.length === 0 && ws.getBufferedAmount() < this.opts.fragmentChars) {
          // Nothing published since the client's seq, and its buffer nearly empty: it joins the
          // topic now, before any later delta reaches this thread.
          d.catchup = null;
          ws.subscribe(d.topic);
          return;
        }
        c.answer = answer;
        this.wake(ws);
      },
      () => {
        c.asking = false;
        if (!this.closed && !d.closed && d.catchup === c) this.opts.reset(ws, 'the view is not available now; reconnect');
      },
    );
  }
}
