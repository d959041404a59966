/**
 * The guided cutover: plan → snapshot → sync → verify → fence → drain →
 * final-verify → switch. Each phase is reported (JSON line with its
 * duration) and recorded in a state file, so a run that stops can be resumed
 * and continues after the last completed phase.
 *
 * Fencing: the operator's command (e.g. scale writers to 0), the built-in
 * ACL fence (fence.ts: every synced znode read-only on the source for all but
 * the engine's digest identity, original ACLs recorded in the state file so
 * that `liftCutoverFence` restores them), or both. While fenced, every ACL
 * read of the source (the engine's re-diffs, the final verify) answers the
 * recorded original ACL for a fenced znode, so the fence is never copied to
 * the target and never reported as a difference, while any other ACL
 * difference still is. Switching stays the operator's command: the engine
 * cannot know how a platform's clients are configured.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, renameSync } from 'node:fs';
import { SyncError } from './errors';
import { SyncEngine, type EngineOptions } from './engine';
import { PathFilter } from './paths';
import { verifyTrees, topRoots, type VerifySummary } from './verify';
import { WALK_SESSIONS, readTree } from './tree-walk';
import { ZkClient } from './zk/client';
import type { Acl } from './zk/types';
import { connectBoth } from './connect';
import { digestIdentity, liftFence, raiseFence, unfencedView, type FenceRecord, type LiftResult } from './fence';

export const CUTOVER_PHASES = ['plan', 'snapshot', 'sync', 'verify', 'fence', 'drain', 'final-verify', 'switch'] as const;
export type CutoverPhase = (typeof CUTOVER_PHASES)[number];

export interface CutoverOptions {
  engine: EngineOptions;
  stateFile: string;
  /** Shell command that stops writes to the source (e.g. scale Marathon to 0). */
  fenceCommand?: string;
  /** Built-in fence: synced znodes read-only on the source for all but the engine's digest identity (fence.ts). */
  aclFence?: boolean;
  /** Shell command that points clients at the target. */
  switchCommand?: string;
  /** The source must stay unchanged this long before the drain ends. @default 2000 */
  quietMs?: number;
  /** Bound on each waiting phase. @default 300000 */
  phaseTimeoutMs?: number;
  report: (line: Record<string, unknown>) => void;
}

interface CutoverState {
  source: string;
  target: string;
  done: { phase: CutoverPhase; durationMs: number; at: string; details?: unknown }[];
  /** The built-in fence: original ACLs, kept until the fence is lifted. */
  fence?: FenceRecord;
}

function loadState(o: CutoverOptions): CutoverState {
  if (!existsSync(o.stateFile)) return { source: o.engine.source.connect, target: o.engine.target.connect, done: [] };
  const s = JSON.parse(readFileSync(o.stateFile, 'utf8')) as CutoverState;
  if (s.source !== o.engine.source.connect || s.target !== o.engine.target.connect) {
    throw new SyncError('SYNC_STATE', `${o.stateFile} belongs to a cutover of ${s.source} → ${s.target}; use another --state file`);
  }
  return s;
}

function saveState(file: string, s: CutoverState): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(s, null, 2));
  renameSync(`${file}.tmp`, file); // atomic: a crash never leaves half a state file
}

function run(cmd: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('sh', ['-c', cmd], { timeout: timeoutMs }, (err, _out, stderr) => (err ? reject(new SyncError('SYNC_USAGE', `command failed: ${cmd}: ${stderr.trim() || err.message}`)) : resolve())),
  );
}

