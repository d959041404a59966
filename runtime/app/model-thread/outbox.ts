/**
 * What the model thread sends the front thread, in the order it happened there, gathered into
 * fewer messages.
 *
 * Why: every message wakes the front thread, and on this machine kind a postMessage to a thread
 * asleep in its event loop took ~130 µs against ~20 µs to one that is busy (a wake-up in the VM's
 * kernel; docs/app.md, round 12), more than most of what the message carries. At 1,000 probes the model thread answered 67 reports a second
 * and published about 20 view ticks, each in a message of its own. A report's answer, and the
 * search docs and render times that come with it, may wait up to `waitMs` and go with whatever
 * follows them: a probe does not notice its 202 coming 20 ms later. Anything else (a view tick's
 * deltas, an answer to a person's REST call or a feed's subscribe) goes at once, carrying what
 * waited before it, so the order is never changed.
 */
import type { ThreadMessage } from './protocol';

/** Longest an answer to a report (and what came with it) waits for company. */
export const OUTBOX_WAIT_MS = 20;

export class Outbox {
  private queue: ThreadMessage[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly post: (m: ThreadMessage) => void,
    private readonly waitMs = OUTBOX_WAIT_MS,
  ) {}

  /** Sends `m` after everything sent before it: now, or within `waitMs` when it `canWait`. */
  send(m: ThreadMessage, canWait: boolean): void {
    this.queue.push(m);
    if (!canWait) this.flush();
    else if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), this.waitMs);
      // Waiting answers do not keep the thread alive: it ends only when told to (`close`), which flushes.
      this.timer.unref();
    }
  }

  /** Posts what waits, as one message (one of its own when alone). */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.queue.length === 0) return;
    const q = this.queue;
    this.queue = [];
    this.post(q.length === 1 ? q[0]! : { batch: q });
  }
}
