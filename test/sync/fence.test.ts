/**
 * The cutover's built-in ACL fence against two real ensembles: a writer that
 * keeps writing through the cutover is stopped at every depth, the final
 * verify does not count the fence as a difference, the target keeps the
 * original ACLs, and lifting the fence restores them on the source.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { CUTOVER_PHASES, liftCutoverFence, runCutover } from '../../runtime/sync/cutover';
import { isCode } from '../../runtime/sync/errors';
import { fenceAcl, digestIdentity } from '../../runtime/sync/fence';
import { PathFilter } from '../../runtime/sync/paths';
import { verifyTrees } from '../../runtime/sync/verify';
import { ZkClient } from '../../runtime/sync/zk/client';
import { OPEN_ACL, Perm } from '../../runtime/sync/zk/types';
import { startEnsemble, zookeeperSkipReason } from '../helpers/zookeeper';
import { SECURE_ACL, USER, buildTree, digestId } from './fixture';

t.test('fence ACL: read-only for every reader, ALL for the engine only', async (t) => {
  const me = digestIdentity([{ scheme: 'digest', auth: USER }]);
  t.equal(me, digestId(USER));
  t.same(fenceAcl(OPEN_ACL, me), [
    { perms: Perm.READ, scheme: 'world', id: 'anyone' },
    { perms: Perm.ALL, scheme: 'digest', id: me },
  ]);
  t.same(fenceAcl([{ perms: Perm.WRITE, scheme: 'ip', id: '10.0.0.1' }, ...SECURE_ACL], me), [
    { perms: Perm.READ, scheme: 'world', id: 'anyone' },
    { perms: Perm.ALL, scheme: 'digest', id: me },
  ], 'entries without READ are dropped, the engine entry is not doubled');
  t.throws(() => digestIdentity(undefined), /SYNC_USAGE.*--source-auth digest/);
});

t.test('cutover with the built-in fence (aclFence)', { skip: zookeeperSkipReason() }, async (t) => {
  const [a, b] = await Promise.all([startEnsemble(1), startEnsemble(1)]);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'zk-fence-'));
  t.teardown(async () => {
    await Promise.all([a.stop(), b.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });
  const auth = [{ scheme: 'digest', auth: USER }];
  const admin = await ZkClient.connect({ connect: a.connectString, label: 'admin', auth });
  const writer = await ZkClient.connect({ connect: a.connectString, label: 'writer' }); // world:anyone, as Marathon would be
  const target = await ZkClient.connect({ connect: b.connectString, label: 'target', auth });
  t.teardown(() => Promise.all([admin.close(), writer.close(), target.close()]));
  const fixture = await buildTree(admin, '/app', 2, 50);
  await admin.create('/other', Buffer.from('not synced'), OPEN_ACL, 0);
  const stateFile = path.join(dir, 'state.json');
  const engine = { source: { connect: a.connectString, auth }, target: { connect: b.connectString, auth }, paths: ['/app'], mode: 'one-way' as const, conflicts: 'source-wins' as const, ephemerals: 'skip' as const };

  const noDigest = await runCutover({ engine: { ...engine, source: { connect: a.connectString } }, stateFile: path.join(dir, 'x.json'), aclFence: true, report: () => undefined }).catch((e: unknown) => e);
  t.ok(isCode(noDigest, 'SYNC_USAGE'), 'no digest identity: a usage error before any phase');

  // A writer that keeps writing at several depths from the fence phase on, until every write is refused.
  let writes = 0;
  let refused = 0;
  let writing: Promise<void> | undefined;
  const startWriter = (): void => {
    writing = (async () => {
      for (let i = 0; refused < 30 && i < 5000; i++) {
        const ops = [
          () => writer.setData(`/app/g${i % 2}/n${i % 50}`, Buffer.from(`w${i}`), -1),
          () => writer.create(`/app/g${i % 2}/w${i}`, Buffer.from('new'), OPEN_ACL, 0),
          () => writer.setData('/app', Buffer.from(`root${i}`), -1),
        ];
        try {
          await ops[i % 3]!();
          writes++;
        } catch (err) {
          if (!isCode(err, 'ZK_NO_AUTH')) throw err;
          refused++;
        }
        await new Promise((r) => setTimeout(r, 3));
      }
    })();
  };
  const lines: Record<string, unknown>[] = [];
  const summary = await runCutover({
    engine,
    stateFile,
    aclFence: true,
    quietMs: 300,
    phaseTimeoutMs: 60_000,
    report: (l) => {
      lines.push(l);
      if (l.cutover === 'phase start' && l.phase === 'fence') startWriter();
    },
  });
  await writing;
  t.equal(summary?.equal, true, 'final verify equal: the fence is not a difference');
  t.same(lines.filter((l) => l.cutover === 'phase done').map((l) => l.phase), [...CUTOVER_PHASES]);
  t.ok(refused >= 30, `the writer was stopped (${writes} writes went through before the fence, ${refused} refused)`);
  const fenceLine = lines.find((l) => l.cutover === 'phase done' && l.phase === 'fence') as { details: { aclFence: { znodes: number } } };
  t.ok(fenceLine.details.aclFence.znodes >= fixture.nodes, `every synced znode fenced: ${JSON.stringify(fenceLine.details)}`);

  const refusedEverywhere = await Promise.all([
    writer.setData('/app/g1/n7', Buffer.from('late'), -1),
    writer.create('/app/g0/n3/deep', null, OPEN_ACL, 0),
    writer.delete('/app/g1/n8', -1),
    writer.setData('/app', Buffer.from('late'), -1),
  ].map((p) => p.then(() => 'written', (e: unknown) => (isCode(e, 'ZK_NO_AUTH') ? 'refused' : String(e)))));
  t.same(refusedEverywhere, ['refused', 'refused', 'refused', 'refused'], 'writes refused at every depth');
  t.same((await writer.getData('/app/g1/n7')).data !== undefined, true, 'reads still allowed');
  await writer.setData('/other', Buffer.from('outside the synced prefixes'), -1);
  t.pass('znodes outside the synced prefixes are not fenced');

  t.same((await target.getAcl('/app/g0/n1')).acl, [...OPEN_ACL], 'the target has the original ACL, not the fence');
  t.same((await target.getAcl('/app/secure')).acl, SECURE_ACL);
  const filter = new PathFilter(['/app']);
  const raw = await verifyTrees(admin, target, { filter, ephemerals: 'skip' });
  t.ok(raw.differences.length > 0 && raw.differences.every((d) => d.kind === 'acl'), 'without the fence view, only ACLs differ (the fence is real)');

  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { fence?: { acls: Record<string, unknown>; complete: boolean } };
  t.equal(state.fence?.complete, true, 'the fence is recorded in the state file');

  const lifted = await liftCutoverFence({ engine, stateFile });
  t.equal(lifted.restored, Object.keys(state.fence!.acls).length, `every ACL restored: ${JSON.stringify({ ...lifted, changed: lifted.changed.length })}`);
  t.same(lifted.phasesReset, ['fence', 'drain', 'final-verify', 'switch']);
  await writer.setData('/app/g1/n7', Buffer.from('after unfence'), -1);
  t.pass('writes allowed again after the fence is lifted');
  t.same((await admin.getAcl('/app/secure/child')).acl, SECURE_ACL, 'original ACLs back');
  await target.setData('/app/g1/n7', Buffer.from('after unfence'), -1);
  const after = await verifyTrees(admin, target, { filter, ephemerals: 'skip' });
  t.equal(after.equal, true, `source ACLs equal the target's again: ${JSON.stringify(after.differences.slice(0, 3))}`);
  const resumed = JSON.parse(readFileSync(stateFile, 'utf8')) as { done: { phase: string }[]; fence?: unknown };
  t.same(resumed.done.map((d) => d.phase), ['plan', 'snapshot', 'sync', 'verify'], 'a re-run fences again');
  t.equal(resumed.fence, undefined);
  const again = await liftCutoverFence({ engine, stateFile }).catch((e: unknown) => e);
  t.ok(isCode(again, 'SYNC_STATE'), 'lifting twice: a clear error');
});
