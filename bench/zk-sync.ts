/**
 * ZooKeeper sync engine: the physical floor and the engine, in one run, on
 * two single-server ZooKeeper 3.8 ensembles on loopback (started here, as in
 * the tests):
 *   1. raw one-hop floor: watch event → getData → setData on the target,
 *      by a bare client (what any replicator must pay);
 *   2. the engine's lag p50/p99 at 100 and 1,000 writes/s (source write sent
 *      → target write acknowledged, same clock);
 *   3. bidirectional throughput: 3,000 changes (updates on both sides, creates
 *      on the target) until both sides are equal and the engine is idle;
 *   4. read floors on the 100,000-znode tree: getData alone for every znode,
 *      1,000 in flight on one session (what the old walk's requests cost),
 *      and getACL alone for every znode over the walk's sessions (ZooKeeper
 *      has no batched ACL read, so every snapshot and verify pays this);
 *   5. snapshot of 100,000 znodes into an empty target;
 *   6. verify of 100,000 znodes.
 * Prints one JSON line per measurement, then a summary line. Bounded: exits 1
 * after 10 minutes.
 *
 *   npx tsx bench/zk-sync.ts [--nodes 100000] [--seconds 5]
 */
import { SyncEngine } from '../runtime/sync/engine';
import { PathFilter } from '../runtime/sync/paths';
import { WALK_SESSIONS } from '../runtime/sync/tree-walk';
import { syncTree } from '../runtime/sync/tree-sync';
import { verifyTrees } from '../runtime/sync/verify';
import { applyWrites } from '../runtime/sync/writer';
import { ZkClient } from '../runtime/sync/zk/client';
import { OPEN_ACL, type WriteOp } from '../runtime/sync/zk/types';
import { startEnsemble, type ZkEnsemble } from '../test/helpers/zookeeper';
import { numberFlag } from './lib/args';

const NODES = numberFlag('nodes', 100_000);
const SECONDS = numberFlag('seconds', 5);
const hardStop = setTimeout(() => {
  process.stdout.write(JSON.stringify({ bench: 'zk-sync', error: 'timed out after 10 minutes' }) + '\n');
  process.exit(1);
}, 600_000);
hardStop.unref();

const ms = (ns: bigint): number => Number(ns) / 1e6;
function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return +s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!.toFixed(2);
}
const out = (o: Record<string, unknown>): void => void process.stdout.write(JSON.stringify({ bench: 'zk-sync', ...o }) + '\n');
const sleep = (n: number): Promise<void> => new Promise((r) => setTimeout(r, n));

/** Writes at `rate`/s for `seconds` to keys 0..keys-1, calling `sent(key)` as each write leaves. */
async function paced(c: ZkClient, prefix: string, rate: number, seconds: number, keys: number, sent: (path: string) => void): Promise<number> {
  const total = rate * seconds;
  const start = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const path = `${prefix}/k${i % keys}`;
    sent(path);
    pending.push(c.setData(path, Buffer.from(String(i)), -1));
    if (pending.length > 200) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  return total;
}

async function keysUnder(c: ZkClient, prefix: string, keys: number): Promise<void> {
  const ops: WriteOp[] = [{ op: 'create', path: prefix, data: null, acl: OPEN_ACL, mode: 0 }];
  for (let i = 0; i < keys; i++) ops.push({ op: 'create', path: `${prefix}/k${i}`, data: Buffer.from('0'), acl: OPEN_ACL, mode: 0 });
  await applyWrites(c, ops);
}

async function floor(a: ZkEnsemble, b: ZkEnsemble): Promise<{ p50: number; p99: number }> {
  const writer = await ZkClient.connect({ connect: a.connectString, label: 'writer' });
  const hopS = await ZkClient.connect({ connect: a.connectString, label: 'hop-source' });
  const hopT = await ZkClient.connect({ connect: b.connectString, label: 'hop-target' });
  await keysUnder(writer, '/floor', 100);
  await keysUnder(hopT, '/floor', 100);
  const sentAt = new Map<string, bigint>();
  const lags: number[] = [];
  hopS.on('watch', (ev) => {
    if (ev.type !== 'dataChanged') return;
    void hopS.getData(ev.path).then(async (d) => {
      await hopT.setData(ev.path, d.data, -1);
      const t0 = sentAt.get(ev.path);
      if (t0 !== undefined) lags.push(ms(process.hrtime.bigint() - t0));
    });
  });
  await hopS.addPersistentRecursiveWatch('/floor');
  await paced(writer, '/floor', 200, SECONDS, 100, (p) => sentAt.set(p, process.hrtime.bigint()));
  await sleep(300);
  await Promise.all([writer.close(), hopS.close(), hopT.close()]);
  return { p50: pct(lags, 0.5), p99: pct(lags, 0.99) };
}

