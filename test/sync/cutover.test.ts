/** The guided cutover against two real ensembles: every phase reported with its duration, then resumable. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { CUTOVER_PHASES, runCutover } from '../../runtime/sync/cutover';
import { ZkClient } from '../../runtime/sync/zk/client';
import { startEnsemble, zookeeperSkipReason } from '../helpers/zookeeper';
import { buildTree } from './fixture';

t.test('cutover runs every phase and resumes from its state file', { skip: zookeeperSkipReason() }, async (t) => {
  const [a, b] = await Promise.all([startEnsemble(1), startEnsemble(1)]);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'zk-cutover-'));
  t.teardown(async () => {
    await Promise.all([a.stop(), b.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });
  const auth = [{ scheme: 'digest', auth: 'alice:secret' }];
  const source = await ZkClient.connect({ connect: a.connectString, label: 'writer', auth });
  t.teardown(() => source.close());
  await buildTree(source, '/app', 2, 100);
  const stateFile = path.join(dir, 'state.json');
  const marker = path.join(dir, 'fenced');
  const lines: Record<string, unknown>[] = [];
  const engine = { source: { connect: a.connectString, auth }, target: { connect: b.connectString, auth }, paths: ['/app'], mode: 'one-way' as const, conflicts: 'source-wins' as const, ephemerals: 'skip' as const };
  const summary = await runCutover({ engine, stateFile, fenceCommand: `touch ${marker}`, quietMs: 300, phaseTimeoutMs: 30_000, report: (l) => lines.push(l) });
  t.equal(summary?.equal, true, 'final verify equal');
  const done = lines.filter((l) => l.cutover === 'phase done');
  t.same(done.map((l) => l.phase), [...CUTOVER_PHASES], 'every phase, in order');
  t.ok(done.every((l) => typeof l.durationMs === 'number'), 'each with its duration');
  t.ok(readFileSync(marker) !== undefined, 'the fence command ran');
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { done: unknown[] };
  t.equal(state.done.length, CUTOVER_PHASES.length);

  const again: Record<string, unknown>[] = [];
  await runCutover({ engine, stateFile, quietMs: 300, report: (l) => again.push(l) });
  t.equal(again.filter((l) => l.cutover === 'phase skipped (done before)').length, CUTOVER_PHASES.length, 'resumed: nothing re-done');

  const other = await runCutover({ engine: { ...engine, target: { connect: '127.0.0.1:1' } }, stateFile, report: () => undefined }).catch((e: unknown) => e);
  t.match(String(other), /SYNC_STATE/, 'a state file of another cutover is refused');
});
