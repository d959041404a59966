/**
 * The layout worker: owns the stable structured layout (runtime/ui/layout.ts)
 * off the page's main thread. The page posts what changed (LayoutRequest); the
 * worker places the new nodes, repacks groups only when one outgrew its room,
 * and posts back positions in a transferred Float32Array (LayoutReply): only
 * the nodes it placed, or every node when groups moved.
 *
 * Bundled on its own by runtime/ui/build.ts (assets/layout-<hash>.js) and
 * started by runtime/ui/layout-client.ts.
 */
import { StableLayout } from './layout';
import { requestProblem, type LayoutMessage, type LayoutReply, type LayoutRequest } from './layout-protocol';

interface WorkerScope {
  onmessage: ((e: MessageEvent<unknown>) => void) | null;
  postMessage(message: LayoutMessage, transfer?: Transferable[]): void;
  /** Read by the UI tests through the worker (what the worker has placed), never by the page. */
  orchestratorLayout?: { placed(): number; requests(): number; position(id: string): [number, number] | null };
}

const scope = self as unknown as WorkerScope;
const layout = new StableLayout();
let requests = 0;

function answer(req: LayoutRequest): LayoutReply {
  const t0 = performance.now();
  if (req.clear) layout.clear();
  for (const id of req.remove) layout.remove(id);
  for (const [id, group] of req.place) layout.place(id, group);
  const moved = layout.pack() || req.clear;
  // Unchanged nodes keep their slot: send them again only if their group moved.
  const ids = moved ? [...layout.ids()] : req.place.map(([id]) => id).filter((id) => layout.has(id));
  const xy = new Float32Array(ids.length * 2);
  for (let i = 0; i < ids.length; i++) {
    const p = layout.position(ids[i]!)!;
    xy[2 * i] = p.x;
    xy[2 * i + 1] = p.y;
  }
  const groups = [...layout.groupKeys()];
  const groupGeo = new Float32Array(groups.length * 3);
  for (let i = 0; i < groups.length; i++) {
    const c = layout.groupCenter(groups[i]!)!;
    groupGeo[3 * i] = c.x;
    groupGeo[3 * i + 1] = c.y;
    groupGeo[3 * i + 2] = layout.groupRadius(groups[i]!);
  }
  const b = layout.bounds();
  return { type: 'positions', seq: req.seq, all: moved, ids, xy, groups, groupGeo, bounds: [b.x[0], b.x[1], b.y[0], b.y[1]], ms: performance.now() - t0 };
}

scope.onmessage = (e) => {
  requests++;
  const problem = requestProblem(e.data);
  const seq = typeof (e.data as { seq?: unknown })?.seq === 'number' ? (e.data as { seq: number }).seq : -1;
  if (problem) {
    scope.postMessage({ type: 'error', seq, code: 'LAYOUT_BAD_REQUEST', message: `layout request refused: ${problem}` });
    return;
  }
  try {
    const reply = answer(e.data as LayoutRequest);
    scope.postMessage(reply, [reply.xy.buffer, reply.groupGeo.buffer]);
  } catch (err) {
    scope.postMessage({ type: 'error', seq, code: 'LAYOUT_FAILED', message: `layout failed: ${(err as Error).message}` });
  }
};

scope.orchestratorLayout = {
  placed: () => layout.size,
  requests: () => requests,
  position: (id) => {
    const p = layout.position(id);
    return p ? [Math.fround(p.x), Math.fround(p.y)] : null;
  },
};
