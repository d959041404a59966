/**
 * `orchestrator zk-sync run | verify | cutover | resolve`: argument parsing
 * and process lifecycle only; the work is in engine.ts, verify.ts and
 * cutover.ts.
 */
import { Command, CommanderError, Option } from 'commander';
import pino from 'pino';
import { STRATEGIES, type Strategy } from './conflicts';
import { liftCutoverFence, runCutover } from './cutover';
import { SyncEngine, type EngineOptions } from './engine';
import { SyncError } from './errors';
import { serveEngine } from './http';
import { PathFilter } from './paths';
import { verifyTrees } from './verify';
import type { ZkAuth } from './zk/client';
import { connectBoth } from './connect';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

function parseAuth(list: string[] | undefined): ZkAuth[] | undefined {
  if (!list?.length) return undefined;
  return list.map((s) => {
    const i = s.indexOf(':');
    if (i <= 0) throw new SyncError('SYNC_USAGE', `auth must be SCHEME:CREDENTIALS (e.g. digest:user:password), got ${s}`);
    return { scheme: s.slice(0, i), auth: s.slice(i + 1) };
  });
}

interface CommonOpts {
  source: string;
  target: string;
  path?: string[];
  exclude?: string[];
  ephemerals: 'skip' | 'mirror';
  sourceAuth?: string[];
  targetAuth?: string[];
  sessionTimeoutMs: string;
  watches: 'auto' | 'persistent' | 'one-shot';
  maxWatchedZnodes?: string;
}

function common(cmd: Command): Command {
  return cmd
    .requiredOption('--source <connect>', 'source ensemble: host:port[,host:port…][/chroot]')
    .requiredOption('--target <connect>', 'target ensemble: host:port[,host:port…][/chroot]')
    .option('--path <prefix>', 'synced prefix (repeatable; default /)', collect)
    .option('--exclude <prefix>', 'prefix left out (repeatable)', collect)
    .addOption(new Option('--ephemerals <mode>', 'ephemeral znodes').choices(['skip', 'mirror']).default('skip'))
    .option('--source-auth <scheme:credentials>', 'auth for the source, e.g. digest:user:pass (repeatable)', collect)
    .option('--target-auth <scheme:credentials>', 'auth for the target (repeatable)', collect)
    .option('--session-timeout-ms <ms>', 'ZooKeeper session timeout', '10000')
    .addOption(new Option('--watches <kind>', 'change detection: persistent recursive watches (ZooKeeper 3.6+), one-shot watches (any version), or auto (persistent, one-shot if the server lacks addWatch)').choices(['auto', 'persistent', 'one-shot']).default('auto'))
    .option('--max-watched-znodes <n>', 'one-shot watches: most znodes watched per ensemble (two watches each)', '200000');
}

function engineOptions(o: CommonOpts & { mode?: string; conflicts?: string; readyLagMs?: string }): EngineOptions {
  const sourceAuth = parseAuth(o.sourceAuth);
  const targetAuth = parseAuth(o.targetAuth);
  return {
    source: { connect: o.source, ...(sourceAuth ? { auth: sourceAuth } : {}) },
    target: { connect: o.target, ...(targetAuth ? { auth: targetAuth } : {}) },
    paths: o.path ?? ['/'],
    excludes: o.exclude ?? [],
    mode: (o.mode ?? 'one-way') as EngineOptions['mode'],
    conflicts: (o.conflicts ?? 'source-wins') as Strategy,
    ephemerals: o.ephemerals,
    sessionTimeoutMs: Number(o.sessionTimeoutMs),
    readyLagMs: Number(o.readyLagMs ?? 1000),
    watches: o.watches ?? 'auto',
    ...(o.maxWatchedZnodes !== undefined ? { maxWatchedZnodes: positive('--max-watched-znodes', o.maxWatchedZnodes) } : {}),
  };
}

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new SyncError('SYNC_USAGE', `${name} must be a positive integer, got ${v}`);
  return n;
}

const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));