/** Runs the remaining phases; resolves with the final verify summary. */
export async function runCutover(o: CutoverOptions): Promise<VerifySummary | undefined> {
  const state = loadState(o);
  const done = new Set(state.done.map((d) => d.phase));
  const timeout = o.phaseTimeoutMs ?? 300_000;
  const filter = new PathFilter(o.engine.paths?.length ? o.engine.paths : ['/'], o.engine.excludes ?? []);
  if (o.aclFence) digestIdentity(o.engine.source.auth); // bad input fails before any phase runs
  // Fenced znodes read as their original ACL everywhere the source is read (see the header).
  const view = (path: string, acl: Acl[]): Acl[] => (state.fence ? unfencedView(state.fence)(path, acl) : acl);
  let engine: SyncEngine | undefined;
  let last: VerifySummary | undefined;
  const finish = (phase: CutoverPhase, start: number, details?: unknown): void => {
    const entry = { phase, durationMs: Math.round(performance.now() - start), at: new Date().toISOString(), ...(details !== undefined ? { details } : {}) };
    state.done.push(entry);
    saveState(o.stateFile, state);
    o.report({ cutover: 'phase done', ...entry });
  };
  const verify = async (): Promise<VerifySummary> => {
    const [s, t] = await connectBoth(o.engine);
    s.setAclView(view);
    try {
      return await verifyTrees(s, t, { filter, ephemerals: o.engine.ephemerals });
    } finally {
      await Promise.all([s.close(), t.close()]);
    }
  };
  try {
    for (const phase of CUTOVER_PHASES) {
      // The engine does not survive a restart of the command: a resumed
      // cutover past the snapshot starts it again (its initial sync is a re-diff).
      if (done.has(phase)) {
        o.report({ cutover: 'phase skipped (done before)', phase });
        continue;
      }
      const start = performance.now();
      o.report({ cutover: 'phase start', phase });
      if (engine === undefined && phase !== 'plan' && phase !== 'final-verify' && phase !== 'switch') {
        engine = new SyncEngine({ ...o.engine, mode: 'one-way', sourceAclView: view });
        await engine.start();
        if (phase !== 'snapshot') o.report({ cutover: 'engine restarted for resume', phase });
      }
      switch (phase) {
        case 'plan': {
          const s = await ZkClient.connect({ connect: o.engine.source.connect, label: 'source', ...(o.engine.source.auth ? { auth: o.engine.source.auth } : {}) });
          let nodes = 0;
          let bytes = 0;
          const t0 = performance.now();
          try {
            for (const root of topRoots(filter.prefixes)) {
              const tree = await readTree(s, root, { skip: (p) => !filter.includes(p), sessions: WALK_SESSIONS });
              for (const n of tree.values()) {
                nodes++;
                bytes += n.data?.length ?? 0;
              }
            }
          } finally {
            await s.close();
          }
          const readMs = performance.now() - t0;
          // Estimates from this read: a snapshot reads both trees and writes one; a verify reads both.
          finish(phase, start, { nodes, bytes, estimatedSnapshotMs: Math.round(readMs * 2.5), estimatedVerifyMs: Math.round(readMs * 1.2) });
          break;
        }
        case 'snapshot':
          finish(phase, start, engine!.status().lastResync);
          break;
        case 'sync': {
          const deadline = Date.now() + timeout;
          while (!engine!.readiness().ready && Date.now() < deadline) await sleep(100);
          if (!engine!.readiness().ready) throw new SyncError('ZK_TIMEOUT', `sync not ready: ${engine!.readiness().reason}`);
          finish(phase, start, { lagMs: engine!.status().lagMs });
          break;
        }
        case 'verify':
        case 'final-verify': {
          if (phase === 'verify' && !(await engine!.waitIdle(timeout))) throw new SyncError('ZK_TIMEOUT', 'engine did not become idle before verify');
          last = await verify();
          if (!last.equal && phase === 'final-verify') throw new SyncError('SYNC_STATE', `final verify found ${last.differenceCount} differences: ${JSON.stringify(last.differences.slice(0, 5))}`);
          if (!last.equal) {
            // Changes still flowing: wait for the engine and verify again once.
            await engine!.waitIdle(timeout);
            last = await verify();
          }
          if (!last.equal) throw new SyncError('SYNC_STATE', `verify found ${last.differenceCount} differences`);
          finish(phase, start, { nodes: last.source.nodes, digest: last.source.digest, durationMs: last.durationMs });
          break;
        }
        case 'fence': {
          if (o.fenceCommand) await run(o.fenceCommand, timeout);
          let acl: { znodes: number; rounds: number } | undefined;
          if (o.aclFence) {
            // ZooKeeper's own /zookeeper is never fenced (nor synced).
            const record = await fenceSource(o, new PathFilter(filter.prefixes, filter.excludes, true), state);
            acl = { znodes: Object.keys(record.acls).length, rounds: record.rounds };
          }
          finish(phase, start, {
            command: o.fenceCommand ?? (o.aclFence ? '(none)' : '(none: writers stopped by the operator)'),
            ...(acl ? { aclFence: acl } : {}),
          });
          break;
        }
        case 'drain': {
          const quiet = o.quietMs ?? 2000;
          const deadline = Date.now() + timeout;
          let appliedBefore = engine!.status().applied;
          let quietSince = Date.now();
          while (Date.now() < deadline) {
            await engine!.waitIdle(Math.max(1, deadline - Date.now()));
            const applied = engine!.status().applied;
            if (applied !== appliedBefore) {
              appliedBefore = applied;
              quietSince = Date.now();
            } else if (Date.now() - quietSince >= quiet && engine!.status().backlog === 0) break;
            await sleep(100);
          }
          if (Date.now() >= deadline) throw new SyncError('ZK_TIMEOUT', 'source kept changing: is it fenced?');
          await engine!.stop();
          engine = undefined;
          finish(phase, start, { backlog: 0 });
          break;
        }
        case 'switch':
          if (o.switchCommand) await run(o.switchCommand, timeout);
          finish(phase, start, { command: o.switchCommand ?? '(none: clients repointed by the operator)' });
          break;
      }
    }
    o.report({ cutover: 'complete', totalMs: state.done.reduce((n, d) => n + d.durationMs, 0) });
    return last;
  } finally {
    await engine?.stop();
  }
}

