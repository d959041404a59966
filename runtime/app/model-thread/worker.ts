/**
 * The model thread's entry: a ModelService, its methods called by messages from the front thread
 * (client.ts), its events and answers posted back on the same port through an Outbox, so the
 * front thread sees them in the order they happened here.
 */
import { writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { ModelService } from './service';
import { Outbox } from './outbox';
import { MODEL_THREAD_NAME, isServiceMethod, toWireError, type FrontMessage, type ProcessExiting, type ThreadCall, type ThreadData, type ThreadMessage, type ServiceMethod } from './protocol';

const port = parentPort;
if (port === null) throw new Error('model-thread/worker.ts runs as a worker thread (ModelThread starts it)');

// Named, so that it can be told from the process's other threads (all `node`).
try {
  writeFileSync('/proc/thread-self/comm', MODEL_THREAD_NAME);
} catch {
  // Not Linux, or /proc not mounted: the thread keeps its inherited name.
}

const outbox = new Outbox((m: ThreadMessage) => port.postMessage(m));
/** What may wait for company (see outbox.ts): a report's answer, and the docs and render times a report makes. */
const mayWait = (method: ServiceMethod | null): boolean => method === 'report';
const { options, listenerClosed } = workerData as ThreadData;
const service = new ModelService(options, (event) => outbox.send({ event }, event.type !== 'published'));
// A uWS listener still open when this thread ends aborts the whole process ("uv_loop_close() while
// having open handles", uWebSockets.js 20.30): a fatal error closes the ingest listener first, then
// ends the thread as it would have (the front thread starts a new one, client.ts).
process.on('uncaughtException', (err) => {
  service.closeIngestNow();
  throw err;
});
// A listener that cannot listen ends the thread before it is up: the app's start() fails with why.
outbox.send({ ready: true, ingestPort: service.listenForReports() }, false);

port.on('message', (m: FrontMessage) => {
  if ((m as ProcessExiting).exiting === true) {
    // The process is ending and the front thread is blocked until this is done (client.ts).
    service.closeIngestNow();
    Atomics.store(listenerClosed, 0, 1);
    Atomics.notify(listenerClosed, 0);
    return;
  }
  const call = m as ThreadCall;
  const wait = mayWait(isServiceMethod(call.method) ? call.method : null);
  const answer = (value: unknown): void => outbox.send({ id: call.id, value }, wait);
  const fail = (err: unknown): void => outbox.send({ id: call.id, error: toWireError(err) }, wait);
  try {
    if (!isServiceMethod(call.method)) throw new TypeError(`the model thread has no method ${JSON.stringify(call.method)}`);
    const fn = service[call.method] as (...args: unknown[]) => unknown;
    const value = fn.apply(service, call.args);
    // A method that answers at once is answered at once: its answer then sits between the events
    // sent before it and those after it, as it happened here (the feed's catch-up relies on it);
    // the outbox may gather it with them into one message, never reorder them.
    if (value instanceof Promise) value.then(answer, fail);
    else answer(value);
  } catch (err) {
    fail(err);
  }
  if (call.method === 'close') {
    outbox.flush();
    port.close();
  }
});
