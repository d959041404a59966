/**
 * The container collector against a REAL engine (Podman's Docker-compatible
 * API on a private socket, real busybox containers), inside the real probe
 * loop with the real /proc collectors; and a container start reaching the
 * publisher's POST (received by a small HTTP server here that decodes with
 * runtime/report's codec) as an immediate report.
 */
import { createServer, type IncomingMessage } from 'node:http';
import t from 'tap';
import { decodeReport, containerNodeId, podNodeId, validateReport, type FullReport, type NodePatch, type Report, type TopologyName } from '../../runtime/report';
import { REPORT_PATH } from '../../runtime/control/protocol';
import { defaultCollectors } from '../../runtime/probe/collectors';
import { ContainersCollector, controlsFor, labelKey } from '../../runtime/probe/collectors/containers';
import { DockerEngine } from '../../runtime/probe/engine/docker-engine';
import { probeIdentity } from '../../runtime/probe/identity';
import { Probe } from '../../runtime/probe/probe';
import { Publisher } from '../../runtime/probe/publisher';
import { ensureBusyboxImage, podmanSkipReason, removeContainer, runContainer, startPodmanEngine, uniqueContainerName, BUSYBOX_IMAGE } from '../helpers/podman';
import { sleep } from './helpers';

/** A node as a delta carries it: whole (new since its base), or the members that changed (a patch of the base's node). */
function inDelta(r: Report | null, t: TopologyName, id: string): NodePatch | undefined {
  if (r?.kind !== 'delta') return undefined;
  return r.patches?.[t]?.[id] ?? r.topologies[t].nodes[id];
}

const IDLE = ['sh', '-c', "trap 'exit 0' TERM; while :; do sleep 0.2; done"];

t.test('pure: controls per state and label keys', async (t) => {
  t.same(controlsFor('running'), ['logs', 'pause', 'remove', 'restart', 'stop']);
  t.same(controlsFor('paused'), ['logs', 'remove', 'stop', 'unpause']);
  t.same(controlsFor('exited'), ['logs', 'remove', 'start']);
  t.same(controlsFor('removing'), []);
  t.equal(labelKey('io.kubernetes.pod.name'), 'label.io.kubernetes.pod.name');
  t.equal(labelKey('Maintainer/Team Name'), 'label.maintainer_team_name');
  t.equal(labelKey('x'.repeat(100)).length, 64);
});

const skip = podmanSkipReason();