/** One request per path, `inFlight` at a time spread over `clients`: what a one-request-per-znode read costs at best. */
async function readFloor(clients: ZkClient[], paths: string[], read: (c: ZkClient, path: string) => Promise<unknown>, inFlight = 1000): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async (_, i) => {
      const c = clients[i % clients.length]!;
      while (next < paths.length) await read(c, paths[next++]!);
    }),
  );
  return Math.round(performance.now() - t0);
}

/** Bidirectional: updates on both sides and creates on the target, as fast as the writers go; time until idle. */
async function bidiThroughput(a: ZkEnsemble, b: ZkEnsemble, keys = 2000): Promise<{ changes: number; ms: number; equal: boolean }> {
  const wa = await ZkClient.connect({ connect: a.connectString, label: 'writer-a' });
  const wb = await ZkClient.connect({ connect: b.connectString, label: 'writer-b' });
  await keysUnder(wa, '/bidi', keys);
  const engine = new SyncEngine({ source: { connect: a.connectString }, target: { connect: b.connectString }, paths: ['/bidi'], mode: 'bidirectional', conflicts: 'last-write-wins', ephemerals: 'skip' });
  await engine.start();
  const t0 = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < keys; i++) {
    pending.push(i % 2 === 0 ? wa.setData(`/bidi/k${i}`, Buffer.from(`a${i}`), -1) : wb.setData(`/bidi/k${i}`, Buffer.from(`b${i}`), -1));
    if (i % 2 === 1) pending.push(wb.create(`/bidi/new${i}`, Buffer.from('n'), OPEN_ACL, 0));
  }
  await Promise.all(pending);
  await engine.waitIdle(60_000);
  const ms = Math.round(performance.now() - t0);
  const v = await verifyTrees(wa, wb, { filter: new PathFilter(['/bidi']), ephemerals: 'skip' });
  await Promise.all([engine.stop(), wa.close(), wb.close()]);
  return { changes: keys + keys / 2, ms, equal: v.equal };
}

async function engineLag(a: ZkEnsemble, b: ZkEnsemble, rate: number): Promise<{ p50: number; p99: number; samples: number }> {
  const prefix = `/lag${rate}`;
  const keys = 1000; // each key written at most once a second at 1,000/s: an applied write maps to its send time
  const writer = await ZkClient.connect({ connect: a.connectString, label: 'writer' });
  await keysUnder(writer, prefix, keys);
  const sentAt = new Map<string, bigint>();
  const lags: number[] = [];
  const engine = new SyncEngine({
    source: { connect: a.connectString },
    target: { connect: b.connectString },
    paths: [prefix],
    mode: 'one-way',
    conflicts: 'source-wins',
    ephemerals: 'skip',
    onApplied: (x) => {
      const t0 = sentAt.get(x.path);
      if (t0 !== undefined) lags.push(ms(x.appliedAt - t0));
    },
  });
  await engine.start();
  await paced(writer, prefix, rate, SECONDS, keys, (p) => sentAt.set(p, process.hrtime.bigint()));
  await engine.waitIdle(30_000);
  await Promise.all([engine.stop(), writer.close()]);
  return { p50: pct(lags, 0.5), p99: pct(lags, 0.99), samples: lags.length };
}

