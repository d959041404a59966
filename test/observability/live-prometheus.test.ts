/**
 * A real Prometheus (Debian's package) scrapes the real app (HTTPS, viewer token, the test CA),
 * the real probe (`--metrics-listen`) and the real sync engine (`zk-sync run` between two real
 * single-server ZooKeeper ensembles) on loopback, every second. Every query the constructs
 * generate over the project's own metrics (queries.ts, the alert rules, the five dashboards,
 * the canary AnalysisTemplates) then returns series. Queries over third-party metrics are listed
 * below with the reason they cannot return data here, and the split is checked to be exhaustive.
 *
 * The scrape jobs are the generated ones (job name, scheme, path, bearer token, TLS server name)
 * with Kubernetes discovery replaced by a static target carrying the labels the relabelling
 * would set (namespace, pod, node, migration, pod-template hash).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Agent, request } from 'undici';
import { parse, stringify } from 'yaml';
import { CANARY_HASH_ARG } from '../../constructs/delivery/canary';
import { ENVIRONMENTS } from '../../constructs/environments';
import { HASH_LABEL, JOBS, MIGRATION_LABEL } from '../../constructs/observability/queries';
import * as Q from '../../constructs/observability/queries';
import {
  APP_HEALTH_PATH, APP_METRICS, PROBE_EXTRA_METRICS, PROBE_HEALTH_PATH, PROBE_METRICS, PROCESS_METRICS, ZK_SYNC_METRICS, ZK_SYNC_STATUS_PATH,
} from '../../runtime/common/telemetry';
import { encodeReportSync } from '../../runtime/report';
import { SimProbe, loadTemplates } from '../app/fleet';
import { freePorts, startEnsemble, zookeeperSkipReason, type ZkEnsemble } from '../helpers/zookeeper';
import { REPO_ROOT, findObject, synthObjects } from '../lib/platform';
import { TEST_POD_TEMPLATE_HASH, instantiate } from './template-vars';

/* eslint-disable @typescript-eslint/no-explicit-any */
const PROMETHEUS = '/usr/bin/prometheus';
const CLI = [join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'), join(REPO_ROOT, 'runtime/cli.ts')];
/** Every wait of this file ends by this budget (tap's own timeout is 300 s). */
const POLL_BUDGET_MS = 45_000;

/** prod: it has a bidirectional migration (the one with conflicts), and every other component. */
const ENV = ENVIRONMENTS.prod;
const MIGRATION = ENV.zkSync.migrations.find((m) => m.mode === 'bidirectional') ?? ENV.zkSync.migrations[0]!;
const NODE = 'live-test-node';

// ---------------------------------------------------------------------------------------------
// Which metric is whose.

/** Our own services' metric names (the runtime exports these; telemetry.ts names them). */
const OUR_METRICS = new Set<string>([
  ...Object.values(APP_METRICS), ...Object.values(PROBE_METRICS), ...Object.values(PROBE_EXTRA_METRICS),
  ...Object.values(ZK_SYNC_METRICS), ...Object.values(PROCESS_METRICS),
]);
const OUR_JOBS = new Set<string>([JOBS.app, JOBS.probe, JOBS.zkSync]);

/** Metrics of third-party software: no such process runs here, so their queries cannot return data. */
const NOT_SCRAPABLE_HERE: Readonly<Record<string, string>> = {
  mesos_master_elected: 'Mesos exporter sidecar of the Mesos masters (no Mesos master runs here)',
  mesos_master_slaves_state: 'Mesos exporter (no Mesos master runs here)',
  mesos_master_frameworks_state: 'Mesos exporter (no Mesos master runs here)',
  mesos_master_cpus: 'Mesos exporter (no Mesos master runs here)',
  mesos_master_mem: 'Mesos exporter (no Mesos master runs here)',
  mesos_master_disk: 'Mesos exporter (no Mesos master runs here)',
  mesos_master_task_states_current: 'Mesos exporter (no Mesos master runs here)',
  mesos_master_offers_pending: 'Mesos exporter (no Mesos master runs here)',
  marathon_apps_active_gauge: "Marathon's own /metrics/prometheus (no Marathon runs here)",
  marathon_instances_running_gauge: "Marathon's own /metrics/prometheus (no Marathon runs here)",
  marathon_instances_staged_gauge: "Marathon's own /metrics/prometheus (no Marathon runs here)",
  marathon_deployments_active_gauge: "Marathon's own /metrics/prometheus (no Marathon runs here)",
  marathon_jvm_memory_heap_used_gauge_bytes: "Marathon's own /metrics/prometheus (no Marathon runs here)",
  znode_count: "ZooKeeper's own metrics provider (Debian's ZooKeeper ships without the Prometheus provider; the test ensembles are for the sync engine)",
  outstanding_requests: "ZooKeeper's own metrics provider (as znode_count)",
  analysis_run_metric_phase: 'Argo Rollouts controller (no Kubernetes, no controller here)',
  rollout_info: 'Argo Rollouts controller (no Kubernetes, no controller here)',
  nginx_ingress_controller_requests: 'NGINX Ingress controller (no Kubernetes, no ingress here)',
};
/** `up` of third-party scrape jobs: never a target here. */
const NOT_SCRAPABLE_JOBS: Readonly<Record<string, string>> = {
  [JOBS.zookeeper]: "ZooKeeper's own metrics port (not enabled in the test ensembles)",
  [JOBS.mesosMaster]: 'Mesos exporter (no Mesos master runs here)',
  [JOBS.marathon]: 'Marathon (no Marathon runs here)',
};

/**
 * Queries over our own metrics that the running services cannot make return data today, each
 * with the runtime fix it needs. They are asserted as TODO (visible in the TAP output) rather
 * than hidden; an entry that starts returning data is reported as a passing TODO to remove.
 */
const KNOWN_GAPS: ReadonlyArray<{ metric: string; why: string }> = [];

interface Selector { metric: string; job?: string }

/** The vector selectors of an expression (every generated selector has a `{...}` matcher). */
function selectors(expr: string): Selector[] {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/g)].map((m) => {
    const job = /(?:^|,)job="([^"]+)"/.exec(m[2]!)?.[1];
    return { metric: m[1]!.replace(/_(bucket|sum|count)$/, (s) => (OUR_METRICS.has(m[1]!.slice(0, -s.length)) ? '' : s)), ...(job ? { job } : {}) };
  });
}