t.test('with a real Podman engine', { skip: skip ?? false }, async (t) => {
  const [, engine] = await Promise.all([ensureBusyboxImage(), startPodmanEngine()]);
  t.teardown(() => engine.stop());

  t.test('discovery: image, state, labels, pod parent, processes parented, controls per state, stats', async (t) => {
    const running = uniqueContainerName('probe-run');
    const created = uniqueContainerName('probe-created');
    t.teardown(() => Promise.all([removeContainer(running), removeContainer(created)]));
    const podUid = `pod-uid-${process.pid}`;
    const runId = await runContainer(running, IDLE, { labels: { 'io.kubernetes.pod.uid': podUid, 'io.kubernetes.pod.name': 'web-0', 'io.kubernetes.pod.namespace': 'shop', team: 'a' } });
    const createdId = await runContainer(created, IDLE, { createOnly: true });

    const identity = probeIdentity();
    const probe = new Probe({ identity, collectors: defaultCollectors({ identity, engineSocket: engine.socketPath }), sink: () => undefined });
    t.teardown(() => probe.stop());
    const r0 = await probe.fullPass();
    t.ok(r0.topologies.container.nodes[containerNodeId(runId)]?.metrics.memory_usage_bytes?.samples.length, 'the first full report already has container metrics');
    const r = await probe.fullPass();
    t.ok(validateReport(r).ok, 'valid report');
    t.same(r.errors.filter((e) => e.collector === 'containers'), [], 'no container errors');

    const c = r.topologies.container.nodes[containerNodeId(runId)];
    t.ok(c, 'running container listed');
    t.equal(c?.latest.name?.v, running);
    t.equal(c?.latest.state?.v, 'running');
    t.equal(c?.latest.image?.v, BUSYBOX_IMAGE);
    t.match(String(c?.latest.image_id?.v), /^(sha256:)?[0-9a-f]{64}$/);
    t.equal(c?.latest['label.team']?.v, 'a');
    t.ok(typeof c?.latest.pid?.v === 'number' && c.latest.pid.v > 0, 'pid from inspect');
    t.same(c?.controls?.ids, ['logs', 'pause', 'remove', 'restart', 'stop'], 'controls of a running container');
    t.ok(c?.metrics.memory_usage_bytes?.samples.length, 'memory from stats');
    t.ok(c?.metrics.cpu_percent, 'cpu from stats');
    t.ok(c?.metrics.network_rx_bytes, 'network from stats');
    t.same(c?.parents.host, [identity.hostId]);
    t.same(c?.parents.pod, [podNodeId(podUid)], 'Kubernetes pod label → pod parent');
    const imageId = c!.parents.container_image![0]!;
    t.equal(r.topologies.container_image.nodes[imageId]?.latest.name?.v, BUSYBOX_IMAGE, 'image node with its name');
    t.equal(r.topologies.pod.nodes[podNodeId(podUid)]?.latest.name?.v, 'web-0', 'pod node from labels');
    t.equal(r.topologies.pod.nodes[podNodeId(podUid)]?.latest.namespace?.v, 'shop');

    const k = r.topologies.container.nodes[containerNodeId(createdId)];
    t.equal(k?.latest.state?.v, 'created');
    t.same(k?.controls?.ids, ['logs', 'remove', 'start'], 'controls of a created container');
    t.same(k?.metrics, {}, 'no stats for a container that does not run');

    const inside = Object.entries(r.topologies.process.nodes).filter(([, n]) => n.parents.container?.includes(containerNodeId(runId)));
    t.ok(inside.length >= 1, `${inside.length} processes parented to the container`);
    t.ok(inside.some(([, n]) => n.latest.pid?.v === c?.latest.pid?.v && n.latest.name?.v === 'sh'), 'its main process among them');
  });

  t.test('with the event stream open, full passes ask the engine nothing, and an event still updates the table', async (t) => {
    const name = uniqueContainerName('probe-table');
    t.teardown(() => removeContainer(name));
    const id = await runContainer(name, IDLE);
    const real = new DockerEngine({ socketPath: engine.socketPath });
    let calls = 0;
    // The real engine, with its calls counted (list, inspect, stats; the event stream is not a call).
    const counted = new Proxy(real, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          if (prop === 'listContainers' || prop === 'inspect' || prop === 'stats') calls++;
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const identity = probeIdentity();
    const collector = new ContainersCollector({ identity, engine: counted });
    const probe = new Probe({ identity, collectors: [collector], sink: () => undefined });
    t.teardown(() => probe.stop());
    await probe.fullPass();
    // Once the stream is open and its list is in, a pass makes no call (the upkeep after it does).
    let quiet = false;
    for (let i = 0; i < 50 && !quiet; i++) {
      await sleep(100);
      const before = calls;
      await probe.fullPass();
      quiet = calls === before;
    }
    t.ok(quiet, 'a full pass that made no engine call');

    const control = new DockerEngine({ socketPath: engine.socketPath });
    t.teardown(() => control.close());
    await sleep(300); // the upkeep after the last pass is done: nothing but an event changes the table now
    await control.control(id, 'pause');
    // Delta passes run no upkeep and, with the stream open, list nothing: only the event can show the pause.
    let state: unknown;
    for (let i = 0; i < 50 && state !== 'paused'; i++) {
      await sleep(100);
      const before = calls;
      const delta = await probe.deltaPass(['containers']);
      state = inDelta(delta, 'container', containerNodeId(id))?.latest?.state?.v ?? state;
      if (state !== 'paused') t.equal(calls, before, 'a delta pass before the event made no call');
    }
    t.equal(state, 'paused', 'the pause reached the table through the event stream');
    await control.control(id, 'unpause');
  });

  t.test('a container start reaches the publisher POST as an immediate delta within 1 s', async (t) => {
    const name = uniqueContainerName('probe-start');
    t.teardown(() => removeContainer(name));
    const id = await runContainer(name, IDLE, { createOnly: true });

    const received: Array<{ report: Report; at: number }> = [];
    const server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const at = Date.now();
        if (req.url !== REPORT_PATH || req.headers['content-encoding'] !== 'gzip' || req.headers.authorization !== 'Bearer tok-0123456789abcdef') {
          res.writeHead(400).end();
          return;
        }
        const d = await decodeReport(Buffer.concat(chunks));
        if (!d.ok) {
          res.writeHead(400).end(JSON.stringify({ error: { code: 'BAD_REPORT', message: d.error.message } }));
          return;
        }
        received.push({ report: d.value, at });
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ probeId: d.value.probeId, seq: d.value.seq }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.teardown(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as { port: number }).port;

    const identity = probeIdentity();
    const publisher = new Publisher({ apps: [`http://127.0.0.1:${port}`], token: 'tok-0123456789abcdef' });
    let probe: Probe | null = null;
    probe = new Probe({
      identity,
      intervalMs: 60_000, // no full report will come by in this test: only the event can explain a report
      collectors: defaultCollectors({ identity, engineSocket: engine.socketPath, trigger: (n) => probe?.trigger(n) }),
      sink: publisher.publish,
    });
    t.teardown(async () => {
      await probe!.stop();
      await publisher.close(0);
    });
    probe.start();
    const deadline = Date.now() + 10_000;
    while (received.length === 0 && Date.now() < deadline) await sleep(20);
    t.equal(received[0]?.report.kind, 'full', 'the first full report arrived');
    const first = received[0]!.report as FullReport;
    t.equal(first.topologies.container.nodes[containerNodeId(id)]?.latest.state?.v, 'created');
    await sleep(300); // let the event stream settle

    const control = new DockerEngine({ socketPath: engine.socketPath });
    t.teardown(() => control.close());
    const t0 = Date.now();
    await control.control(id, 'start');
    const started = Date.now();
    let hit: { report: Report; at: number } | undefined;
    while (!hit && Date.now() < started + 3_000) {
      hit = received.find((x) => inDelta(x.report, 'container', containerNodeId(id))?.latest?.state?.v === 'running');
      if (!hit) await sleep(10);
    }
    t.ok(hit, 'a delta report with the container running arrived');
    const latency = hit!.at - started;
    t.ok(latency <= 1_000, `received ${latency} ms after the engine confirmed the start (${hit!.at - t0} ms after asking)`);
    t.equal(hit!.report.kind === 'delta' && hit!.report.baseSeq, first.seq, 'a delta on the first full report');
    const sent = hit!.report.kind === 'delta' ? Object.keys(hit!.report.topologies.process.nodes).length + Object.keys(hit!.report.patches?.process ?? {}).length : Infinity;
    t.ok(sent < Object.keys(first.topologies.process.nodes).length, 'small: not the whole process table');
  });
});
