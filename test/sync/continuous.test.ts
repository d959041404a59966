/**
 * Continuous one-way sync against two real single-server ensembles: creates,
 * updates and deletes arrive with lag measured; the trees converge and verify
 * equal after the target restarts mid-sync and after the engine's session
 * expires.
 */
import t from 'tap';
import { SyncEngine } from '../../runtime/sync/engine';
import { PathFilter } from '../../runtime/sync/paths';
import { verifyTrees } from '../../runtime/sync/verify';
import { ZkClient } from '../../runtime/sync/zk/client';
import { OPEN_ACL, CreateMode } from '../../runtime/sync/zk/types';
import { expireSession, startEnsemble, zookeeperSkipReason } from '../helpers/zookeeper';
import { buildTree } from './fixture';

const filter = new PathFilter(['/app']);
async function converge(source: ZkClient, target: ZkClient, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await verifyTrees(source, target, { filter, ephemerals: 'skip' }).catch(() => undefined);
    if (v?.equal) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}

t.test('one-way continuous sync', { skip: zookeeperSkipReason() }, async (t) => {
  const [a, b] = await Promise.all([startEnsemble(1), startEnsemble(1)]);
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  const auth = [{ scheme: 'digest', auth: 'alice:secret' }];
  const source = await ZkClient.connect({ connect: a.connectString, label: 'writer', auth });
  const target = await ZkClient.connect({ connect: b.connectString, label: 'reader', auth });
  t.teardown(() => Promise.all([source.close(), target.close()]));
  await buildTree(source, '/app', 4, 250);

  const engine = new SyncEngine({
    source: { connect: a.connectString, auth },
    target: { connect: b.connectString, auth },
    paths: ['/app'],
    mode: 'one-way',
    conflicts: 'source-wins',
    ephemerals: 'skip',
    sessionTimeoutMs: 4000,
    log: process.env.ZK_SYNC_TEST_LOG ? (e) => process.stderr.write(JSON.stringify(e) + '\n') : undefined,
  });
  t.teardown(() => engine.stop());
  await engine.start();
  t.equal(engine.phase, 'streaming');
  t.same(engine.status().watches, { source: { kind: 'persistent' } }, 'auto: persistent recursive watches on ZooKeeper 3.8');
  t.ok(await converge(source, target, 10_000), 'snapshot verifies equal');

  t.test('creates, updates and deletes arrive; lag is measured', async (t) => {
    await source.create('/app/new', Buffer.from('n'), OPEN_ACL, 0);
    await source.create('/app/new/deep', Buffer.from([0, 255, 1]), OPEN_ACL, 0);
    const seq = await source.create('/app/locks/lock-', Buffer.from('q'), OPEN_ACL, CreateMode.PERSISTENT_SEQUENTIAL);
    for (let i = 0; i < 50; i++) await source.setData('/app/g1/n1', Buffer.from(`v${i}`), -1);
    await source.delete('/app/g2/n2', -1);
    await source.create('/app/g3/tmp', null, OPEN_ACL, 0);
    await source.delete('/app/g3/tmp', -1);
    t.ok(await engine.waitIdle(10_000), 'engine idle');
    t.same((await target.getData('/app/new/deep')).data, Buffer.from([0, 255, 1]));
    t.same((await target.getData('/app/g1/n1')).data, Buffer.from('v49'), 'the last update wins');
    t.equal(await target.exists('/app/g2/n2'), null);
    t.equal(await target.exists('/app/g3/tmp'), null);
    t.not(await target.exists(seq), null, 'sequential name kept');
    t.ok(await converge(source, target, 5000), 'verify equal');
    const st = engine.status();
    t.ok(st.lagMs && st.lagMs.count >= 50, `lag measured: ${JSON.stringify(st.lagMs)}`);
    const text = await engine.metrics.registry.metrics();
    t.match(text, /^# TYPE zk_sync_lag_ms gauge$/m);
    t.match(text, /^zk_sync_lag_ms\{direction="source-to-target"\} [0-9.]+$/m, 'the current lag has a series');
    t.match(text, /^zk_sync_lag_seconds_count\{direction="source-to-target"\} [1-9]\d*$/m, 'every change in the histogram');
    t.match(text, /zk_synced_nodes_total\{direction="source-to-target"\} \d+/);
    t.match(text, /zk_sync_phase\{phase="streaming"\} 1/);
  });

  t.test('a subtree deleted while the target has an extra child is removed whole', async (t) => {
    await source.create('/app/sub', null, OPEN_ACL, 0);
    await source.create('/app/sub/x', null, OPEN_ACL, 0);
    t.ok(await engine.waitIdle(5000));
    await target.create('/app/sub/extra', null, OPEN_ACL, 0); // someone wrote to the target
    await source.delete('/app/sub/x', -1);
    await source.delete('/app/sub', -1);
    // The engine learns of the deletes by watch events, which may arrive after
    // the deletes' replies to this client: wait for the target, not for idle.
    const deadline = Date.now() + 5000;
    while ((await target.exists('/app/sub')) !== null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    t.ok(await engine.waitIdle(5000));
    t.equal(await target.exists('/app/sub'), null);
  });

  t.test('the target restarts mid-sync: the engine re-diffs and converges', async (t) => {
    const writes = (async () => {
      for (let i = 0; i < 100; i++) {
        await source.setData(`/app/g0/n${i}`, Buffer.from(`during-restart-${i}`), -1);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await b.servers[0]!.stop();
    await writes;
    await source.create('/app/while-down', null, OPEN_ACL, 0);
    b.servers[0]!.start();
    await b.servers[0]!.waitReady();
    t.ok(await converge(source, target, 20_000), 'verify equal after the restart');
    t.ok(engine.status().resyncs >= 2, 're-diffed after reconnect');
    t.match(await engine.metrics.registry.metrics(), /zk_sync_reconnects_total\{side="target"\} [1-9]/);
  });

  t.test("the engine's session expires: a new session, a re-diff, convergence", async (t) => {
    const engineSource = engine.client('source')!;
    // Another client on the same session closes it: the server ends the
    // session, and the engine's next reconnect learns that it expired.
    // The helper sends the session's connect and its close in one write, so the
    // engine's reconnect cannot take the session back in between; should the
    // session survive anyway, try again (at most 3 times).
    for (let attempt = 0; attempt < 3 && engine.client('source') === engineSource; attempt++) {
      await expireSession(a.connectString, engineSource.session.id, engineSource.session.password);
      const wait = Date.now() + 5000;
      while (engine.client('source') === engineSource && Date.now() < wait) await new Promise((r) => setTimeout(r, 50));
    }
    await source.setData('/app/g0/n0', Buffer.from('after-expiry'), -1);
    await source.create('/app/after-expiry', null, OPEN_ACL, 0);
    const deadline = Date.now() + 20_000;
    while (engine.client('source') === engineSource && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    t.not(engine.client('source'), engineSource, 'a new source session');
    const ok = await converge(source, target, 20_000);
    t.ok(ok, 'verify equal after the expiry');
    if (!ok) t.comment(JSON.stringify(engine.status()));
    t.match(await engine.metrics.registry.metrics(), /zk_sync_session_expiries_total\{side="source"\} 1/);
  });
});
