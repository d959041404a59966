import t from 'tap';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  applyDelta,
  diffReports,
  mergeReports,
  readRecording,
  RECORDING_MAGIC,
  ReportRecorder,
  validateReport,
  writeRecording,
  type DeltaReport,
  type FullReport,
} from '../../runtime/report';
import { node, report } from './helpers';

const FIXTURES = join(__dirname, '..', 'fixtures', 'reports');

t.test('reports written to a recording replay in order', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'r.rec');
  const a = report({ process: { 'process;h1;1;2': node() } }, { seq: 1 });
  const b = report({}, { seq: 2 });
  const d = diffReports(a, b);
  await writeRecording(path, [a, d]);
  const rec = await ReportRecorder.open(path); // appending to an existing recording
  await rec.write(b);
  await rec.close();
  t.same(await readRecording(path), [a, d, b]);
  t.ok(readFileSync(path).subarray(0, RECORDING_MAGIC.length).equals(RECORDING_MAGIC));
});

t.test('damaged recordings are refused with E_RECORD_FORMAT', async (t) => {
  const dir = t.testdir({ 'plain.txt': 'hello\n' });
  const path = join(dir, 'r.rec');
  await writeRecording(path, [report({})]);
  const whole = readFileSync(path);
  writeFileSync(join(dir, 'cut.rec'), whole.subarray(0, whole.length - 3));
  writeFileSync(join(dir, 'cutlen.rec'), whole.subarray(0, RECORDING_MAGIC.length + 2));
  await t.rejects(readRecording(join(dir, 'plain.txt')), { code: 'E_RECORD_FORMAT' });
  await t.rejects(readRecording(join(dir, 'cut.rec')), { code: 'E_RECORD_FORMAT' });
  await t.rejects(readRecording(join(dir, 'cutlen.rec')), { code: 'E_RECORD_FORMAT' });
  await t.rejects(ReportRecorder.open(join(dir, 'plain.txt')), { code: 'E_RECORD_FORMAT' });
  appendFileSync(path, Buffer.from([0, 0, 0, 5, 1, 2, 3, 4, 5]));
  await t.rejects(readRecording(path), { code: 'E_WIRE_CORRUPT' }, 'a frame that is not gzip');
});

t.test('the recorded fixture of the real probe replays, validates, merges and diffs', async (t) => {
  const path = join(FIXTURES, 'probe-loopback.rec');
  t.ok(readFileSync(path).length < 16 * 1024, 'a few KB');
  const reports = await readRecording(path);
  t.same(reports.map((r) => r.kind), ['full', 'delta', 'full']);
  for (const r of reports) t.ok(validateReport(r).ok, `#${r.seq} valid`);
  const [first, delta, last] = reports as [FullReport, DeltaReport, FullReport];
  t.equal(Object.keys(first.topologies.host.nodes).length, 1, 'one host');
  t.equal(delta.baseSeq, first.seq);

  // The delta brought the client and its edge to the server.
  const during = applyDelta(first, delta);
  const procs = Object.entries(during.topologies.process.nodes);
  const client = procs.find(([, n]) => String(n.latest.cmdline?.v).includes('connect('));
  const server = procs.find(([, n]) => String(n.latest.cmdline?.v).includes('createServer'));
  t.ok(client && server, 'both processes');
  t.same(client?.[1].adjacency, [server?.[0]], 'edge client → server');
  t.ok(String(server?.[1].latest.listening?.v).startsWith('127.0.0.1:'), 'server listening on loopback');
  t.notOk(client![0] in last.topologies.process.nodes, 'the client is gone from the last report');

  t.same(applyDelta(first, diffReports(first, last)), last, 'diff/apply round trip on real reports');
  t.ok(validateReport(mergeReports(first, last)).ok, 'merge of real reports is valid');
  for (const r of reports) {
    for (const n of Object.values(r.topologies.process.nodes)) t.notMatch(String(n.latest.cmdline?.v), /--env|PATH=/, 'no environment in command lines');
  }
});
