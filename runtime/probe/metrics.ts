/**
 * The probe's own metrics (`--metrics-listen HOST:PORT`): `/metrics` in the
 * Prometheus text format (prom-client) and `/healthz`.
 *
 * Names come from runtime/common/telemetry.ts, which the Kubernetes manifests
 * (scrape jobs, alerts) read too. prom-client is loaded only when metrics are
 * asked for: it costs several MB of resident memory, a sizeable part of the
 * probe's budget, and a probe without a listener would never show them.
 */
import { createServer, type Server } from 'node:http';
import type { Counter, Histogram, Registry } from 'prom-client';
import { PROBE_EXTRA_METRICS, PROBE_HEALTH_PATH, PROBE_METRICS, PROBE_METRICS_PATH } from '../common/telemetry';
import type { PassStats } from './probe';
import type { PublishObserver } from './publisher';

/** Adds one of prom-client's default metric sets to a registry (prom-client/lib/metrics/*.js). */
type DefaultMetricSet = (registry: Registry) => void;

/* eslint-disable @typescript-eslint/no-require-imports */
/**
 * The default metrics the probe exports: CPU time, start time, resident and
 * virtual memory, V8 heap size and use, open and maximum fds. Loaded one by
 * one instead of `collectDefaultMetrics`, which also starts an event-loop
 * delay histogram (perf_hooks, about 0.4 MB of native memory) and a GC
 * observer, and adds handles, requests, resources, heap spaces and version:
 * memory and work the probe would spend on every host for series nobody reads
 * (the dashboards and alerts read process_cpu_seconds_total and
 * process_resident_memory_bytes). Called only once prom-client is loaded.
 */
function processMetricSets(): DefaultMetricSet[] {
  return [
    require('prom-client/lib/metrics/processCpuTotal.js') as DefaultMetricSet,
    require('prom-client/lib/metrics/processStartTime.js') as DefaultMetricSet,
    require('prom-client/lib/metrics/osMemoryHeap.js') as DefaultMetricSet,
    require('prom-client/lib/metrics/heapSizeAndUsed.js') as DefaultMetricSet,
    require('prom-client/lib/metrics/processOpenFileDescriptors.js') as DefaultMetricSet,
    require('prom-client/lib/metrics/processMaxFileDescriptors.js') as DefaultMetricSet,
  ];
}
/* eslint-enable @typescript-eslint/no-require-imports */

export class ProbeMetrics implements PublishObserver {
  readonly registry: Registry;
  private readonly collectSeconds: Histogram<'collector'>;
  private readonly collectorErrors: Counter<'collector'>;
  private readonly reportBytes: Histogram;
  private readonly published_: Counter;
  private readonly publishErrors: Counter<'reason'>;
  private readonly publishSeconds: Histogram;
  private readonly dropped_: Counter<'reason'>;
  private readonly controls: Counter<'control' | 'outcome'>;
  private readonly passSeconds: Histogram<'kind'>;

  constructor() {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const prom = require('prom-client') as typeof import('prom-client');
    this.registry = new prom.Registry();
    const registers = [this.registry];
    // The probe's own cost (process_cpu_seconds_total, process_resident_memory_bytes, heap sizes, fds).
    for (const add of processMetricSets()) add(this.registry);
    this.collectSeconds = new prom.Histogram({
      name: PROBE_METRICS.collectSeconds,
      help: 'Time one collector took in one pass',
      labelNames: ['collector'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.collectorErrors = new prom.Counter({ name: PROBE_METRICS.collectorErrors, help: 'Passes in which the collector failed', labelNames: ['collector'], registers });
    this.reportBytes = new prom.Histogram({
      name: PROBE_METRICS.reportBytes,
      help: 'Encoded (gzip) size of each report sent',
      buckets: [1e3, 4e3, 16e3, 64e3, 256e3, 1e6, 4e6, 16e6],
      registers,
    });
    this.published_ = new prom.Counter({ name: PROBE_METRICS.reportsPublished, help: 'Reports accepted by an app', registers });
    this.publishErrors = new prom.Counter({ name: PROBE_METRICS.publishErrors, help: 'Publish attempts that failed, by reason', labelNames: ['reason'], registers });
    this.publishSeconds = new prom.Histogram({
      name: PROBE_METRICS.publishSeconds,
      help: "Time from sending a report to the app's answer",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.dropped_ = new prom.Counter({ name: PROBE_EXTRA_METRICS.reportsDropped, help: 'Reports dropped from a publish queue, by reason', labelNames: ['reason'], registers });
    this.controls = new prom.Counter({ name: PROBE_EXTRA_METRICS.controls, help: 'Container controls run, by control and outcome', labelNames: ['control', 'outcome'], registers });
    this.passSeconds = new prom.Histogram({
      name: PROBE_EXTRA_METRICS.passSeconds,
      help: 'Time of one whole pass (full or delta)',
      labelNames: ['kind'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    // Make the series exist at 0 so rate() and alerts work before the first error.
    this.publishErrors.labels('network').inc(0);
  }

  pass(stats: PassStats): void {
    this.passSeconds.observe({ kind: stats.kind }, stats.durationMs / 1000);
    for (const c of stats.collectors) {
      if (c.ran) this.collectSeconds.observe({ collector: c.name }, c.durationMs / 1000);
      if (c.ran && !c.ok) this.collectorErrors.inc({ collector: c.name });
    }
  }

  published(_app: string, bytes: number, seconds: number): void {
    this.published_.inc();
    this.reportBytes.observe(bytes);
    this.publishSeconds.observe(seconds);
  }

  failed(_app: string, reason: string, seconds: number): void {
    this.publishErrors.inc({ reason });
    this.publishSeconds.observe(seconds);
  }

  dropped(_app: string, reason: string): void {
    this.dropped_.inc({ reason });
  }

  control(control: string, outcome: string): void {
    this.controls.inc({ control, outcome });
  }
}

/** Parses HOST:PORT ([v6]:PORT too). */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new Error(`not HOST:PORT: ${JSON.stringify(text)} (e.g. 0.0.0.0:4041)`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export interface MetricsServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** `/metrics` and `/healthz`; health is whatever `healthy()` says (200 ok / 503 with the reason). */
export async function startMetricsServer(listen: string, metrics: ProbeMetrics, healthy: () => { ok: boolean; detail: object }): Promise<MetricsServer> {
  const { host, port } = parseListen(listen);
  const server = createServer((req, res) => {
    // No Date header: Prometheus does not read it, and formatting it loads ICU's time zones (memory.ts, isoTimeUtc).
    res.sendDate = false;
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === PROBE_METRICS_PATH) {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(err.message),
      );
      return;
    }
    if (path === PROBE_HEALTH_PATH) {
      const h = healthy();
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: h.ok ? 'ok' : 'failing', ...h.detail }));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  return {
    server,
    port: typeof addr === 'object' && addr ? addr.port : port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