type Owner = { kind: 'ours' } | { kind: 'third-party'; reason: string } | { kind: 'unknown'; what: string };

function ownerOf(s: Selector): Owner {
  if (s.metric === 'up') {
    if (s.job && OUR_JOBS.has(s.job)) return { kind: 'ours' };
    if (s.job && NOT_SCRAPABLE_JOBS[s.job]) return { kind: 'third-party', reason: `up of job ${s.job}: ${NOT_SCRAPABLE_JOBS[s.job]}` };
    return { kind: 'unknown', what: `up{job="${s.job ?? ''}"}` };
  }
  if (OUR_METRICS.has(s.metric)) return { kind: 'ours' };
  if (NOT_SCRAPABLE_HERE[s.metric]) return { kind: 'third-party', reason: `${s.metric}: ${NOT_SCRAPABLE_HERE[s.metric]}` };
  return { kind: 'unknown', what: s.metric };
}

// ---------------------------------------------------------------------------------------------
// The queries, as generated.

interface NamedQuery { source: string; expr: string }

/**
 * An alert's expression is its condition: empty while all is well. What is proven live is that
 * its comparison has operands, i.e. the same expression with `bool` comparisons returns series.
 */
function conditionOperands(expr: string): string {
  return expr.replace(/ (==|!=|>=|<=|>|<) (?=-?[0-9])/g, ' $1 bool ');
}

