/**
 * The host, processes and connections collectors on the real /proc of this
 * machine, with processes and TCP connections this test creates.
 */
import t from 'tap';
import { availableParallelism, networkInterfaces, release } from 'node:os';
import { readFileSync, readdirSync } from 'node:fs';
import { validateReport, type FullReport, type ReportNode } from '../../runtime/report';
import { defaultCollectors } from '../../runtime/probe/collectors';
import { probeIdentity } from '../../runtime/probe/identity';
import { Probe } from '../../runtime/probe/probe';
import { nodeChild, sleep, stop, tcpClient, tcpServer } from './helpers';

function newProbe(): Probe {
  const identity = probeIdentity();
  return new Probe({ identity, collectors: defaultCollectors({ identity }), sink: () => undefined });
}

function processByPid(r: FullReport, pid: number): [string, ReportNode] | undefined {
  return Object.entries(r.topologies.process.nodes).find(([, n]) => n.latest.pid?.v === pid);
}

t.test('a loopback server and client appear with their pids, command lines and the edge between them', async (t) => {
  const server = await tcpServer(t);
  const client = await tcpClient(t, server.port);
  const probe = newProbe();
  t.teardown(() => probe.stop());
  await probe.fullPass();
  await sleep(200);
  const r = await probe.fullPass();

  const v = validateReport(r);
  t.ok(v.ok, v.ok ? 'valid report' : v.error.message);
  const s = processByPid(r, server.pid);
  const c = processByPid(r, client.pid);
  t.ok(s && c, 'both child processes are nodes');
  if (!s || !c) return;
  t.equal(s[1].latest.name?.v, 'node');
  t.match(String(s[1].latest.cmdline?.v), /createServer/);
  t.match(String(c[1].latest.cmdline?.v), new RegExp(`connect\\(${server.port}`));
  t.equal(c[1].latest.ppid?.v, process.pid, 'parent is this test');
  t.equal(s[1].latest.user?.v, 'root');
  t.ok(Number(s[1].latest.threads?.v) >= 1, 'threads');
  t.ok(Number(s[1].latest.open_fds?.v) >= 3, 'open fds');
  t.ok(s[0].startsWith(`process;${r.hostId.slice(5)};${server.pid};`), 'id has host, pid and start time');
  t.same(s[1].parents.host, [r.hostId]);
  t.ok(s[1].metrics.cpu_percent?.samples.length, 'cpu % from the second pass');
  t.ok(Number(s[1].metrics.memory_rss_bytes?.samples.at(-1)?.[1]) > 10e6, 'rss of a node process');
  t.equal(s[1].latest.listening?.v, `127.0.0.1:${server.port}`, 'server listening');
  t.same(c[1].adjacency, [s[0]], 'edge client → server');
  t.same(s[1].adjacency, [], 'no edge back');
});

t.test('open fds are counted exactly, with few fds and after the process opened 60 more', async (t) => {
  const FEW = 32;
  const child = await nodeChild(t, `process.on('SIGUSR2',()=>{for(let i=0;i<60;i++)require('fs').openSync('/proc/self/stat','r');console.log('more')});console.log('ready');setInterval(()=>{},1e3)`);
  const probe = newProbe();
  t.teardown(() => probe.stop());
  const counted = async (): Promise<{ got: unknown; want: number }> => {
    const r = await probe.fullPass();
    return { got: processByPid(r, child.pid)?.[1].latest.open_fds?.v, want: readdirSync(`/proc/${child.pid}/fd`).length };
  };
  for (const pass of ['first pass', 'second pass']) {
    const { got, want } = await counted();
    t.ok(want <= FEW, `${pass}: ${want} fds, at most ${FEW}`);
    t.equal(got, want, pass);
  }
  const more = new Promise<void>((resolve) => child.proc.stdout!.on('data', (d: Buffer) => String(d).includes('more') && resolve()));
  child.proc.kill('SIGUSR2');
  await more;
  for (const pass of ['first pass with many fds', 'second pass with many fds']) {
    const { got, want } = await counted();
    t.ok(want > FEW, `${pass}: ${want} fds, over ${FEW}`);
    t.equal(got, want, pass);
  }
});