/** Raises the built-in fence, saving the original ACLs into the state file as it goes. */
async function fenceSource(o: CutoverOptions, filter: PathFilter, state: CutoverState): Promise<FenceRecord> {
  const identity = digestIdentity(o.engine.source.auth);
  const record: FenceRecord = state.fence ?? { identity, acls: {}, complete: false, rounds: 0 };
  state.fence = record;
  const s = await ZkClient.connect({ connect: o.engine.source.connect, label: 'source (fence)', ...(o.engine.source.auth ? { auth: o.engine.source.auth } : {}) });
  try {
    return await raiseFence(s, record, { roots: topRoots(filter.prefixes), includes: (p) => filter.includes(p), save: () => saveState(o.stateFile, state) });
  } finally {
    await s.close();
  }
}

/**
 * Rollback of the built-in fence: restores the recorded ACLs on the source,
 * then forgets the fence and every phase from `fence` on, so that a re-run
 * with the same state file fences again. The source must still be the
 * authoritative ensemble (see the playbook before doing this after `switch`).
 */
export async function liftCutoverFence(o: Pick<CutoverOptions, 'engine' | 'stateFile'>): Promise<LiftResult & { phasesReset: CutoverPhase[] }> {
  const state = loadState(o as CutoverOptions);
  if (!state.fence) throw new SyncError('SYNC_STATE', `${o.stateFile} records no built-in fence: nothing to lift`);
  const s = await ZkClient.connect({ connect: o.engine.source.connect, label: 'source (unfence)', ...(o.engine.source.auth ? { auth: o.engine.source.auth } : {}) });
  let result: LiftResult;
  try {
    result = await liftFence(s, state.fence);
  } finally {
    await s.close();
  }
  const from = CUTOVER_PHASES.indexOf('fence');
  const reset = state.done.filter((d) => CUTOVER_PHASES.indexOf(d.phase) >= from).map((d) => d.phase);
  state.done = state.done.filter((d) => CUTOVER_PHASES.indexOf(d.phase) < from);
  delete state.fence;
  saveState(o.stateFile, state);
  return { ...result, phasesReset: reset };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
