/**
 * The one-shot-watch fallback (for ZooKeeper < 3.6, which has no addWatch),
 * forced on a real ZooKeeper 3.8 with `watches: 'one-shot'`:
 * - client level: one-shot watches fire once; after a reconnect, SetWatches
 *   split into packets below jute.maxbuffer re-registers more than 1 MiB of
 *   watch paths (the library's single packet would loop forever), and a change
 *   made while disconnected is reported;
 * - engine level: creates (a subtree at once), updates and deletes arrive, the
 *   re-diff after a dropped connection covers the gap, and changes after it
 *   still arrive by watch (no further re-diff).
 */
import t from 'tap';
import { SyncEngine } from '../../runtime/sync/engine';
import { PathFilter } from '../../runtime/sync/paths';
import { verifyTrees } from '../../runtime/sync/verify';
import { applyWrites } from '../../runtime/sync/writer';
import { ZkClient } from '../../runtime/sync/zk/client';
import { encodeSetWatches } from '../../runtime/sync/zk/one-shot';
import { JUTE_MAX_BUFFER } from '../../runtime/sync/zk/guards';
import { CreateMode, OPEN_ACL, type WatchEvent, type WriteOp } from '../../runtime/sync/zk/types';
import { expireSession, fourLetter, startEnsemble, zookeeperSkipReason } from '../helpers/zookeeper';
import { buildTree } from './fixture';

const skip = zookeeperSkipReason();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

t.test('SetWatches bodies are split below the limit, every path once', async (t) => {
  const paths = Array.from({ length: 30_000 }, (_, i) => `/w/${'x'.repeat(60)}${i}`);
  const bodies = encodeSetWatches(Buffer.alloc(8), { data: paths, exist: ['/absent'], child: paths });
  t.ok(bodies.length > 1, `${bodies.length} packets`);
  t.ok(bodies.every((b) => b.length < JUTE_MAX_BUFFER / 4), 'each far below jute.maxbuffer');
  const counted = bodies.reduce((n, b) => {
    let off = 8;
    for (let list = 0; list < 3; list++) {
      const k = b.readInt32BE(off);
      off += 4;
      for (let i = 0; i < k; i++) off += 4 + b.readInt32BE(off);
      n += k;
    }
    t.equal(off, b.length, 'three complete lists per packet');
    return n;
  }, 0);
  t.equal(counted, paths.length * 2 + 1);
});

t.test('one-shot watches against a real ZooKeeper', { skip }, async (t) => {
  const zk = await startEnsemble(1);
  t.teardown(() => zk.stop());
  const c = await ZkClient.connect({ connect: zk.connectString, label: 'watcher' });
  const w = await ZkClient.connect({ connect: zk.connectString, label: 'writer' });
  t.teardown(() => Promise.all([c.close(), w.close()]));
  const events: WatchEvent[] = [];
  c.on('watch', (e) => events.push(e));

  t.test('a one-shot watch fires once', async (t) => {
    await w.create('/once', Buffer.from('0'), OPEN_ACL, 0);
    t.same((await c.watchData('/once')).data, Buffer.from('0'));
    await w.setData('/once', Buffer.from('1'), -1);
    await w.setData('/once', Buffer.from('2'), -1);
    t.ok(await until(() => events.some((e) => e.path === '/once'), 5000));
    await sleep(200);
    t.equal(events.filter((e) => e.path === '/once').length, 1, 'one event for two changes');
    t.equal(await c.watchExists('/not-yet'), null);
    await w.create('/not-yet', null, OPEN_ACL, 0);
    t.ok(await until(() => events.some((e) => e.type === 'created' && e.path === '/not-yet'), 5000), 'exists watch fires on create');
  });

  t.test('over 1 MiB of watches survive a reconnect, re-sent in chunks; a change while disconnected fires', async (t) => {
    const names = Array.from({ length: 6000 }, (_, i) => `/many/${'n'.repeat(90)}${i}`);
    const ops: WriteOp[] = [{ op: 'create', path: '/many', data: null, acl: OPEN_ACL, mode: 0 }, ...names.map((p): WriteOp => ({ op: 'create', path: p, data: Buffer.from('0'), acl: OPEN_ACL, mode: 0 }))];
    t.same((await applyWrites(w, ops)).failed, []);
    await Promise.all(names.flatMap((p) => [c.watchData(p), c.watchChildren(p)]));
    const pathBytes = names.reduce((n, p) => n + 4 + Buffer.byteLength(p), 0) * 2;
    t.ok(pathBytes > JUTE_MAX_BUFFER, `${pathBytes} bytes of watch paths, over jute.maxbuffer`);
    const reconnected = new Promise<void>((resolve) => c.on('state', (s) => s === 'connected' && resolve()));
    c.dropConnection();
    // The server forgot this connection's watches; this change happens before they are back.
    const changed = names[17]!;
    await w.setData(changed, Buffer.from('while-disconnected'), -1);
    await reconnected;
    const packets = await c.restoreWatches({ data: names, exist: [], child: names });
    t.ok(packets >= 9, `${packets} SetWatches packets`);
    t.ok(await until(() => events.some((e) => e.type === 'dataChanged' && e.path === changed), 5000), 'the change made while disconnected is reported');
    const later = names[4000]!;
    await w.setData(later, Buffer.from('after'), -1);
    t.ok(await until(() => events.some((e) => e.type === 'dataChanged' && e.path === later), 5000), 'a re-registered watch fires');
    const wchs = await fourLetter(zk.servers[0]!.clientPort, 'wchs');
    const total = Number(/Total watches:(\d+)/.exec(wchs)?.[1] ?? 0);
    // `wchs` counts data watches; the two that fired above are consumed.
    t.ok(total >= names.length - 2, `server holds the watches again: ${wchs.trim().replace(/\n/g, ' ')}`);
    t.equal(c.state, 'connected', 'no reconnect loop');
  });
});