t.test('the host node has sane values', async (t) => {
  const r = await newProbe().fullPass();
  const hosts = Object.entries(r.topologies.host.nodes);
  t.equal(hosts.length, 1);
  const [id, h] = hosts[0]!;
  t.equal(id, r.hostId);
  t.equal(h.latest.kernel_release?.v, release());
  t.equal(h.latest.cpus?.v, availableParallelism());
  const osRelease = readFileSync('/etc/os-release', 'utf8');
  t.ok(osRelease.includes(String(h.latest.os?.v)), `os ${h.latest.os?.v}`);
  const total = Number(h.latest.memory_total_bytes?.v);
  t.ok(total > 256e6 && total < 64e12, `memory ${total}`);
  const used = Number(h.metrics.memory_used_bytes?.samples.at(-1)?.[1]);
  t.ok(used > 0 && used < total, `used ${used}`);
  t.ok(Number(h.latest.uptime_s?.v) > 0, 'uptime');
  t.ok(Number(h.latest.boot_time?.v) < Date.now(), 'booted in the past');
  t.ok(Number(h.metrics.load1?.samples.at(-1)?.[1]) >= 0, 'load');
});

t.test('a process that exits between passes disappears, with its edges', async (t) => {
  const server = await tcpServer(t);
  const client = await tcpClient(t, server.port);
  const probe = newProbe();
  t.teardown(() => probe.stop());
  const before = await probe.fullPass();
  const c = processByPid(before, client.pid);
  t.ok(c, 'client present');
  t.equal(c?.[1].adjacency.length, 1);
  await stop(client);
  const after = await probe.fullPass();
  t.notOk(processByPid(after, client.pid), 'client gone');
  t.notOk(c![0] in after.topologies.process.nodes, 'its id too');
  t.ok(processByPid(after, server.pid), 'server still there');
  const edgesToServer = Object.values(after.topologies.process.nodes).filter((n) => n.adjacency.includes(processByPid(after, server.pid)![0]));
  t.equal(edgesToServer.length, 0, 'no edge to the server any more');
});

t.test('a connection over a non-loopback local address also joins process to process', async (t) => {
  const addr = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  if (!addr) {
    t.pass('skipped: no non-loopback IPv4 address on this machine');
    return;
  }
  const server = await tcpServer(t, '0.0.0.0');
  const client = await tcpClient(t, server.port, addr);
  const r = await newProbe().fullPass();
  const s = processByPid(r, server.pid);
  t.equal(s?.[1].latest.listening?.v, `0.0.0.0:${server.port}`);
  t.same(processByPid(r, client.pid)?.[1].adjacency, [s?.[0]], `edge over ${addr}`);
});

t.test('a connection to another host leaves an endpoint for the app to join', async (t) => {
  // TEST-NET-2: nobody answers, so the client's socket stays in SYN_SENT for seconds.
  const { nodeChild } = await import('./helpers');
  const client = await nodeChild(t, `const c=require('net').connect(9,'198.51.100.7');c.on('error',e=>{console.error(e.code);process.exit(3)});setTimeout(()=>console.log('dialing'),100);setInterval(()=>{},1e3)`);
  void client.line;
  const r = await newProbe().fullPass();
  const c = processByPid(r, client.pid);
  if (!c || c[1].adjacency.length === 0) {
    t.pass('skipped: the kernel refused the connection at once (no route); nothing to observe');
    return;
  }
  t.same(c[1].adjacency, ['endpoint;;198.51.100.7;9']);
  t.ok('endpoint;;198.51.100.7;9' in r.topologies.endpoint.nodes, 'the endpoint node is in the report');
});