function generatedQueries(): NamedQuery[] {
  const objects = synthObjects(ENV);
  const rules = parse(findObject(objects, 'ConfigMap', 'prometheus-rules').data!['platform.yaml']!) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  const fromAlerts = rules.groups.flatMap((g) => g.rules.map((r) => ({ source: `alert ${r.alert}`, expr: conditionOperands(r.expr) })));
  const dashboards = findObject(objects, 'ConfigMap', 'grafana-dashboards').data!;
  const fromDashboards = Object.entries(dashboards).flatMap(([file, json]) => (JSON.parse(json).panels as any[])
    .flatMap((p) => (p.targets ?? []).map((tg: any, i: number) => ({ source: `dashboard ${file}: ${p.title}${p.targets.length > 1 ? ` #${i + 1}` : ''}`, expr: tg.expr as string }))));
  const fromAnalysis = objects.filter((o) => o.kind === 'AnalysisTemplate')
    .flatMap((a) => a.spec.metrics.map((m: any) => ({ source: `AnalysisTemplate ${a.metadata.name}: ${m.name}`, expr: m.provider.prometheus.query as string })));
  // queries.ts itself, every builder with every scope it takes (a hash, and none).
  const canary = { namespace: ENV.namespace, hash: `{{args.${CANARY_HASH_ARG}}}` };
  const all = { namespace: ENV.namespace };
  const fromBuilders: NamedQuery[] = [
    { source: 'queries.ts appSuccessRate (canary)', expr: Q.appSuccessRate(canary, '2m') },
    { source: 'queries.ts appSuccessRate (all pods)', expr: Q.appSuccessRate(all, '2m') },
    { source: 'queries.ts appLatencyQuantile (canary)', expr: Q.appLatencyQuantile(0.95, canary, '2m') },
    { source: 'queries.ts appLatencyQuantile (by hash)', expr: Q.appLatencyQuantile(0.99, all, '2m', [HASH_LABEL]) },
    { source: 'queries.ts appRequestRateByHash', expr: Q.appRequestRateByHash(ENV.namespace, '1m') },
    { source: 'queries.ts appErrorRatioByHash', expr: Q.appErrorRatioByHash(ENV.namespace, '1m') },
    { source: 'queries.ts zkSyncLag', expr: Q.zkSyncLag(ENV.namespace) },
    { source: 'queries.ts probeCollectP95', expr: Q.probeCollectP95(ENV.hostNamespace, '1m') },
  ];
  return [...fromBuilders, ...fromAlerts, ...fromDashboards, ...fromAnalysis].map((q) => ({ ...q, expr: instantiate(q.expr) }));
}

/** The query builders of queries.ts covered above (`sel` is the selector helper, not a query). */
const COVERED_BUILDERS = ['appSuccessRate', 'appLatencyQuantile', 'appRequestRateByHash', 'appErrorRatioByHash', 'zkSyncLag', 'probeCollectP95'];

// ---------------------------------------------------------------------------------------------
// Processes.

function skipReason(): string | undefined {
  if (!existsSync(PROMETHEUS)) return `${PROMETHEUS} is missing: run npm run setup`;
  const zk = zookeeperSkipReason();
  if (zk) return zk;
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    return 'openssl is missing (the app serves HTTPS as in its manifest)';
  }
  return undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class Proc {
  readonly proc: ChildProcess;
  private log = '';
  readonly exited: Promise<void>;

  constructor(readonly name: string, cmd: string, args: string[]) {
    this.proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' } });
    const keep = (b: Buffer): void => { this.log = (this.log + b.toString('utf8')).slice(-6000); };
    this.proc.stdout!.on('data', keep);
    this.proc.stderr!.on('data', keep);
    this.exited = new Promise((r) => this.proc.once('exit', () => r()));
  }

  get running(): boolean { return this.proc.exitCode === null && this.proc.signalCode === null; }
  get tail(): string { return this.log; }

  signal(s: NodeJS.Signals): void {
    if (this.running) this.proc.kill(s);
  }

  /** SIGTERM, then SIGKILL after 8 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    if (this.proc.signalCode === null) this.proc.kill('SIGCONT');
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 8_000);
    await this.exited;
    clearTimeout(timer);
  }
}

async function waitUntil(what: string, deadline: number, ok: () => Promise<boolean>, proc?: Proc): Promise<void> {
  while (Date.now() < deadline) {
    if (proc && !proc.running) throw new Error(`${proc.name} exited while waiting for ${what}:\n${proc.tail}`);
    if (await ok().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${proc ? `:\n${proc.tail}` : ''}`);
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

/** A test CA and a server certificate for the app, under the name Prometheus verifies. */
function makePki(dir: string, serverName: string): { ca: string; cert: string; key: string } {
  const ca = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca-key.pem');
  const key = join(dir, 'app-key.pem');
  const csr = join(dir, 'app.csr');
  const cert = join(dir, 'app.pem');
  const ext = join(dir, 'app.ext');
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', ca, '-days', '1', '-subj', '/CN=live-prometheus test CA']);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${serverName}`]);
  writeFileSync(ext, `subjectAltName=DNS:${serverName},IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  openssl(['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '1', '-extfile', ext]);
  return { ca, cert, key };
}

// node-zookeeper-client, promisified for the few writes the test makes.
interface ZkLib { createClient(c: string, o: object): any; CreateMode: { PERSISTENT: number } }
// eslint-disable-next-line @typescript-eslint/no-require-imports
const zookeeper = require('node-zookeeper-client') as ZkLib;

async function zkConnect(connect: string): Promise<any> {
  const c = zookeeper.createClient(connect, { sessionTimeout: 5000, retries: 1 });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ZooKeeper session with ${connect}`)), 10_000);
    c.once('connected', () => { clearTimeout(timer); resolve(); });
    c.connect();
  });
  return c;
}
const zkCreate = (c: any, path: string, data: string): Promise<void> => new Promise((resolve, reject) => c.create(path, Buffer.from(data), (e: Error | null) => (e ? reject(e) : resolve())));
const zkSet = (c: any, path: string, data: string): Promise<void> => new Promise((resolve, reject) => c.setData(path, Buffer.from(data), -1, (e: Error | null) => (e ? reject(e) : resolve())));

// ---------------------------------------------------------------------------------------------

const skip = skipReason();

t.test('the split of the generated queries is exhaustive', { skip: false }, async (t) => {
  const queries = generatedQueries();
  t.ok(queries.length >= 50, `${queries.length} generated queries`);
  const builders = Object.entries(Q).filter(([name, v]) => typeof v === 'function' && name !== 'sel').map(([name]) => name).sort();
  t.same(builders, [...COVERED_BUILDERS].sort(), 'every query builder of queries.ts is run live');
  const unknown = queries.flatMap((q) => selectors(q.expr).map(ownerOf).filter((o) => o.kind === 'unknown').map((o) => `${q.source}: ${(o as { what: string }).what}`));
  t.same(unknown, [], 'every metric read is either ours or listed as not scrapable here');
  const used = new Set(queries.flatMap((q) => selectors(q.expr).map((s) => (s.metric === 'up' ? `up:${s.job}` : s.metric))));
  t.same(Object.keys(NOT_SCRAPABLE_HERE).filter((m) => !used.has(m)), [], 'no stale third-party entry');
  t.same(Object.keys(NOT_SCRAPABLE_JOBS).filter((j) => !used.has(`up:${j}`)), [], 'no stale third-party job');
  t.ok(queries.every((q) => selectors(q.expr).length > 0), 'every query reads at least one metric');
});

t.test('live Prometheus over the running app, probe and sync engine', { skip: skip ?? false }, async (t) => {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'live-prom-'));
  const procs: Proc[] = [];
  const ensembles: ZkEnsemble[] = [];
  t.teardown(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await Promise.all(ensembles.map((e) => e.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  const objects = synthObjects(ENV);
  const promConfig = parse(findObject(objects, 'ConfigMap', 'prometheus-config').data!['prometheus.yml']!) as { scrape_configs: any[] };
  const generatedJob = (name: string): any => {
    const job = promConfig.scrape_configs.find((j) => j.job_name === name);
    if (!job) throw new Error(`no generated scrape job ${name}`);
    const { kubernetes_sd_configs: _sd, relabel_configs: _relabel, ...rest } = job;
    return rest;
  };
  const appJob = generatedJob(JOBS.app);
  const serverName: string = appJob.tls_config.server_name;
  const pki = makePki(dir, serverName);

  const TOKENS = { viewer: 'prometheus-viewer-token-0123456789', probe: 'probe-token-live-0123456789ab', admin: 'admin-token-live-0123456789abc' };
  const tokensFile = join(dir, 'tokens');
  writeFileSync(tokensFile, `prometheus:viewer:${TOKENS.viewer}\nprobe-live:probe:${TOKENS.probe}\nroot:admin:${TOKENS.admin}\n`, { mode: 0o600 });
  const viewerTokenFile = join(dir, 'viewer-token');
  writeFileSync(viewerTokenFile, TOKENS.viewer, { mode: 0o600 });
  const probeTokenFile = join(dir, 'probe-token');
  writeFileSync(probeTokenFile, TOKENS.probe, { mode: 0o600 });

  const [promPort, appPort, probePort, syncPort, downPort] = (await freePorts(5)) as [number, number, number, number, number];
  const appUrl = `https://127.0.0.1:${appPort}`;
  const tls = new Agent({ connect: { ca: readFileSync(pki.ca, 'utf8'), servername: serverName } });
  t.teardown(() => tls.close());
  const appGet = async (path: string, token: string | undefined = TOKENS.viewer, method = 'GET', body?: string): Promise<{ status: number; text: string }> => {
    const r = await request(appUrl + path, {
      method: method as 'GET', dispatcher: tls, body: body ?? null,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    });
    return { status: r.statusCode, text: await r.body.text() };
  };
  const plainOk = async (url: string): Promise<boolean> => (await fetch(url)).ok;

  // ZooKeeper ensembles and the services, started together.
  const [source, target] = await Promise.all([startEnsemble(1), startEnsemble(1)]);
  ensembles.push(source, target);
  const app = new Proc('app', process.execPath, [...CLI, 'app', '--listen', `127.0.0.1:${appPort}`, '--tokens-file', tokensFile, '--tls-cert', pki.cert, '--tls-key', pki.key, '--probe-interval', '1s']);
  const sync = new Proc('zk-sync', process.execPath, [...CLI, 'zk-sync', 'run', '--source', source.connectString, '--target', target.connectString,
    '--mode', MIGRATION.mode, '--conflicts', MIGRATION.conflicts, '--port', String(syncPort), '--session-timeout-ms', '2000']);
  // Its second app is down (nothing listens) and so is its container engine: publish errors and
  // collector errors are counted as they are in a cluster where that happens.
  const probe = new Proc('probe', process.execPath, [...CLI, 'probe', '--app', appUrl, '--app', `https://127.0.0.1:${downPort}`, '--token-file', probeTokenFile, '--ca-file', pki.ca,
    '--metrics-listen', `127.0.0.1:${probePort}`, '--interval', '1s', '--engine-socket', join(dir, 'engine-down.sock'), '--no-controls']);
  procs.push(app, sync, probe);
  const deadline = Date.now() + POLL_BUDGET_MS;
  await Promise.all([
    waitUntil('the app', deadline, async () => (await appGet(APP_HEALTH_PATH, undefined)).status === 200, app),
    waitUntil('the probe', deadline, () => plainOk(`http://127.0.0.1:${probePort}${PROBE_HEALTH_PATH}`), probe),
    waitUntil('zk-sync', deadline, async () => ((await (await fetch(`http://127.0.0.1:${syncPort}${ZK_SYNC_STATUS_PATH}`)).json()) as { phase: string }).phase === 'streaming', sync),
  ]);
  t.pass(`app (HTTPS), probe and zk-sync (${MIGRATION.mode}, ${MIGRATION.conflicts}) are up after ${Date.now() - started} ms`);

  // Prometheus with the generated scrape jobs of our three services, targets made static.
  const staticJob = (name: string, port: number, labels: Record<string, string>, patch: (j: any) => void = () => undefined): any => {
    const job = { ...generatedJob(name), static_configs: [{ targets: [`127.0.0.1:${port}`], labels }] };
    patch(job);
    return job;
  };
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    scrape_configs: [
      staticJob(JOBS.app, appPort, { namespace: ENV.namespace, pod: 'monitoring-app-canary-0', node: NODE, [HASH_LABEL]: TEST_POD_TEMPLATE_HASH }, (j) => {
        j.authorization = { ...j.authorization, credentials_file: viewerTokenFile };
        j.tls_config = { ...j.tls_config, ca_file: pki.ca };
      }),
      staticJob(JOBS.probe, probePort, { namespace: ENV.hostNamespace, node: NODE }),
      staticJob(JOBS.zkSync, syncPort, { namespace: ENV.namespace, pod: `zk-sync-${MIGRATION.name}-0`, [MIGRATION_LABEL]: MIGRATION.name }),
    ],
  };
  t.same(config.scrape_configs.map((j) => j.job_name), [JOBS.app, JOBS.probe, JOBS.zkSync]);
  t.equal(config.scrape_configs[0].scheme, 'https', 'the app is scraped over HTTPS, as generated');
  writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
  const prom = new Proc('prometheus', PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn']);
  procs.push(prom);
  const promQuery = async (expr: string): Promise<{ ok: boolean; n: number; error?: string }> => {
    const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: unknown[] | unknown } };
    if (body.status !== 'success') return { ok: false, n: 0, error: body.error ?? `HTTP ${res.status}` };
    const r = body.data!.result;
    return { ok: true, n: body.data!.resultType === 'scalar' || body.data!.resultType === 'string' ? 1 : (r as unknown[]).length };
  };
  await waitUntil('Prometheus', deadline, () => plainOk(`http://127.0.0.1:${promPort}/-/ready`), prom);

  // Traffic and changes, so that counters and histograms have series.
  for (let i = 0; i < 5; i++) {
    t.equal((await appGet('/api/topology')).status, 200, 'viewer reads the topology');
    await appGet('/api/probes');
  }
  // A report of a simulated second host whose containers offer controls, but without a control
  // channel: the admin's control is answered 503 PROBE_UNREACHABLE, a real server error, so the
  // error-ratio queries have a numerator.
  const sim = new SimProbe(7, { probes: 1, containersPerProbe: 1, processesPerProbe: 2, connectionsPerProbe: 0 }, await loadTemplates());
  const posted = await request(`${appUrl}/api/report`, {
    method: 'POST', dispatcher: tls, body: encodeReportSync(sim.full(Date.now())),
    headers: { authorization: `Bearer ${TOKENS.probe}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
  });
  await posted.body.text();
  t.ok(posted.statusCode < 300, `a simulated probe's report is accepted (${posted.statusCode})`);
  const refused = await appGet('/api/control', TOKENS.admin, 'POST', JSON.stringify({ nodeId: `container;${sim.containerId(0)}`, control: 'restart' }));
  t.equal(refused.status, 503, `a control without a channel is a server error: ${refused.text}`);

  // ZooKeeper: writes on the source (synced nodes, lag), the same znode on both sides at once
  // (a conflict in bidirectional mode), a restart of the target server (a reconnect).
  const [zs, zt] = await Promise.all([zkConnect(source.connectString), zkConnect(target.connectString)]);
  t.teardown(() => { zs.close(); zt.close(); });
  await zkCreate(zs, '/live', 'root');
  for (let i = 0; i < 5; i++) await zkCreate(zs, `/live/n${i}`, `v${i}`);
  await waitUntil('the target to have the source writes', deadline, async () => new Promise<boolean>((r) => zt.exists('/live/n4', (e: Error | null, s: unknown) => r(!e && Boolean(s)))));
  if (MIGRATION.mode === 'bidirectional') {
    for (let i = 0; i < 5; i++) await Promise.all([zkSet(zs, '/live/n0', `s${i}`), zkSet(zt, '/live/n0', `t${i}`)]);
  }
  await target.servers[0]!.restart();
  await zkSet(zs, '/live/n1', 'after-restart').catch(() => undefined);

  // Every query over our metrics returns data, polled until the budget ends.
  const queries = generatedQueries();
  const ours = queries.filter((q) => selectors(q.expr).every((s) => ownerOf(s).kind === 'ours'));
  const theirs = queries.filter((q) => !ours.includes(q));
  const gapOf = (q: NamedQuery): string | undefined => KNOWN_GAPS.find((g) => selectors(q.expr).some((s) => s.metric === g.metric))?.why;
  const results = new Map<NamedQuery, { ok: boolean; n: number; error?: string }>();
  const pending = (): NamedQuery[] => ours.filter((q) => !gapOf(q) && !(results.get(q)?.n));
  const pollDeadline = Math.max(deadline, Date.now() + 20_000);
  while (Date.now() < pollDeadline) {
    await Promise.all(ours.filter((q) => !(results.get(q)?.n)).map(async (q) => results.set(q, await promQuery(q.expr).catch((e: Error) => ({ ok: false, n: 0, error: e.message })))));
    if (pending().length === 0) break;
    await sleep(1_000);
  }
  for (const q of ours) {
    const r = results.get(q) ?? { ok: false, n: 0, error: 'not queried' };
    const gap = gapOf(q);
    const scraped = r.n > 0 ? '' : `; scraped: ${(await Promise.all(selectors(q.expr).map(async (s) => `${s.metric} ${(await promQuery(`count({__name__=~"${s.metric}(_bucket)?"})`)).n ? 'present' : 'absent'}`))).join(', ')}`;
    t.ok(r.ok && r.n > 0, `${q.source} returns data (${r.n} series${r.error ? `, ${r.error}` : ''}${scraped}): ${q.expr}`, gap ? { todo: gap } : {});
  }
  // Third-party queries still run without error; their emptiness is the listed reason.
  for (const q of theirs) {
    const r = await promQuery(q.expr);
    const reasons = [...new Set(selectors(q.expr).map(ownerOf).filter((o) => o.kind === 'third-party').map((o) => (o as { reason: string }).reason))];
    t.ok(r.ok, `${q.source} is not scrapable here (${reasons.join('; ')}); it evaluates without error`);
  }
  const returning = ours.filter((q) => (results.get(q)?.n ?? 0) > 0).length;
  t.comment(`${returning} of ${ours.length} queries over our metrics return data; ${theirs.length} third-party queries listed as not scrapable here; ${Date.now() - started} ms`);
  t.equal(ours.length + theirs.length, queries.length, 'every query is either ours or listed third-party');
});
