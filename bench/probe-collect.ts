/**
 * One full collection of the probe (host + processes + connections, assembled
 * into a report) on this machine, under a stated load:
 *
 *   - 1,000 extra sleeping processes (`sleep`, children of one shell);
 *   - 2,000 loopback TCP connections (one node server, four node clients with
 *     500 connections each: 4,000 sockets in /proc/net/tcp).
 *
 * Cold passes use a new probe each time (no cache: every cmdline, status,
 * cgroup read, every fd scanned); warm passes reuse one probe, as the running
 * probe does. Prints one JSON line per pass and a summary line; CPU is this
 * process's user+system time during the pass. Everything started here is
 * killed at the end, and the whole run is bounded by a deadline.
 *
 *     npx tsx bench/probe-collect.ts [--passes 20] [--procs 1000] [--conns 2000]
 */
import { performance } from 'node:perf_hooks';
import { encodeReportSync, validateReport, type FullReport } from '../runtime/report';
import { defaultCollectors } from '../runtime/probe/collectors';
import { ConnectionsCollector } from '../runtime/probe/collectors/connections';
import { probeIdentity } from '../runtime/probe/identity';
import { Probe } from '../runtime/probe/probe';
import { HostLoad } from './lib/host-load';
import { numberFlag } from './lib/args';

const PASSES = numberFlag('passes', 20);
const PROCS = numberFlag('procs', 1000);
const CONNS = numberFlag('conns', 2000);
const CLIENTS = 4;
const DEADLINE_MS = 240_000;

const load = new HostLoad();
const cleanup = (): void => load.stop();

async function startLoad(): Promise<void> {
  console.log(JSON.stringify({ load: await load.start(PROCS, CONNS, CLIENTS) }));
}

interface PassSample {
  wallMs: number;
  cpuMs: number;
}

async function measure(probe: Probe): Promise<{ sample: PassSample; report: FullReport }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const report = await probe.fullPass();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { sample: { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 }, report };
}

function newProbe(): { probe: Probe; connections: ConnectionsCollector } {
  const identity = probeIdentity();
  const collectors = defaultCollectors({ identity });
  return { probe: new Probe({ identity, collectors, sink: () => undefined }), connections: collectors[2] as ConnectionsCollector };
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const r1 = (x: number): number => Math.round(x * 10) / 10;

function counts(r: FullReport): { processes: number; endpoints: number; processEdges: number } {
  const edges = Object.values(r.topologies.process.nodes).reduce((a, n) => a + n.adjacency.length, 0);
  return { processes: Object.keys(r.topologies.process.nodes).length, endpoints: Object.keys(r.topologies.endpoint.nodes).length, processEdges: edges };
}

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    console.error('bench: deadline reached, cleaning up');
    cleanup();
    process.exit(1);
  }, DEADLINE_MS);
  deadline.unref();
  await startLoad();

  const cold: PassSample[] = [];
  for (let i = 0; i < PASSES; i++) {
    const { probe } = newProbe();
    const { sample, report } = await measure(probe);
    await probe.stop(); // closes the /proc files its processes collector holds open
    cold.push(sample);
    console.log(JSON.stringify({ phase: 'cold', pass: i + 1, wallMs: r1(sample.wallMs), cpuMs: r1(sample.cpuMs), ...counts(report) }));
  }

  const { probe, connections } = newProbe();
  await probe.fullPass(); // fills the caches, as the first pass of a running probe does
  const warm: PassSample[] = [];
  let last: FullReport | null = null;
  const rss: number[] = [];
  for (let i = 0; i < PASSES; i++) {
    await new Promise((r) => setTimeout(r, 50)); // let sockets and timers breathe between passes
    const { sample, report } = await measure(probe);
    warm.push(sample);
    last = report;
    rss.push(process.memoryUsage.rss());
    console.log(JSON.stringify({ phase: 'warm', pass: i + 1, wallMs: r1(sample.wallMs), cpuMs: r1(sample.cpuMs), rescans: connections.rescans, ...counts(report) }));
  }

  const json = JSON.stringify(last);
  const encoded = encodeReportSync(last!);
  const v0 = performance.now();
  const valid = validateReport(JSON.parse(json));
  const validateMs = performance.now() - v0;

  const warmCpu = pct(warm.map((s) => s.cpuMs), 50);
  const summary = {
    summary: 'probe-collect',
    load: { extraProcesses: PROCS, loopbackConnections: CONNS },
    passes: PASSES,
    cold: { wallMedianMs: r1(pct(cold.map((s) => s.wallMs), 50)), wallP95Ms: r1(pct(cold.map((s) => s.wallMs), 95)), cpuMedianMs: r1(pct(cold.map((s) => s.cpuMs), 50)) },
    warm: { wallMedianMs: r1(pct(warm.map((s) => s.wallMs), 50)), wallP95Ms: r1(pct(warm.map((s) => s.wallMs), 95)), cpuMedianMs: r1(warmCpu), cpuP95Ms: r1(pct(warm.map((s) => s.cpuMs), 95)) },
    cpuPercentOfOneCoreAt15s: Math.round((warmCpu / 15_000) * 100 * 1000) / 1000,
    fdRescansInWarmPasses: connections.rescans,
    report: { ...counts(last!), jsonBytes: json.length, gzipBytes: encoded.length, validateMs: r1(validateMs), valid: valid.ok },
    rssMb: { afterWarm: Math.round(rss[rss.length - 1]! / 1e6), peak: Math.round(Math.max(...rss) / 1e6) },
  };
  console.log(JSON.stringify(summary));
  const s = summary;
  console.log(
    `probe-collect: ${s.load.extraProcesses} extra processes + ${s.load.loopbackConnections} loopback connections (${s.report.processes} process nodes, ${s.report.processEdges} edges): ` +
      `cold pass median ${s.cold.wallMedianMs} ms (p95 ${s.cold.wallP95Ms}), warm median ${s.warm.wallMedianMs} ms (p95 ${s.warm.wallP95Ms}), ` +
      `warm CPU ${s.warm.cpuMedianMs} ms/pass = ${s.cpuPercentOfOneCoreAt15s}% of one core at 15 s; report ${s.report.gzipBytes} B gzip; RSS ${s.rssMb.peak} MB`,
  );
  cleanup();
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
    cleanup();
  })
  .finally(() => {
    // the clients' sockets keep the loop alive otherwise
    setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref();
  });

process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});
