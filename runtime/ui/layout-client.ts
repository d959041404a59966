/**
 * The page's side of the layout worker: starts it from its bundled file
 * (assets/layout-<hash>.js, same origin, so the page's CSP allows it without
 * blob: or 'unsafe-eval'), posts what changed and hands positions to the
 * graph. The page only applies positions; it never computes one.
 */
import type { LayoutMessage, LayoutReply, LayoutRequest } from './layout-protocol';

/** The worker's URL, written into the bundle by runtime/ui/build.ts. */
declare const LAYOUT_WORKER_URL: string;

export class LayoutError extends Error {
  constructor(
    readonly code: 'LAYOUT_WORKER_FAILED' | 'LAYOUT_BAD_REQUEST' | 'LAYOUT_FAILED',
    message: string,
  ) {
    super(message);
    this.name = 'LayoutError';
  }
}

export class LayoutClient {
  private readonly worker: Worker;
  private seq = 0;

  constructor(
    private readonly onPositions: (reply: LayoutReply, latest: boolean) => void,
    private readonly onError: (err: LayoutError) => void,
  ) {
    this.worker = new Worker(LAYOUT_WORKER_URL, { name: 'layout' });
    this.worker.onmessage = (e: MessageEvent<LayoutMessage>) => {
      const m = e.data;
      if (m.type === 'error') this.onError(new LayoutError(m.code, m.message));
      else this.onPositions(m, m.seq === this.seq);
    };
    this.worker.onerror = (e) => {
      e.preventDefault();
      this.onError(new LayoutError('LAYOUT_WORKER_FAILED', `the layout worker failed: ${e.message || `could not start ${LAYOUT_WORKER_URL}`}`));
    };
    this.worker.onmessageerror = () => this.onError(new LayoutError('LAYOUT_FAILED', 'a layout reply could not be read'));
  }

  /** Sends the changes; returns the request's seq (the reply with this seq is the latest). */
  post(change: Omit<LayoutRequest, 'seq'>): number {
    const req: LayoutRequest = { seq: ++this.seq, ...change };
    this.worker.postMessage(req);
    return req.seq;
  }

  terminate(): void {
    this.worker.terminate();
  }
}
