/**
 * The front thread's copy of each watched topic's recent deltas.
 *
 * Every delta the model thread publishes crosses to the front thread once, to be published to the
 * topic's sockets. Kept here as well (RecentDeltas, as ViewHub keeps them),
 * they answer a catching-up client's "what since my seq" without a round trip, and without a copy
 * of those deltas per client: 100 clients joining a view at once would otherwise each be sent the
 * same two megabytes across threads.
 *
 * Deltas of a topic come in seq order, one after another. Whenever the order breaks (the topic
 * was dropped and made again on the model thread, or a delta was not seen here), the copy starts
 * again from there, and what it cannot answer is asked of the model thread.
 *
 * Kept as UTF-8 bytes (client.ts encodes each delta once as it arrives, and publishes those
 * bytes): as JS strings, every delta of the last few seconds outlived the front thread's young
 * generation, and its collections copied and promoted them (docs/app.md, "Round 18").
 */
import { RecentDeltas } from '../views/recent-deltas';

interface Mirror {
  /** The topic's seq: the last delta published. */
  seq: number;
  recent: RecentDeltas<Buffer>;
}

export class TopicMirrors {
  private readonly topics = new Map<string, Mirror>();
  /** Subscribers per topic on the front thread (counted when asked, not when answered). */
  private readonly watchers = new Map<string, number>();

  /** A subscription is asked for. */
  watch(topic: string): void {
    this.watchers.set(topic, (this.watchers.get(topic) ?? 0) + 1);
  }

  /** A subscription ends; the last one drops the copy. */
  unwatch(topic: string): void {
    const n = (this.watchers.get(topic) ?? 1) - 1;
    if (n > 0) {
      this.watchers.set(topic, n);
      return;
    }
    this.watchers.delete(topic);
    this.topics.delete(topic);
  }

  /** A subscribe answer: the topic's seq when the model thread answered it. */
  opened(topic: string, seq: number): void {
    if (!this.watchers.has(topic)) return;
    const m = this.topics.get(topic);
    if (m === undefined || m.seq !== seq) this.topics.set(topic, { seq, recent: new RecentDeltas<Buffer>() });
  }

  /** A delta the model thread published. */
  published(topic: string, seq: number, message: Buffer): void {
    const m = this.topics.get(topic);
    if (m === undefined) return;
    if (seq !== m.seq + 1) m.recent.clear();
    m.seq = seq;
    m.recent.push(seq, message);
  }

  /**
   * What ViewHub.deltasAfter would answer when it is the deltas since `seq` (none when `seq` is
   * current); undefined when they are not all kept here (the model thread answers then).
   */
  deltasAfter(topic: string, seq: number): { seq: number; messages: Buffer[]; current: true } | undefined {
    const m = this.topics.get(topic);
    if (m === undefined || seq > m.seq) return undefined;
    if (seq === m.seq) return { seq, messages: [], current: true };
    const messages = m.recent.since(seq);
    return messages === null ? undefined : { seq: m.seq, messages, current: true };
  }

  clear(): void {
    this.topics.clear();
    this.watchers.clear();
  }
}