const filter = new PathFilter(['/app']);
const converge = async (s: ZkClient, tg: ZkClient, ms: number): Promise<boolean> => until(async () => (await verifyTrees(s, tg, { filter, ephemerals: 'skip' }).catch(() => undefined))?.equal === true, ms);

t.test('engine with the forced one-shot fallback (watches: one-shot)', { skip }, async (t) => {
  const [a, b] = await Promise.all([startEnsemble(1), startEnsemble(1)]);
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  const auth = [{ scheme: 'digest', auth: 'alice:secret' }];
  const source = await ZkClient.connect({ connect: a.connectString, label: 'writer', auth });
  const target = await ZkClient.connect({ connect: b.connectString, label: 'reader', auth });
  t.teardown(() => Promise.all([source.close(), target.close()]));
  const fixture = await buildTree(source, '/app', 3, 100);
  const engine = new SyncEngine({
    source: { connect: a.connectString, auth },
    target: { connect: b.connectString, auth },
    paths: ['/app'],
    mode: 'one-way',
    conflicts: 'source-wins',
    ephemerals: 'skip',
    sessionTimeoutMs: 4000,
    watches: 'one-shot',
  });
  t.teardown(() => engine.stop());
  await engine.start();
  const st = engine.status();
  t.equal(st.watches.source?.kind, 'one-shot', 'forced one-shot mode');
  t.equal(st.watches.source?.watchedZnodes, fixture.nodes, 'every synced znode watched');
  t.ok(await converge(source, target, 10_000), 'snapshot verifies equal');

  t.test('creates, updates and deletes arrive', async (t) => {
    // A subtree created at once: the child may exist before the parent's watch is set.
    await Promise.all([source.create('/app/new', Buffer.from('n'), OPEN_ACL, 0), source.create('/app/new/deep', Buffer.from([0, 255, 1]), OPEN_ACL, 0)]);
    await source.create('/app/new/deep/deeper', null, OPEN_ACL, 0);
    const seq = await source.create('/app/locks/lock-', Buffer.from('q'), OPEN_ACL, CreateMode.PERSISTENT_SEQUENTIAL);
    for (let i = 0; i < 50; i++) await source.setData('/app/g1/n1', Buffer.from(`v${i}`), -1);
    await source.setData('/app/new/deep/deeper', Buffer.from('changed after create'), -1);
    await source.delete('/app/g2/n2', -1);
    await source.create('/app/g0/tmp', null, OPEN_ACL, 0);
    await source.delete('/app/g0/tmp', -1);
    const resyncs = engine.status().resyncs;
    t.ok(await until(async () => (await target.exists('/app/new/deep/deeper').then((s) => s?.dataLength)) === 20 && (await target.exists('/app/g2/n2')) === null, 10_000), 'changes reached the target');
    t.ok(await engine.waitIdle(10_000));
    t.same((await target.getData('/app/new/deep')).data, Buffer.from([0, 255, 1]));
    t.same((await target.getData('/app/g1/n1')).data, Buffer.from('v49'), 'the last update wins');
    t.not(await target.exists(seq), null, 'sequential name kept');
    t.equal(await target.exists('/app/g0/tmp'), null);
    t.ok(await converge(source, target, 5000), 'verify equal');
    t.equal(engine.status().resyncs, resyncs, 'by watches, not by a re-diff');
    t.equal(engine.status().watches.source?.watchedZnodes, fixture.nodes + 3 + 1 - 1, 'new znodes watched, deleted ones dropped');
    // Deleted and created again under the same name: watched again, later changes arrive.
    await source.delete('/app/g0/n5', -1);
    await source.create('/app/g0/n5', Buffer.from('again'), OPEN_ACL, 0);
    t.ok(await until(async () => (await target.getData('/app/g0/n5').catch(() => undefined))?.data?.toString() === 'again', 5000), 're-created znode copied');
    await source.setData('/app/g0/n5', Buffer.from('changed after re-create'), -1);
    t.ok(await until(async () => (await target.getData('/app/g0/n5')).data?.toString() === 'changed after re-create', 5000), 'and watched again');
    await source.delete('/app/new/deep/deeper', -1);
    await source.delete('/app/new/deep', -1);
    await source.delete('/app/new', -1);
    t.ok(await until(async () => (await target.exists('/app/new')) === null, 5000), 'a subtree deleted');
  });

  t.test('a dropped connection: the re-diff covers the gap, and the watches are back', async (t) => {
    const before = engine.status().resyncs;
    const writes = (async () => {
      for (let i = 0; i < 60; i++) {
        await source.setData(`/app/g0/n${i}`, Buffer.from(`gap-${i}`), -1);
        if (i === 20) await source.create('/app/during-gap', null, OPEN_ACL, 0);
        await sleep(2);
      }
    })();
    engine.client('source')!.dropConnection();
    await writes;
    t.ok(await until(() => engine.status().resyncs > before && engine.phase === 'streaming', 15_000), 're-diffed after the reconnect');
    t.ok(await converge(source, target, 15_000), 'verify equal after the gap');
    const resyncs = engine.status().resyncs;
    await source.setData('/app/during-gap', Buffer.from('watched?'), -1);
    await source.create('/app/during-gap/child', Buffer.from('c'), OPEN_ACL, 0);
    await source.setData('/app/g2/n9', Buffer.from('after-reconnect'), -1);
    t.ok(
      await until(async () => (await target.exists('/app/during-gap/child')) !== null && (await target.getData('/app/g2/n9')).data?.toString() === 'after-reconnect', 10_000),
      'changes after the reconnect arrive',
    );
    t.same((await target.getData('/app/during-gap')).data, Buffer.from('watched?'), 'a znode created during the gap is watched');
    t.equal(engine.status().resyncs, resyncs, 'by watches, not by another re-diff');
  });

  t.test("the engine's session expires: a new session is watched from scratch", async (t) => {
    const old = engine.client('source')!;
    // As in continuous.test.ts: the engine may win its session back before the thief closes it; retry.
    for (let attempt = 0; attempt < 6 && engine.client('source') === old; attempt++) {
      await expireSession(a.connectString, old.session.id, old.session.password);
      await until(() => engine.client('source') !== old, 5000);
    }
    t.not(engine.client('source'), old, 'a new source session');
    await source.create('/app/after-expiry', Buffer.from('x'), OPEN_ACL, 0);
    t.ok(await until(() => engine.phase === 'streaming', 15_000));
    t.ok(await converge(source, target, 15_000), 'verify equal after the expiry');
    const resyncs = engine.status().resyncs;
    await source.create('/app/after-expiry/child', null, OPEN_ACL, 0);
    await source.setData('/app/g1/n3', Buffer.from('new session'), -1);
    t.ok(await until(async () => (await target.exists('/app/after-expiry/child')) !== null && (await target.getData('/app/g1/n3')).data?.toString() === 'new session', 10_000), 'changes arrive on the new session');
    t.equal(engine.status().resyncs, resyncs, 'by watches');
    t.equal(engine.status().watches.source?.kind, 'one-shot');
  });

  t.test('the number of watched znodes is bounded', async (t) => {
    const options = { source: { connect: a.connectString, auth }, target: { connect: b.connectString, auth }, mode: 'one-way' as const, conflicts: 'source-wins' as const, ephemerals: 'skip' as const, watches: 'one-shot' as const };
    const tooSmall = new SyncEngine({ ...options, paths: ['/app'], maxWatchedZnodes: 10 });
    const err = await tooSmall.start().then(() => undefined, (e: unknown) => e);
    t.match(String(err), /SYNC_WATCH_LIMIT: one-shot watch mode watches at most 10 znodes/, 'a tree over the bound: a clear error at start');
    await source.create('/bounded', null, OPEN_ACL, 0);
    await source.create('/bounded/a', null, OPEN_ACL, 0);
    const bounded = new SyncEngine({ ...options, paths: ['/bounded'], maxWatchedZnodes: 3 });
    t.teardown(() => bounded.stop());
    await bounded.start();
    t.equal(bounded.status().watches.source?.watchedZnodes, 2);
    await source.create('/bounded/b', null, OPEN_ACL, 0);
    t.ok(await until(() => bounded.status().watches.source?.watchedZnodes === 3, 5000), 'a new znode within the bound is watched');
    await source.create('/bounded/c', null, OPEN_ACL, 0);
    t.ok(await until(() => (bounded.status().errors.SYNC_WATCH_LIMIT ?? 0) >= 1, 5000), 'a znode past the bound is counted as an error');
    t.equal(bounded.status().watches.source?.watchedZnodes, 3, 'never more than the bound');
    t.ok(await until(async () => (await target.exists('/bounded/b')) !== null, 5000), 'the znode within the bound arrives by watch');
  });
});
