/**
 * Delta reports carry only what changed: an event-triggered pass (kind
 * 'delta') must not take a fresh stats sample of every idle container, which
 * made every unrelated engine event a report full of metric samples. A fake
 * engine stands in for the real one: the point is which calls are made.
 */
import t from 'tap';
import { ContainersCollector } from '../../runtime/probe/collectors/containers';
import type { DockerEngine } from '../../runtime/probe/engine/docker-engine';
import type { ContainerDetails, EngineContainer } from '../../runtime/probe/engine/types';
import { Probe } from '../../runtime/probe/probe';
import type { Report } from '../../runtime/report';

const ID = 'a'.repeat(64);
const listed: EngineContainer = {
  id: ID,
  name: 'idle',
  image: 'busybox',
  imageId: 'sha256:' + 'b'.repeat(64),
  command: 'sh',
  state: 'running',
  status: 'Up',
  createdAt: 1_700_000_000,
  labels: {},
  ports: [],
  networkMode: 'none',
  ipAddresses: [],
};

function fakeEngine(calls: string[], clock: () => number): DockerEngine {
  let cpu = 0;
  const fake = {
    listContainers: async () => (calls.push('list'), [listed]),
    inspect: async (): Promise<ContainerDetails> => (calls.push('inspect'), { ...listed, pid: 0, restartCount: 0, hostname: 'idle', env: [] }),
    stats: async () => (calls.push('stats'), { cpuPercent: (cpu += 0.5), memoryBytes: 1000 + cpu, memoryLimitBytes: 0, networkRxBytes: 0, networkTxBytes: 0, pids: 1, readAt: new Date(clock() + 20).toISOString() }),
    events: (_on: unknown, signal: AbortSignal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve())),
    close: async () => undefined,
  };
  return fake as unknown as DockerEngine;
}

t.test('a delta pass lists and inspects but takes no stats; each full pass samples after its report', async (t) => {
  const calls: string[] = [];
  const identity = { hostname: 'h', hostId: 'host;h', probeId: 'h/1' };
  let now = 1_000_000;
  const reports: Report[] = [];
  const probe = new Probe({
    identity,
    collectors: [new ContainersCollector({ identity, engine: fakeEngine(calls, () => now) })],
    sink: (r) => reports.push(r),
    clock: () => now,
  });
  t.teardown(() => probe.stop());
  // The fake engine answers at once: one macrotask lets the background sampling finish.
  const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
  const first = await probe.fullPass();
  t.same(first.topologies.container.nodes[`container;${ID}`]?.metrics, {}, 'the first full report has no sample yet');
  await settle();
  t.ok(calls.includes('stats'), 'the full pass starts a stats sampling after its report');
  calls.length = 0;
  now += 10_000; // well past the stats interval: only the pass kind holds stats back
  const delta = await probe.deltaPass(['containers']);
  await settle();
  t.equal(delta, null, 'nothing changed: no delta report');
  t.notOk(calls.includes('stats'), `no stats in the delta pass (${calls.join(',')})`);
  calls.length = 0;
  now += 5_000;
  const second = await probe.fullPass();
  await settle();
  t.ok(calls.includes('stats'), 'the next full pass samples again');
  const m1 = second.topologies.container.nodes[`container;${ID}`]?.metrics.cpu_percent;
  t.same(m1?.samples, [[1_000_020, 0.5]], "the second full report carries the sample taken after the first, at the engine's read time");
  now += 15_000;
  const third = await probe.fullPass();
  t.equal(third.topologies.container.nodes[`container;${ID}`]?.metrics.cpu_percent?.samples.length, 2, 'two samples: one per full pass');
  t.equal(reports.filter((r) => r.kind === 'delta').length, 0);
});
