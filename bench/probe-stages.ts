/**
 * Where the time of a connections pass goes, on whatever load this host has now
 * (run it next to bench/probe.ts's load, or any busy host):
 * per stage (process walk, tcp tables per netns, fd rescans, join) and how
 * many rescans/readlinks each pass did. One JSON line per pass.
 *
 *     npx tsx bench/probe-stages.ts [--passes 10] [--sleep-ms 200]
 */
import { performance } from 'node:perf_hooks';
import { ConnectionsCollector } from '../runtime/probe/collectors/connections';
import { HostCollector } from '../runtime/probe/collectors/host';
import { ProcessesCollector } from '../runtime/probe/collectors/processes';
import { probeIdentity } from '../runtime/probe/identity';
import { numberFlag } from './lib/args';


async function main(): Promise<void> {
  const identity = probeIdentity();
  const host = new HostCollector({ identity });
  const processes = new ProcessesCollector({ identity });
  const connections = new ConnectionsCollector({ identity, processes });
  for (let i = 0; i < numberFlag('passes', 10); i++) {
    const now = Date.now();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await host.collect(now);
    const t1 = performance.now();
    await processes.collect(now);
    const t2 = performance.now();
    const r0 = connections.rescans;
    const s0 = { ...connections.scans };
    const tb0 = { read: connections.stats.tablesRead, skipped: connections.stats.tablesSkipped };
    const res = await connections.collect(now);
    const t3 = performance.now();
    const cpu = process.cpuUsage(c0);
    const ns = new Set([...processes.processTable()!.byPid.values()].map((e) => e.netns)).size;
    console.log(
      JSON.stringify({
        pass: i + 1,
        hostMs: +(t1 - t0).toFixed(1),
        processesMs: +(t2 - t1).toFixed(1),
        connectionsMs: +(t3 - t2).toFixed(1),
        cpuMs: +((cpu.user + cpu.system) / 1000).toFixed(1),
        netns: ns,
        rescans: connections.rescans - r0,
        scans: { targeted: connections.scans.targeted - s0.targeted, fdDirs: connections.scans.dirs - s0.dirs, links: connections.scans.links - s0.links },
        tables: { read: connections.stats.tablesRead - tb0.read, skipped: connections.stats.tablesSkipped - tb0.skipped },
        edges: Object.values(res.nodes.process ?? {}).reduce((a, n) => a + n.adjacency.length, 0),
        rssMb: Math.round(process.memoryUsage.rss() / 1e6),
      }),
    );
    await new Promise((r) => setTimeout(r, numberFlag('sleep-ms', 200)));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
