/**
 * The app's Prometheus metrics, in a registry of its own (not prom-client's
 * global one), so that two apps in one process (tests) do not share counters.
 * Names come from runtime/common/app-constants.ts, which the manifests read too.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { APP_METRICS } from '../common/app-constants';
import type { IngestCounts } from './model-thread/ingest-listener';
import { LOOP_DELAY_QUANTILES, LOOP_DELAY_RESOLUTION_MS, LoopDelay } from './loop-delay';

/**
 * The front (main) thread's delay, per scrape interval (loop-delay.ts). Every request and
 * published delta waits behind whatever runs on that thread (HTTP, publishing, search, a GC pause
 * of its small heap; the model has a thread of its own), so its tail is the floor of the API's
 * latency tail.
 */
export const EVENT_LOOP_DELAY_METRIC = APP_METRICS.eventLoopDelaySeconds;
/**
 * The model thread's delay, per scrape interval: what a report, a render or a subscribe waits
 * behind there (another report's merge, a view's tick, a collection of the model's heap).
 */
export const MODEL_LOOP_DELAY_METRIC = APP_METRICS.modelThreadLoopDelaySeconds;

/**
 * The model thread's V8 heap (used and total bytes; Node's default `nodejs_heap_*` metrics are
 * the front thread's own): where most of the app's memory is.
 */
export const MODEL_HEAP_METRIC = APP_METRICS.modelThreadHeapBytes;

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface GaugeSources {
  probes: () => { live: number; stale: number };
  containers: () => number;
  viewNodes: () => Array<{ view: string; nodes: number }>;
  websocketClients: () => Array<{ kind: string; clients: number }>;
  modelHeap: () => { used: number; total: number };
  /** The model thread's loop delay at LOOP_DELAY_QUANTILES, seconds, since the previous scrape. */
  modelLoopDelay: () => readonly number[];
}

export class AppMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'code'>;
  private readonly requestSeconds: Histogram<'route' | 'code'>;
  readonly reports: Counter<'kind' | 'result'>;
  readonly ingestSeconds: Histogram;
  readonly mergeSeconds: Histogram;
  readonly renderSeconds: Histogram<'view'>;
  readonly deltaLatency: Histogram;
  readonly searchSeconds: Histogram;
  readonly websocketResets: Counter;
  readonly controls: Counter<'control' | 'result'>;
  private readonly loopDelay = new LoopDelay();

  constructor(sources: GaugeSources) {
    const registers = [this.registry];
    /** One thread's loop delay: `read` gives it at LOOP_DELAY_QUANTILES since the previous scrape. */
    const loopDelayGauge = (name: string, thread: string, read: () => readonly number[]): void => {
      new Gauge({
        name,
        help: `${thread} event loop delay since the previous scrape, by quantile (1: the maximum), sampled every ${LOOP_DELAY_RESOLUTION_MS} ms`,
        labelNames: ['quantile'],
        registers,
        collect() {
          read().forEach((s, i) => this.set({ quantile: String(LOOP_DELAY_QUANTILES[i]) }, s));
        },
      });
    };
    loopDelayGauge(EVENT_LOOP_DELAY_METRIC, 'Front (main) thread', () => this.loopDelay.take());
    loopDelayGauge(MODEL_LOOP_DELAY_METRIC, 'Model thread', sources.modelLoopDelay);
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({ name: APP_METRICS.httpRequestsTotal, help: 'HTTP requests by route pattern and status code', labelNames: ['route', 'code'], registers });
    this.requestSeconds = new Histogram({
      name: APP_METRICS.httpRequestSeconds,
      help: 'HTTP request duration by route pattern and status code',
      labelNames: ['route', 'code'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.reports = new Counter({ name: APP_METRICS.reportsTotal, help: 'Reports received by kind and result', labelNames: ['kind', 'result'], registers });
    this.ingestSeconds = new Histogram({ name: APP_METRICS.ingestSeconds, help: 'Time to decode, validate and apply one report', buckets: LATENCY_BUCKETS, registers });
    this.mergeSeconds = new Histogram({ name: APP_METRICS.mergeSeconds, help: 'Time to apply one validated report to the live model', buckets: LATENCY_BUCKETS, registers });
    this.renderSeconds = new Histogram({ name: APP_METRICS.renderSeconds, help: 'Time to render one view', labelNames: ['view'], buckets: LATENCY_BUCKETS, registers });
    this.deltaLatency = new Histogram({
      name: APP_METRICS.deltaLatencySeconds,
      help: 'Time from the arrival of a report to the publication of the WebSocket delta it caused',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.searchSeconds = new Histogram({ name: APP_METRICS.searchSeconds, help: 'Search query time', buckets: LATENCY_BUCKETS, registers });
    this.websocketResets = new Counter({ name: APP_METRICS.websocketResets, help: 'WebSocket clients reset for falling behind', registers });
    this.controls = new Counter({ name: APP_METRICS.controlsTotal, help: 'Controls requested, by control and result', labelNames: ['control', 'result'], registers });
    new Gauge({
      name: APP_METRICS.probesConnected,
      help: 'Probes whose reports are current (not stale)',
      registers,
      collect() {
        this.set(sources.probes().live);
      },
    });
    new Gauge({
      name: APP_METRICS.probesStale,
      help: 'Probes silent for three intervals, not yet removed',
      registers,
      collect() {
        this.set(sources.probes().stale);
      },
    });
    new Gauge({
      name: APP_METRICS.containersTotal,
      help: 'Containers in the live model',
      registers,
      collect() {
        this.set(sources.containers());
      },
    });
    new Gauge({
      name: APP_METRICS.viewNodes,
      help: 'Nodes per view (kept from the live model\'s changes; counting renders nothing)',
      labelNames: ['view'],
      registers,
      collect() {
        for (const v of sources.viewNodes()) this.set({ view: v.view }, v.nodes);
      },
    });
    new Gauge({
      name: MODEL_HEAP_METRIC,
      help: 'The model thread\'s V8 heap in bytes, used and total (nodejs_heap_size_* are the front thread\'s)',
      labelNames: ['state'],
      registers,
      collect() {
        const h = sources.modelHeap();
        this.set({ state: 'used' }, h.used);
        this.set({ state: 'total' }, h.total);
      },
    });
    new Gauge({
      name: APP_METRICS.websocketClients,
      help: 'Open WebSockets by kind (view feed, probe control channel)',
      labelNames: ['kind'],
      registers,
      collect() {
        for (const c of sources.websocketClients()) this.set({ kind: c.kind }, c.clients);
      },
    });
  }

  /** Stops sampling the event loop (the app stopped). */
  close(): void {
    this.loopDelay.close();
  }

  /** What the model thread's ingest listener counted (model-thread/ingest-listener.ts IngestTally). */
  addIngestCounts(c: IngestCounts): void {
    for (const [route, code, seconds] of c.requests) this.http(route, code, seconds);
    for (const [kind, result] of c.reports) this.reports.inc({ kind, result });
    for (const s of c.mergeSeconds) this.mergeSeconds.observe(s);
    for (const s of c.ingestSeconds) this.ingestSeconds.observe(s);
  }

  http(route: string, code: number, seconds: number): void {
    const labels = { route, code: String(code) };
    this.requests.inc(labels);
    this.requestSeconds.observe(labels, seconds);
  }
}
