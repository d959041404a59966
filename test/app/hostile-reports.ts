/**
 * Hostile reports and a flood, and what each must get: sent to the app's own listener
 * (ingest.test.ts) and to its ingest listener (ingest-listener.test.ts), which share the admission
 * and decoding but not the thread.
 */
import { gzipSync } from 'node:zlib';
import type { Test } from 'tap';
import type { MonitoringApp } from '../../runtime/app/server';
import { SimProbe, loadTemplates } from './fleet';
import { TOKENS, gzipJson, http, inspect, postReport, type Target } from './helpers';

/** The app must have been started with `ingest: { maxEncodedBytes: 256 KiB, maxDecodedBytes: 4 MiB }`. */
export async function refusesHostileReports(t: Test, app: MonitoringApp, target: Target): Promise<void> {
  const tpl = await loadTemplates();
  const p = new SimProbe(2, { probes: 3, containersPerProbe: 3, processesPerProbe: 6, connectionsPerProbe: 1 }, tpl);
  const good = p.full(1_000);
  t.equal((await postReport(target, good)).status, 202);
  const before = (await inspect(app)).fingerprint;
  const encoded = gzipJson(good);
  const cases: Array<[string, Buffer, Record<string, string>, number, string | RegExp]> = [
    ['truncated gzip', encoded.subarray(0, Math.floor(encoded.length / 2)), {}, 400, 'E_WIRE_CORRUPT'],
    ['not gzip at all', Buffer.from('{"version":1}'), {}, 400, 'E_WIRE_CORRUPT'],
    ['gzip of something not JSON', gzipJson('{"version":1,'), {}, 400, 'E_WIRE_CORRUPT'],
    ['empty body', Buffer.alloc(0), {}, 400, 'E_WIRE_CORRUPT'],
    ['a JSON array', gzipJson([1, 2]), {}, 400, 'E_REPORT_INVALID'],
    ['wrong version', gzipJson({ ...good, version: 2 }), {}, 400, 'E_REPORT_VERSION'],
    ['seq as a string', gzipJson({ ...good, seq: '7' }), {}, 400, 'E_REPORT_INVALID'],
    ['unknown top-level field', gzipJson({ ...good, seq: 9, exec: 'rm -rf /' }), {}, 400, 'E_REPORT_INVALID'],
    ['node id off the grammar', gzipJson({ ...good, seq: 9, topologies: { ...good.topologies, host: { nodes: { 'host;a b': good.topologies.host.nodes[p.hostId] } } } }), {}, 400, 'E_REPORT_INVALID'],
    ['__proto__ smuggled as a node', Buffer.from(gzipSync(Buffer.from(JSON.stringify({ ...good, seq: 9 }).replace('"topologies":{', '"topologies":{"__proto__":{"polluted":true},')))), {}, 400, 'E_REPORT_INVALID'],
    ['over the body limit', Buffer.alloc(300 * 1024, 1), {}, 413, 'TOO_LARGE'],
    ['gzip bomb (5 MB of zeros in 5 KB)', gzipSync(Buffer.alloc(5 * 1024 * 1024)), {}, 413, 'E_WIRE_TOO_LARGE'],
    ['wrong content type', encoded, { 'content-type': 'text/plain' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['no gzip encoding', Buffer.from(JSON.stringify(good)), { 'content-encoding': 'identity' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ];
  for (const [name, body, headers, status, code] of cases) {
    const res = await postReport(target, body, TOKENS.probe, headers);
    t.equal(res.status, status, `${name}: status`);
    t.match(res.json?.error?.code, code, `${name}: code ${res.json?.error?.code} (${res.json?.error?.message})`);
    t.equal((await inspect(app)).fingerprint, before, `${name}: model unchanged`);
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
  // Another token may not report as this probe.
  const stolen = await postReport(target, { ...good, seq: 50 }, TOKENS.probe2);
  t.equal(stolen.status, 403);
  t.equal(stolen.json.error.code, 'PROBE_MISMATCH');
  t.equal((await inspect(app)).fingerprint, before);
  t.equal((await http(target, 'GET', '/healthz')).status, 200, 'still up');
  t.equal((await postReport(target, { ...good, seq: 2 })).status, 202, 'and still ingesting');
}

/** Four full reports in a row from one token: two pass, then 429 with Retry-After. The app must have been started with `ingest: { ratePerToken: 1, burstPerToken: 2 }`. */
export async function refusesOverRate(t: Test, target: Target): Promise<void> {
  const tpl = await loadTemplates();
  const p = new SimProbe(3, { probes: 1, containersPerProbe: 1, processesPerProbe: 2, connectionsPerProbe: 0 }, tpl);
  const statuses: number[] = [];
  let retry: unknown;
  for (let i = 0; i < 4; i++) {
    const r = await postReport(target, p.full(1000 + i));
    statuses.push(r.status);
    if (r.status === 429) retry = r.headers['retry-after'];
  }
  t.same(statuses.slice(0, 2), [202, 202]);
  t.ok(statuses.slice(2).includes(429), `rate limited: ${statuses}`);
  t.ok(Number(retry) >= 1, 'Retry-After given');
}
