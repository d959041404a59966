/**
 * The container collector's table and its calls to the engine: a full pass
 * with the event stream open asks the engine nothing (the table is kept by
 * events, a list when the stream opens, and the upkeep after each full pass);
 * an event refreshes the table before the delta pass it triggers reads it; a
 * delta pass takes no stats (a delta carries only the change that caused it);
 * the first full report already has metrics. A fake engine stands in for the
 * real one: the point is which calls are made, and when. (The real engine:
 * containers.test.ts.)
 */
import t, { type Test } from 'tap';
import { ContainersCollector } from '../../runtime/probe/collectors/containers';
import type { DockerEngine } from '../../runtime/probe/engine/docker-engine';
import type { ContainerDetails, ContainerEvent, EngineContainer } from '../../runtime/probe/engine/types';
import { Probe } from '../../runtime/probe/probe';
import type { Report } from '../../runtime/report';

const ID = 'a'.repeat(64);
const NODE = `container;${ID}`;
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

interface Fake {
  engine: DockerEngine;
  calls: string[];
  /** The container's state as the fake engine reports it. */
  state: { current: EngineContainer['state'] };
  /** Sends an event on the open stream. */
  emit(e: ContainerEvent): void;
}

function fakeEngine(clock: () => number, opts: { streamOpens: boolean }): Fake {
  let cpu = 0;
  const calls: string[] = [];
  const state = { current: listed.state };
  let onEvent: ((e: ContainerEvent) => void) | null = null;
  const fake = {
    listContainers: async () => (calls.push('list'), [{ ...listed, state: state.current }]),
    inspect: async (): Promise<ContainerDetails> => (calls.push('inspect'), { ...listed, state: state.current, pid: 0, restartCount: 0, hostname: 'idle', env: [] }),
    stats: async () => (calls.push('stats'), { cpuPercent: (cpu += 0.5), memoryBytes: 1000 + cpu, memoryLimitBytes: 0, networkRxBytes: 0, networkTxBytes: 0, pids: 1, readAt: new Date(clock() + 20).toISOString() }),
    events: (on: (e: ContainerEvent) => void, signal: AbortSignal, onOpen?: () => void) => {
      onEvent = on;
      if (opts.streamOpens) onOpen?.();
      return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
    },
    close: async () => undefined,
  };
  return { engine: fake as unknown as DockerEngine, calls, state, emit: (e) => onEvent!(e) };
}

// The upkeep starts on a timer set after the pass (due at once); a later timer fires after it, and
// the fake engine answers at once, so a macrotask after that finds it done.
const settle = async (): Promise<void> => {
  await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setImmediate(r));
};

function setup(t: Test, streamOpens: boolean) {
  const identity = { hostname: 'h', hostId: 'host;h', probeId: 'h/1' };
  const clock = { now: 1_000_000 };
  const fake = fakeEngine(() => clock.now, { streamOpens });
  const reports: Report[] = [];
  const probe = new Probe({
    identity,
    collectors: [new ContainersCollector({ identity, engine: fake.engine })],
    sink: (r) => {
      fake.calls.push(`report:${r.kind}`);
      reports.push(r);
    },
    clock: () => clock.now,
  });
  t.teardown(() => probe.stop());
  return { probe, fake, clock, reports };
}

t.test('stream open: passes read the table; events refresh it; stats only off the path of later full passes', async (t) => {
  const { probe, fake, clock, reports } = setup(t, true);
  const { calls } = fake;

  const first = await probe.fullPass();
  t.same(first.topologies.container.nodes[NODE]?.metrics.cpu_percent?.samples, [[1_000_020, 0.5]], 'the first full report has a sample, taken on its path');
  t.same(calls, ['list', 'inspect', 'stats', 'report:full'], 'the list made when the stream opened, its inspect, the first sampling');
  await settle();
  t.same(calls.slice(4), ['list'], 'after the report, the upkeep lists again (stats not due yet)');

  calls.length = 0;
  clock.now += 10_000; // past the stats interval: only the pass kind holds stats back
  fake.state.current = 'paused';
  fake.emit({ id: ID, action: 'pause', time: clock.now, attributes: {} });
  const delta = await probe.deltaPass(['containers']);
  t.equal(delta?.kind, 'delta', 'the event-triggered pass reports the change');
  t.equal(delta?.kind === 'delta' ? delta.patches?.container?.[NODE]?.latest?.state?.v : undefined, 'paused', 'read from the table the event refreshed (the node of the base patched)');
  t.same(calls, ['list', 'inspect', 'report:delta'], `the event's refresh, no stats (${calls.join(',')})`);
  await settle();
  t.same(calls.slice(3), [], 'a delta pass schedules no upkeep');

  calls.length = 0;
  fake.state.current = 'running';
  fake.emit({ id: ID, action: 'unpause', time: clock.now, attributes: {} });
  await settle(); // the refresh lands before the next pass
  calls.length = 0;
  clock.now += 5_000;
  const second = await probe.fullPass();
  t.same(calls, ['report:full'], 'a full pass with the stream open asks the engine nothing');
  t.equal(second.topologies.container.nodes[NODE]?.latest.state?.v, 'running');
  t.equal(second.topologies.container.nodes[NODE]?.metrics.cpu_percent?.samples.length, 1, 'no new sample yet: the upkeep after this pass takes it');
  await settle();
  t.same(calls.slice(1), ['list', 'stats'], 'the upkeep: reconciliation list, then stats now due');

  clock.now += 15_000;
  const third = await probe.fullPass();
  t.same(third.topologies.container.nodes[NODE]?.metrics.cpu_percent?.samples, [[1_015_020, 1]], 'the sample the upkeep took, at the engine read time (the newest only: the app keeps the history)');
  t.equal(reports.filter((r) => r.kind === 'delta').length, 1);
});

t.test('stream never opens: each pass lists on its path, as without events', async (t) => {
  const { probe, fake, clock } = setup(t, false);
  const { calls } = fake;
  await probe.fullPass();
  t.same(calls, ['list', 'inspect', 'stats', 'report:full']);
  await settle();
  calls.length = 0;
  clock.now += 15_000;
  await probe.fullPass();
  t.same(calls.filter((c) => c !== 'stats'), ['list', 'report:full'], 'listed on the path: the table cannot be trusted without the stream');
});