async function main(): Promise<void> {
  const [a, b] = await Promise.all([startEnsemble(1, { heap: '1g' }), startEnsemble(1, { heap: '1g' })]);
  try {
    const f = await floor(a, b);
    out({ case: 'raw one-hop floor (event → getData → setData on target), 200 writes/s', p50_ms: f.p50, p99_ms: f.p99 });
    const l100 = await engineLag(a, b, 100);
    out({ case: 'engine lag at 100 writes/s', ...prefixKeys(l100) });
    const l1000 = await engineLag(a, b, 1000);
    out({ case: 'engine lag at 1000 writes/s', ...prefixKeys(l1000) });
    const bidi = await bidiThroughput(a, b);
    const bidiRate = Math.round((bidi.changes * 1000) / bidi.ms);
    out({ case: `bidirectional: ${bidi.changes} changes on both sides until idle`, ms: bidi.ms, changes_per_s: bidiRate, equal: bidi.equal });

    const source = await ZkClient.connect({ connect: a.connectString, label: 'source' });
    const target = await ZkClient.connect({ connect: b.connectString, label: 'target' });
    const ops: WriteOp[] = [{ op: 'create', path: '/big', data: null, acl: OPEN_ACL, mode: 0 }];
    const groups = Math.ceil(NODES / 1000);
    for (let g = 0; g < groups; g++) {
      ops.push({ op: 'create', path: `/big/g${g}`, data: null, acl: OPEN_ACL, mode: 0 });
      for (let i = 0; i < 1000 && ops.length < NODES; i++) ops.push({ op: 'create', path: `/big/g${g}/n${i}`, data: Buffer.alloc(64, i % 256), acl: OPEN_ACL, mode: 0 });
    }
    await applyWrites(source, ops);
    const readFloorMs = await readFloor([source], ops.map((o) => o.path), (c, p) => c.getData(p));
    out({ case: `raw read floor: getData of ${ops.length} znodes, 1000 in flight on one session`, ms: readFloorMs, reads_per_s: Math.round((ops.length * 1000) / readFloorMs) });
    const aclFloorMs = await readFloor(await source.readers(WALK_SESSIONS), ops.map((o) => o.path), (c, p) => c.getAclOnly(p));
    out({ case: `raw ACL floor: getACL of ${ops.length} znodes, 1000 in flight over ${WALK_SESSIONS} sessions`, ms: aclFloorMs, reads_per_s: Math.round((ops.length * 1000) / aclFloorMs) });
    const filter = new PathFilter(['/big']);
    const t0 = performance.now();
    const snap = await syncTree(source, target, { filter, ephemerals: 'skip' });
    const snapMs = Math.round(performance.now() - t0);
    out({ case: `snapshot of ${snap.sourceNodes} znodes`, ms: snapMs, read_ms: snap.readMs, write_ms: snap.writeMs, failed: snap.failed.length });
    const v = await verifyTrees(source, target, { filter, ephemerals: 'skip' });
    out({ case: `verify of ${v.source.nodes} znodes`, ms: v.durationMs, equal: v.equal });
    await Promise.all([source.close(), target.close()]);
    process.stdout.write(
      `summary: one-hop floor p50 ${f.p50} ms / p99 ${f.p99} ms; engine lag at 100 w/s p50 ${l100.p50} / p99 ${l100.p99} ms, at 1000 w/s p50 ${l1000.p50} / p99 ${l1000.p99} ms (goal p99 <= 10); ` +
        `snapshot ${snap.sourceNodes} znodes ${(snapMs / 1000).toFixed(2)} s (goal < 10 s); verify ${v.source.nodes} znodes ${(v.durationMs / 1000).toFixed(2)} s (goal < 5 s), equal=${v.equal}; ` +
        `read floors on ${ops.length} znodes: getData 1 session ${(readFloorMs / 1000).toFixed(2)} s, getACL ${WALK_SESSIONS} sessions ${(aclFloorMs / 1000).toFixed(2)} s; bidirectional ${bidiRate} changes/s, equal=${bidi.equal}\n`,
    );
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}

function prefixKeys(r: { p50: number; p99: number; samples: number }): Record<string, number> {
  return { p50_ms: r.p50, p99_ms: r.p99, samples: r.samples };
}

main().then(
  () => clearTimeout(hardStop),
  (err: unknown) => {
    process.stdout.write(JSON.stringify({ bench: 'zk-sync', error: String(err) }) + '\n');
    process.exitCode = 1;
  },
);
