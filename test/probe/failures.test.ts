/**
 * The probe keeps reporting everything else when a source fails: a missing
 * engine socket, an engine that answers garbage (a fake server on a unix
 * socket: no real engine can be made to), and real processes that exit while
 * /proc is being walked. The failing collector is named, with a code, in the
 * report and in the probe's metrics.
 */
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import t from 'tap';
import { validateReport } from '../../runtime/report';
import { PROBE_METRICS } from '../../runtime/common/telemetry';
import { defaultCollectors } from '../../runtime/probe/collectors';
import { probeIdentity } from '../../runtime/probe/identity';
import { ProbeMetrics } from '../../runtime/probe/metrics';
import { Probe } from '../../runtime/probe/probe';

function probeWith(socketPath: string, metrics?: ProbeMetrics) {
  const identity = probeIdentity();
  const probe = new Probe({
    identity,
    collectors: defaultCollectors({ identity, engineSocket: socketPath }),
    sink: () => undefined,
    collectorTimeoutMs: 5_000,
    ...(metrics ? { onPass: (s) => metrics.pass(s) } : {}),
  });
  return { probe, identity };
}

t.test('engine socket missing: the error is in the report and the metrics; host and processes still reported', async (t) => {
  const metrics = new ProbeMetrics();
  const { probe, identity } = probeWith('/nonexistent/engine.sock', metrics);
  t.teardown(() => probe.stop());
  const r = await probe.fullPass();
  t.ok(validateReport(r).ok);
  t.match(r.errors.filter((e) => e.collector === 'containers'), [{ collector: 'containers', code: 'ENGINE_UNREACHABLE', message: /nonexistent\/engine\.sock|ENOENT/ }]);
  t.ok(r.topologies.host.nodes[identity.hostId], 'host reported');
  t.ok(Object.values(r.topologies.process.nodes).some((n) => n.latest.pid?.v === process.pid), 'our own process reported');
  const text = await metrics.registry.metrics();
  t.match(text, new RegExp(`${PROBE_METRICS.collectorErrors}\\{collector="containers"\\} 1`), 'counted in the metrics');
  t.match(text, new RegExp(`${PROBE_METRICS.collectSeconds}_count\\{collector="processes"\\} 1`));
  t.match(text, /process_resident_memory_bytes \d+/, "the probe's own memory");
});

t.test('engine answering garbage: ENGINE_BAD_RESPONSE in the report; the rest still reported', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'garbage-engine-'));
  const sock = join(dir, 'engine.sock');
  const server = net.createServer((c) => {
    c.on('data', () => c.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n{"not": "a list'));
    c.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(sock, r));
  t.teardown(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const { probe, identity } = probeWith(sock);
  t.teardown(() => probe.stop());
  const r = await probe.fullPass();
  t.match(r.errors.filter((e) => e.collector === 'containers'), [{ collector: 'containers', code: 'ENGINE_BAD_RESPONSE' }]);
  t.ok(r.topologies.host.nodes[identity.hostId]);
  t.ok(Object.keys(r.topologies.process.nodes).length > 5);
  t.same(r.topologies.container.nodes, {});
});

t.test('real processes exiting during the /proc walk: no errors, everything else reported', async (t) => {
  // A shell that keeps forking short-lived children: pids appear and vanish between readdir and read.
  const churn = spawn('sh', ['-c', 'while :; do for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true & done; wait; done'], { stdio: 'ignore', detached: true });
  t.teardown(() => {
    try {
      process.kill(-churn.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  });
  const { probe } = probeWith('/nonexistent/engine.sock');
  t.teardown(() => probe.stop());
  let passes = 0;
  for (let i = 0; i < 15; i++) {
    const r = await probe.fullPass();
    passes++;
    const procErrors = r.errors.filter((e) => e.collector === 'processes' || e.collector === 'connections');
    // EACCES on a few entries of other users' processes is a permission issue, not a vanishing one.
    t.same(procErrors.filter((e) => e.code !== 'EACCES' && e.code !== 'EPERM'), [], `pass ${i + 1}: no vanishing errors`);
    t.ok(Object.values(r.topologies.process.nodes).some((n) => n.latest.pid?.v === churn.pid), 'the churning shell itself is reported');
  }
  t.equal(passes, 15);
});
