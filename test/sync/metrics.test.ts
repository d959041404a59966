/**
 * The engine's /metrics as the constructs read them (runtime/common/telemetry.ts):
 * `zk_sync_lag_ms` is a Gauge of the current lag with a series from startup, the
 * distribution is the histogram `zk_sync_lag_seconds`, and every labelled counter
 * the alerts and dashboards read exists at 0 before anything happened.
 * No ZooKeeper needed: the engine's constructor declares the series.
 */
import t from 'tap';
import { ZK_SYNC_METRICS } from '../../runtime/common/telemetry';
import { SyncEngine } from '../../runtime/sync/engine';
import { SYNC_ERROR_CODES } from '../../runtime/sync/errors';
import { SyncMetrics } from '../../runtime/sync/metrics';

/** Samples of the exposition text: name, labels as written, value. */
function samples(text: string): { name: string; labels: string; value: number }[] {
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(l);
      if (!m) throw new Error(`unparsable sample: ${l}`);
      return { name: m[1]!, labels: m[2] ?? '', value: Number(m[3]) };
    });
}
const typeOf = (text: string, name: string): string | undefined => new RegExp(`^# TYPE ${name} (\\w+)$`, 'm').exec(text)?.[1];
const value = (text: string, name: string, labels: string): number | undefined => samples(text).find((s) => s.name === name && s.labels === labels)?.value;

const engineOptions = (mode: 'one-way' | 'bidirectional') =>
  ({
    source: { connect: '127.0.0.1:1' },
    target: { connect: '127.0.0.1:1' },
    mode,
    conflicts: mode === 'bidirectional' ? 'last-write-wins' : 'source-wins',
    ephemerals: 'skip',
  }) as const;

t.test('zk_sync_lag_ms is a gauge with a series from startup; the distribution is zk_sync_lag_seconds', async (t) => {
  const engine = new SyncEngine(engineOptions('one-way'));
  const text = await engine.metrics.registry.metrics();
  t.equal(typeOf(text, ZK_SYNC_METRICS.lagMs), 'gauge', `${ZK_SYNC_METRICS.lagMs} is a gauge, as the alert and dashboards read it`);
  t.equal(value(text, ZK_SYNC_METRICS.lagMs, '{direction="source-to-target"}'), 0, 'the bare name has a series at 0 before any change');
  t.equal(typeOf(text, ZK_SYNC_METRICS.lagSeconds), 'histogram');
  t.equal(value(text, `${ZK_SYNC_METRICS.lagSeconds}_count`, '{direction="source-to-target"}'), 0, 'the histogram has its series too');
  t.notOk(samples(text).some((s) => s.name === `${ZK_SYNC_METRICS.lagMs}_bucket`), 'no histogram under the gauge name');
});

t.test('labelled counters the queries read exist at 0 from startup', async (t) => {
  for (const mode of ['one-way', 'bidirectional'] as const) {
    const engine = new SyncEngine(engineOptions(mode));
    const text = await engine.metrics.registry.metrics();
    for (const side of ['source', 'target']) {
      t.equal(value(text, ZK_SYNC_METRICS.sessionExpiries, `{side="${side}"}`), 0, `${mode}: ${ZK_SYNC_METRICS.sessionExpiries}{side="${side}"} 0`);
      t.equal(value(text, ZK_SYNC_METRICS.reconnects, `{side="${side}"}`), 0, `${mode}: ${ZK_SYNC_METRICS.reconnects}{side="${side}"} 0`);
    }
    for (const kind of SYNC_ERROR_CODES) t.equal(value(text, ZK_SYNC_METRICS.errors, `{kind="${kind}"}`), 0, `${mode}: ${ZK_SYNC_METRICS.errors}{kind="${kind}"} 0`);
    const directions = mode === 'bidirectional' ? ['source-to-target', 'target-to-source'] : ['source-to-target'];
    for (const d of directions) {
      t.equal(value(text, ZK_SYNC_METRICS.syncedNodes, `{direction="${d}"}`), 0, `${mode}: synced ${d} 0`);
      t.equal(value(text, ZK_SYNC_METRICS.lagMs, `{direction="${d}"}`), 0, `${mode}: lag ${d} 0`);
    }
    const strategy = engine.options.conflicts;
    t.equal(value(text, ZK_SYNC_METRICS.conflicts, `{strategy="${strategy}"}`), 0, `${mode}: conflicts{strategy="${strategy}"} 0`);
    // Counting still works on top of the zeros.
    engine.metrics.expiries.inc({ side: 'source' });
    engine.metrics.errors.inc({ kind: 'ZK_SESSION_EXPIRED' });
    const after = await engine.metrics.registry.metrics();
    t.equal(value(after, ZK_SYNC_METRICS.sessionExpiries, '{side="source"}'), 1);
    t.equal(value(after, ZK_SYNC_METRICS.errors, '{kind="ZK_SESSION_EXPIRED"}'), 1);
  }
});

t.test('the lag gauge: the last applied change, held, then 0 when idle; a stuck backlog raises it', async (t) => {
  let now = 1_000_000;
  const m = new SyncMetrics({ lagHoldMs: 30_000, now: () => now });
  m.track(['source-to-target', 'target-to-source'], 'manual');
  let pending: number | undefined;
  m.setPendingAge(() => pending);
  const lag = async (d: string): Promise<number | undefined> => value(await m.registry.metrics(), ZK_SYNC_METRICS.lagMs, `{direction="${d}"}`);

  m.observeLag(120, 'source-to-target');
  m.observeLag(3, 'source-to-target');
  t.equal(await lag('source-to-target'), 3, 'the most recent change, not the largest');
  t.equal(await lag('target-to-source'), 0, 'per direction');
  m.observeLag(75.5, 'target-to-source');
  t.equal(await lag('target-to-source'), 75.5);

  now += 29_000;
  t.equal(await lag('source-to-target'), 3, 'held while within the hold window (a scrape sees it)');
  now += 2_000;
  t.equal(await lag('source-to-target'), 0, 'idle: back to 0, so one old slow change cannot keep an alert firing');
  t.equal(await lag('target-to-source'), 0);

  pending = 4_000;
  t.equal(await lag('source-to-target'), 4000, 'a change waiting 4 s: the gauge reads 4 s although nothing was applied');
  pending = undefined;
  m.observeLag(60, 'source-to-target');
  t.equal(await lag('source-to-target'), 60);

  const text = await m.registry.metrics();
  t.equal(value(text, `${ZK_SYNC_METRICS.lagSeconds}_count`, '{direction="source-to-target"}'), 3, 'every change in the histogram');
  t.equal(value(text, `${ZK_SYNC_METRICS.lagSeconds}_bucket`, '{le="0.005",direction="source-to-target"}'), 1, 'in seconds: 3 ms is under 0.005');
  t.equal(value(text, `${ZK_SYNC_METRICS.lagSeconds}_bucket`, '{le="0.1",direction="source-to-target"}'), 2);
  t.same(m.recentLag(), { count: 4, p50: 60, p99: 120, max: 120, last: 60 }, '/status percentiles over the raw samples, in ms');
});
