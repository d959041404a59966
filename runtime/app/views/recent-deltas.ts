/**
 * A topic's last published deltas, oldest first, within RECENT_DELTAS and RECENT_DELTA_BYTES: a
 * client still receiving a full view at seq n is not subscribed yet, and is sent n+1… from here
 * before it joins the topic. Kept by the topic itself (ViewHub) and by the front thread's copy of
 * it (model-thread/topic-mirror.ts).
 */

/** Bounds of a topic's recent deltas (per topic; a few topics per view). */
export const RECENT_DELTAS = 64;
export const RECENT_DELTA_BYTES = 2 * 1024 * 1024;

/**
 * A message is the JSON text (ViewHub, on the model thread) or its UTF-8 bytes (the front thread's
 * copy: topic-mirror.ts); its size is its `length` either way.
 */
export class RecentDeltas<M extends string | Uint8Array = string> {
  private deltas: Array<{ seq: number; message: M }> = [];
  private bytes = 0;

  /** Keeps the delta published at `seq`, letting the oldest go beyond the bounds. */
  push(seq: number, message: M): void {
    this.deltas.push({ seq, message });
    this.bytes += message.length;
    while (this.deltas.length > RECENT_DELTAS || (this.bytes > RECENT_DELTA_BYTES && this.deltas.length > 0)) this.bytes -= this.deltas.shift()!.message.length;
  }

  /** The deltas after `from`, oldest first, when every one of them is kept; else null. */
  since(from: number): M[] | null {
    const first = this.deltas[0];
    return first !== undefined && first.seq <= from + 1 ? this.deltas.filter((d) => d.seq > from).map((d) => d.message) : null;
  }

  clear(): void {
    this.deltas = [];
    this.bytes = 0;
  }
}