/** The `zk-sync` command with its subcommands, for `program.addCommand`. */
export function zkSyncCommand(): Command {
  const zk = new Command('zk-sync').description('replicate, verify and migrate ZooKeeper trees');

  common(zk.command('run').description('snapshot, then continuous sync until stopped; HTTP status, /metrics, /healthz, /readyz'))
    .addOption(new Option('--mode <mode>', 'direction').choices(['one-way', 'bidirectional']).default('one-way'))
    .addOption(new Option('--conflicts <strategy>', 'conflict strategy (bidirectional)').choices([...STRATEGIES]).default('last-write-wins'))
    .option('--port <port>', 'HTTP port for status, metrics and probes', '9465')
    .option('--ready-lag-ms <ms>', '/readyz fails while the oldest unapplied change is older', '1000')
    .action(async (o: CommonOpts & { mode: string; conflicts: string; port: string; readyLagMs: string }) => {
      const log = pino({ name: 'zk-sync' });
      const engine = new SyncEngine({ ...engineOptions(o), log: (e) => log.info(e) });
      const server = await serveEngine(engine, Number(o.port));
      log.info({ msg: 'listening', port: Number(o.port) });
      const stop = new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      try {
        await Promise.race([engine.start(), stop]);
        await stop;
      } finally {
        await engine.stop();
        server.close();
      }
    });

  common(zk.command('verify').description('compare the trees; prints a JSON summary; exit 0 only when equal'))
    .option('--max-listed <n>', 'differences listed in the summary', '100')
    .action(async (o: CommonOpts & { maxListed: string }) => {
      const e = engineOptions(o);
      const [s, t] = await connectBoth(e);
      try {
        const summary = await verifyTrees(s, t, { filter: new PathFilter(e.paths ?? ['/'], e.excludes ?? []), ephemerals: e.ephemerals, maxListed: Number(o.maxListed) });
        process.stdout.write(json(summary) + '\n');
        if (!summary.equal) throw new CommanderError(1, 'zk-sync.verify.different', '');
      } finally {
        await Promise.all([s.close(), t.close()]);
      }
    });

  common(zk.command('cutover').description('guided migration: plan → snapshot → sync → verify → fence → drain → final-verify → switch (resumable)'))
    .requiredOption('--state <file>', 'state file: records completed phases; re-run with the same file to resume')
    .option('--fence-command <sh>', 'command that stops writes to the source')
    .option('--fence-acl', 'built-in fence: every synced znode read-only on the source for all but the --source-auth digest identity (original ACLs kept in --state)')
    .option('--unfence', 'rollback of --fence-acl: restore the ACLs recorded in --state, forget the phases from fence on, and exit')
    .option('--switch-command <sh>', 'command that points clients at the target')
    .option('--quiet-ms <ms>', 'the source must stay unchanged this long to end the drain', '2000')
    .action(async (o: CommonOpts & { state: string; fenceCommand?: string; fenceAcl?: boolean; unfence?: boolean; switchCommand?: string; quietMs: string }) => {
      if (o.unfence) {
        const lifted = await liftCutoverFence({ engine: engineOptions(o), stateFile: o.state });
        process.stdout.write(json({ cutover: 'fence lifted', ...lifted }) + '\n');
        return;
      }
      const summary = await runCutover({
        engine: engineOptions(o),
        stateFile: o.state,
        ...(o.fenceCommand ? { fenceCommand: o.fenceCommand } : {}),
        ...(o.fenceAcl ? { aclFence: true } : {}),
        ...(o.switchCommand ? { switchCommand: o.switchCommand } : {}),
        quietMs: Number(o.quietMs),
        report: (line) => process.stdout.write(json(line) + '\n'),
      });
      if (summary) process.stdout.write(json({ cutover: 'final verify', ...summary }) + '\n');
    });

  zk.command('resolve')
    .description('resolve a conflict kept under --conflicts manual, through a running engine')
    .requiredOption('--status-url <url>', 'the engine, e.g. http://127.0.0.1:9465')
    .requiredOption('--path <path>', 'the conflicting znode')
    .addOption(new Option('--take <side>', 'whose state to keep').choices(['source', 'target']).makeOptionMandatory())
    .action(async (o: { statusUrl: string; path: string; take: string }) => {
      const res = await fetch(new URL('/conflicts/resolve', o.statusUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: o.path, take: o.take }) });
      const body = await res.text();
      process.stdout.write(body);
      if (!res.ok) throw new SyncError('SYNC_USAGE', `resolve failed (${res.status})`);
    });
  // Parse errors in subcommands become CommanderErrors (an exit code for
  // main) instead of a process.exit deep inside commander.
  for (const sub of zk.commands) sub.exitOverride().showHelpAfterError('(run orchestrator zk-sync --help for the commands)');
  return zk;
}
