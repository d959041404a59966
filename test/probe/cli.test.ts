/** `orchestrator probe` as a person (or CI) runs it: a separate process. */
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { REPORT_PATH } from '../../runtime/control/protocol';
import { decodeReport, validateReport, type FullReport, type Report } from '../../runtime/report';
import { freePort } from '../helpers/stack';
import { tempDir } from '../helpers/temp-dir';
import { tcpClient, tcpServer } from './helpers';

const CLI = join(__dirname, '..', '..', 'runtime', 'cli.ts');

function runCli(args: string[]) {
  const proc = spawn(process.execPath, ['--import', require.resolve('tsx'), CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += String(d)));
  proc.stderr.on('data', (d: Buffer) => (stderr += String(d)));
  const done = once(proc, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  return { proc, done, out: () => stdout };
}

t.test('probe --once prints one full report with our processes and their edge, and exits 0', async (t) => {
  const server = await tcpServer(t);
  const client = await tcpClient(t, server.port);
  const { done } = runCli(['probe', '--once']);
  const { code, stdout, stderr } = await done;
  t.equal(code, 0, stderr);
  const lines = stdout.trim().split('\n');
  t.equal(lines.length, 1, 'one JSON document');
  const report = JSON.parse(lines[0]!) as FullReport;
  const v = validateReport(report);
  t.ok(v.ok, v.ok ? 'valid' : v.error.message);
  t.equal(report.kind, 'full');
  const nodes = Object.entries(report.topologies.process.nodes);
  const s = nodes.find(([, n]) => n.latest.pid?.v === server.pid);
  const c = nodes.find(([, n]) => n.latest.pid?.v === client.pid);
  t.ok(s && c, 'server and client pids');
  t.same(c?.[1].adjacency, [s?.[0]], 'edge client → server');
  t.ok(c?.[1].metrics.cpu_percent, 'CPU % thanks to the priming pass');
});

t.test('probe --interval prints reports until SIGTERM, then exits 0', async (t) => {
  const { proc, done, out } = runCli(['probe', '--interval', '300ms']);
  const deadline = Date.now() + 15_000;
  while (out().split('\n').filter(Boolean).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  proc.kill('SIGTERM');
  const { code, stdout, stderr } = await done;
  t.equal(code, 0, 'clean exit on SIGTERM');
  const reports = stdout.trim().split('\n').map((l) => JSON.parse(l) as FullReport);
  t.ok(reports.length >= 2, `${reports.length} reports`);
  t.same(reports.slice(0, 2).map((r) => r.seq), [1, 2]);
  t.equal(new Set(reports.map((r) => r.probeId)).size, 1, 'one probe id');
  t.match(stderr, /"msg":"probe stopping"/);
});

t.test('bad options are refused', async (t) => {
  const { done } = runCli(['probe', '--interval', 'soon']);
  const { code, stderr } = await done;
  t.not(code, 0);
  t.match(stderr, /not a duration/);
});

t.test('probe --ingest-port sends its reports to that port of the --app host, not to the --app port', async (t) => {
  const got: Report[] = [];
  const paths: string[] = [];
  const sink = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      paths.push(`${req.method} ${req.url}`);
      const d = await decodeReport(Buffer.concat(chunks));
      if (d.ok) got.push(d.value);
      res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify(d.ok ? { probeId: d.value.probeId, seq: d.value.seq } : {}));
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    sink.closeAllConnections();
    sink.close();
  });
  const ingestPort = (sink.address() as { port: number }).port;
  // The --app port has nothing listening: reports must not need it (its control channel retries).
  const appPort = await freePort();
  const dir = tempDir('probe-ingest-port-');
  writeFileSync(join(dir, 'token'), 'probe-token-0123456789abcdef\n', { mode: 0o600 });
  const { proc, done } = runCli(['probe', '--app', `http://127.0.0.1:${appPort}`, '--ingest-port', String(ingestPort), '--token-file', join(dir, 'token'), '--no-engine', '--interval', '300ms']);
  t.teardown(() => proc.kill('SIGKILL'));
  const deadline = Date.now() + 20_000;
  while (got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.ok(got.length >= 1, 'the ingest port got a report');
  t.equal(got[0]?.kind, 'full', 'the first is a full report');
  t.same([...new Set(paths)], [`POST ${REPORT_PATH}`], `only reports came: ${[...new Set(paths)].join(', ')}`);
  proc.kill('SIGTERM');
  t.equal((await done).code, 0, 'exits 0 on SIGTERM');
  const bad = await runCli(['probe', '--app', 'http://127.0.0.1:1', '--ingest-port', '70000', '--token-file', join(dir, 'token')]).done;
  t.not(bad.code, 0);
  t.match(bad.stderr, /--ingest-port.*a port from 1 to 65535/);
});
