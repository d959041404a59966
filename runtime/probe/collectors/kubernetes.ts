/**
 * The pod, service and controller topologies of this node, from the Kubernetes
 * API server, with the pod's service-account token.
 *
 * - Pods: `GET /api/v1/pods?fieldSelector=spec.nodeName=<node>` (this node's
 *   only), then a watch from the list's resourceVersion.
 * - Services: `GET /api/v1/services` then a watch; a service is reported when
 *   its selector matches a pod of this node (each probe reports the services
 *   its pods belong to; the app merges them by uid).
 * - Controllers: a pod's controlling ownerReference. A ReplicaSet is looked up
 *   once (by uid, cached) to find the Deployment that owns it: that is what
 *   people mean by "the controller" of a Deployment's pod.
 *
 * Watches run in the background: ADDED/MODIFIED/DELETED update the caches,
 * BOOKMARK advances the resourceVersion, 410 Gone (HTTP status or an ERROR
 * event) means the version is too old and the collection is listed again.
 * Other failures reconnect with backoff from the last version seen. A pass
 * never waits on a watch; it reports the caches. Until the first list succeeds
 * the pass throws (the runner reports it and backs off).
 */
import { readFileSync } from 'node:fs';
import { Agent, type Dispatcher } from 'undici';
import { controllerNodeId, LIMITS, podNodeId, serviceNodeId, type ReportNode } from '../../report';
import { CollectorFailure, type Collector, type CollectorIssue, type CollectorResult, type ProbeIdentity } from '../collector';
import { LineSplitter } from '../engine/events';
import { Backoff, sleep } from '../limit';
import { LatestMemories } from '../nodes';
import { labelKey } from './containers';

export const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** How the collector reaches the API server. */
export interface KubernetesAccess {
  /** e.g. https://10.96.0.1:443 */
  apiUrl: string;
  /** Re-read every minute: bound service-account tokens rotate. */
  tokenFile?: string;
  token?: string;
  /** PEM of the cluster CA (the SA's ca.crt). */
  ca?: string;
  nodeName: string;
}

/** In-cluster access from the standard environment, or why there is none. */
export function inClusterAccess(env: NodeJS.ProcessEnv = process.env, saDir = SA_DIR, hostname = ''): { access: KubernetesAccess } | { off: string } {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) return { off: 'not in a Kubernetes cluster (KUBERNETES_SERVICE_HOST/PORT unset)' };
  let ca: string;
  try {
    readFileSync(`${saDir}/token`);
    ca = readFileSync(`${saDir}/ca.crt`, 'utf8');
  } catch (err) {
    return { off: `in a cluster but no service-account token/CA under ${saDir} (${(err as Error).message})` };
  }
  const nodeName = env.NODE_NAME || hostname;
  if (!nodeName) return { off: 'NODE_NAME is not set (downward API spec.nodeName) and the hostname is empty' };
  const h = host.includes(':') ? `[${host}]` : host;
  return { access: { apiUrl: `https://${h}:${port}`, tokenFile: `${saDir}/token`, ca, nodeName } };
}

export interface KubernetesCollectorOptions {
  identity: ProbeIdentity;
  access: KubernetesAccess;
  /** Called when a watch changes a pod (for an immediate delta report). */
  onChange?: () => void;
  requestTimeoutMs?: number;
  /** Server-side watch timeout; the watch is renewed after it. Default 300 s. */
  watchTimeoutSeconds?: number;
  backoff?: { initialMs: number; maxMs: number };
  logger?: { info(o: object, m: string): void; warn(o: object, m: string): void };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const s = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export class KubeError extends Error {
  constructor(
    readonly code: 'K8S_UNREACHABLE' | 'K8S_UNAUTHORIZED' | 'K8S_GONE' | 'K8S_BAD_RESPONSE' | 'K8S_REJECTED',
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'KubeError';
  }
}

interface Meta {
  uid: string;
  name: string;
  namespace: string;
  labels: Record<string, string>;
  owner?: { uid: string; kind: string; name: string };
  created?: string;
}

function meta(o: unknown, at: string): Meta {
  if (!isObj(o) || !isObj(o.metadata)) throw new KubeError('K8S_BAD_RESPONSE', `${at}: object without metadata`);
  const m = o.metadata;
  const uid = s(m.uid);
  const name = s(m.name);
  if (!uid || !name) throw new KubeError('K8S_BAD_RESPONSE', `${at}: metadata without uid or name`);
  const labels: Record<string, string> = {};
  if (isObj(m.labels)) for (const [k, v] of Object.entries(m.labels)) if (typeof v === 'string') labels[k] = v;
  let owner: Meta['owner'];
  if (Array.isArray(m.ownerReferences)) {
    for (const r of m.ownerReferences) {
      if (isObj(r) && r.controller === true && s(r.uid) && s(r.kind) && s(r.name)) owner = { uid: r.uid as string, kind: r.kind as string, name: r.name as string };
    }
  }
  return { uid, name, namespace: s(m.namespace) ?? '', labels, ...(owner ? { owner } : {}), ...(s(m.creationTimestamp) ? { created: m.creationTimestamp as string } : {}) };
}

interface Pod extends Meta {
  phase: string;
  ip?: string;
  restarts: number;
  ready: string;
}

interface Service extends Meta {
  type: string;
  clusterIp?: string;
  selector: Record<string, string> | null;
  ports: string;
}

function toPod(o: unknown): Pod {
  const m = meta(o, 'Pod');
  const status = isObj((o as Obj).status) ? ((o as Obj).status as Obj) : {};
  let restarts = 0;
  let ready = 0;
  let total = 0;
  if (Array.isArray(status.containerStatuses)) {
    for (const c of status.containerStatuses) {
      if (!isObj(c)) continue;
      total++;
      if (typeof c.restartCount === 'number') restarts += c.restartCount;
      if (c.ready === true) ready++;
    }
  }
  return { ...m, phase: s(status.phase) ?? 'Unknown', ...(s(status.podIP) ? { ip: status.podIP as string } : {}), restarts, ready: `${ready}/${total}` };
}

function toService(o: unknown): Service {
  const m = meta(o, 'Service');
  const spec = isObj((o as Obj).spec) ? ((o as Obj).spec as Obj) : {};
  let selector: Record<string, string> | null = null;
  if (isObj(spec.selector)) {
    selector = {};
    for (const [k, v] of Object.entries(spec.selector)) if (typeof v === 'string') selector[k] = v;
    if (Object.keys(selector).length === 0) selector = null;
  }
  const ports = Array.isArray(spec.ports)
    ? spec.ports.filter(isObj).map((p) => `${String(p.port)}/${s(p.protocol) ?? 'TCP'}`).join(',')
    : '';
  return { ...m, type: s(spec.type) ?? 'ClusterIP', ...(s(spec.clusterIP) ? { clusterIp: spec.clusterIP as string } : {}), selector, ports };
}

function cut(v: string): string {
  return v.length > LIMITS.maxStringLength ? v.slice(0, LIMITS.maxStringLength) : v;
}

function isoMs(v: string | undefined): number | undefined {
  const ms = v ? Date.parse(v) : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/** One watched collection: its objects by uid and the resourceVersion to watch from. */
class Watched<T extends Meta> {
  readonly items = new Map<string, T>();
  version = '';
  listed = false;
  broken: KubeError | null = null;

  constructor(
    readonly path: string,
    readonly query: string,
    readonly convert: (o: unknown) => T,
  ) {}
}

const MAX_LIST_BYTES = 64 * 1024 * 1024;
const MAX_WATCH_LINE_BYTES = 4 * 1024 * 1024;

export class KubernetesCollector implements Collector {
  readonly name = 'kubernetes';
  private readonly dispatcher: Dispatcher;
  private readonly pods: Watched<Pod>;
  private readonly services: Watched<Service>;
  /** ReplicaSet uid → its controlling owner (a Deployment), or null when it has none. */
  private readonly replicaSets = new Map<string, Meta['owner'] | null>();
  private readonly latest = new LatestMemories();
  private readonly stop = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private token = '';
  private tokenReadAt = 0;
  private readonly timeoutMs: number;

  constructor(private readonly opts: KubernetesCollectorOptions) {
    this.timeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.dispatcher = new Agent({ connect: { ...(opts.access.ca ? { ca: opts.access.ca } : {}), timeout: this.timeoutMs } });
    this.pods = new Watched('/api/v1/pods', `fieldSelector=${encodeURIComponent(`spec.nodeName=${opts.access.nodeName}`)}`, toPod);
    this.services = new Watched('/api/v1/services', '', toService);
  }

  private bearer(): string {
    const { access } = this.opts;
    if (access.tokenFile && Date.now() - this.tokenReadAt > 60_000) {
      try {
        this.token = readFileSync(access.tokenFile, 'utf8').trim();
        this.tokenReadAt = Date.now();
      } catch (err) {
        throw new KubeError('K8S_UNAUTHORIZED', `cannot read the service-account token ${access.tokenFile}: ${(err as Error).message}`);
      }
    }
    return access.token ?? this.token;
  }

  private async get(path: string, signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
    const url = this.opts.access.apiUrl.replace(/\/$/, '') + path;
    let res: Dispatcher.ResponseData;
    try {
      res = await this.dispatcher.request({
        origin: new URL(url).origin,
        path: path,
        method: 'GET',
        headers: { authorization: `Bearer ${this.bearer()}`, accept: 'application/json' },
        headersTimeout: this.timeoutMs,
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (err instanceof KubeError) throw err;
      throw new KubeError('K8S_UNREACHABLE', `GET ${path}: ${(err as Error).message}`);
    }
    if (res.statusCode === 200) return res;
    const text = (await res.body.text().catch(() => '')).slice(0, 300);
    if (res.statusCode === 401 || res.statusCode === 403) {
      this.tokenReadAt = 0; // re-read the token next time: it may have rotated
      throw new KubeError('K8S_UNAUTHORIZED', `GET ${path}: ${res.statusCode} ${text}`, res.statusCode);
    }
    throw new KubeError(res.statusCode === 410 ? 'K8S_GONE' : 'K8S_REJECTED', `GET ${path}: ${res.statusCode} ${text}`, res.statusCode);
  }

  private async getJson(path: string): Promise<Obj> {
    const res = await this.get(path);
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const c of res.body as AsyncIterable<Buffer>) {
      total += c.length;
      if (total > MAX_LIST_BYTES) throw new KubeError('K8S_BAD_RESPONSE', `GET ${path}: response over ${MAX_LIST_BYTES} bytes`);
      chunks.push(c);
    }
    let v: unknown;
    try {
      v = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new KubeError('K8S_BAD_RESPONSE', `GET ${path}: not JSON`);
    }
    if (!isObj(v)) throw new KubeError('K8S_BAD_RESPONSE', `GET ${path}: not an object`);
    return v;
  }

  /** Lists a collection, replacing its cache, and remembers the list's resourceVersion. */
  private async list<T extends Meta>(w: Watched<T>): Promise<void> {
    const body = await this.getJson(`${w.path}${w.query ? `?${w.query}` : ''}`);
    if (!Array.isArray(body.items) || !isObj(body.metadata)) throw new KubeError('K8S_BAD_RESPONSE', `GET ${w.path}: not a list (no items/metadata)`);
    const items = new Map<string, T>();
    for (const o of body.items) {
      const item = w.convert(o);
      items.set(item.uid, item);
    }
    w.items.clear();
    for (const [k, v] of items) w.items.set(k, v);
    w.version = s(body.metadata.resourceVersion) ?? '';
    w.listed = true;
  }

  /** Watches from `w.version` until the stream ends; throws K8S_GONE when the version is too old. */
  private async watchOnce<T extends Meta>(w: Watched<T>, isPods: boolean): Promise<void> {
    const q = [w.query, 'watch=1', 'allowWatchBookmarks=true', `timeoutSeconds=${this.opts.watchTimeoutSeconds ?? 300}`, `resourceVersion=${encodeURIComponent(w.version)}`]
      .filter(Boolean)
      .join('&');
    const res = await this.get(`${w.path}?${q}`, this.stop.signal);
    res.body.on('error', () => undefined);
    const splitter = new LineSplitter(MAX_WATCH_LINE_BYTES);
    let gone: KubeError | null = null;
    const onLine = (line: Buffer): void => {
      if (line.length === 0 || gone) return;
      let ev: unknown;
      try {
        ev = JSON.parse(line.toString('utf8'));
      } catch {
        throw new KubeError('K8S_BAD_RESPONSE', `watch ${w.path}: a line that is not JSON`);
      }
      if (!isObj(ev) || typeof ev.type !== 'string' || !isObj(ev.object)) throw new KubeError('K8S_BAD_RESPONSE', `watch ${w.path}: not a watch event`);
      const obj = ev.object;
      const rv = isObj(obj.metadata) ? s(obj.metadata.resourceVersion) : undefined;
      switch (ev.type) {
        case 'ADDED':
        case 'MODIFIED': {
          const item = w.convert(obj);
          const before = w.items.get(item.uid) as unknown as Pod | undefined;
          w.items.set(item.uid, item);
          if (isPods && (!before || before.phase !== (item as unknown as Pod).phase)) this.opts.onChange?.();
          break;
        }
        case 'DELETED': {
          const item = w.convert(obj);
          w.items.delete(item.uid);
          if (isPods) this.opts.onChange?.();
          break;
        }
        case 'BOOKMARK':
          break;
        case 'ERROR': {
          // A Status object: 410 (Expired/Gone) means list again; anything else, reconnect.
          const code = typeof obj.code === 'number' ? obj.code : 0;
          gone = new KubeError(code === 410 ? 'K8S_GONE' : 'K8S_REJECTED', `watch ${w.path}: ${s(obj.message) ?? 'error event'}`, code);
          return;
        }
        default:
          throw new KubeError('K8S_BAD_RESPONSE', `watch ${w.path}: unknown event type ${JSON.stringify(ev.type).slice(0, 40)}`);
      }
      if (rv) w.version = rv;
    };
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        splitter.push(chunk, onLine);
        if (gone) break;
      }
    } catch (err) {
      if (this.stop.signal.aborted) return;
      if (err instanceof KubeError) throw err;
      throw new KubeError('K8S_UNREACHABLE', `watch ${w.path}: ${(err as Error).message}`);
    }
    if (gone) throw gone;
  }

  private async watchLoop<T extends Meta>(w: Watched<T>, isPods: boolean): Promise<void> {
    const backoff = new Backoff(this.opts.backoff?.initialMs ?? 1_000, this.opts.backoff?.maxMs ?? 60_000);
    while (!this.stop.signal.aborted) {
      try {
        if (!w.listed) {
          await this.list(w);
          if (isPods) this.opts.onChange?.();
        }
        await this.watchOnce(w, isPods);
        w.broken = null;
        backoff.reset();
      } catch (err) {
        if (this.stop.signal.aborted) return;
        const e = err instanceof KubeError ? err : new KubeError('K8S_UNREACHABLE', String((err as Error).message ?? err));
        if (e.code === 'K8S_GONE') {
          // Too old a version: relist at once (the documented recovery), no backoff.
          this.opts.logger?.info({ path: w.path }, 'watch version expired (410); listing again');
          w.listed = false;
          continue;
        }
        if (!w.broken) this.opts.logger?.warn({ path: w.path, code: e.code, err: e.message }, 'watch broken; retrying with backoff');
        w.broken = e;
        await sleep(backoff.next(), this.stop.signal);
      }
    }
  }

  async collect(now: number): Promise<CollectorResult> {
    if (!this.pods.listed || !this.services.listed) {
      try {
        if (!this.pods.listed) await this.list(this.pods);
        if (!this.services.listed) await this.list(this.services);
      } catch (err) {
        const code = err instanceof KubeError ? err.code : 'K8S_UNREACHABLE';
        throw new CollectorFailure(code, `kubernetes API: ${(err as Error).message}`, { cause: err });
      }
      if (this.loops.length === 0) this.loops.push(this.watchLoop(this.pods, true), this.watchLoop(this.services, false));
    }
    const issues: CollectorIssue[] = [];
    for (const w of [this.pods, this.services] as Watched<Meta>[]) {
      if (w.broken) issues.push({ code: w.broken.code, message: `watch of ${w.path} broken, reporting the last state: ${w.broken.message}`, count: 1 });
    }
    await this.resolveReplicaSets(issues);
    const nodes = this.build(now);
    this.latest.sweep();
    return { nodes, issues };
  }

  /** Looks up the owner of ReplicaSets not seen before (once per ReplicaSet uid). */
  private async resolveReplicaSets(issues: CollectorIssue[]): Promise<void> {
    let failed = 0;
    let example = '';
    for (const p of this.pods.items.values()) {
      const o = p.owner;
      if (!o || o.kind !== 'ReplicaSet' || this.replicaSets.has(o.uid)) continue;
      try {
        const rs = await this.getJson(`/apis/apps/v1/namespaces/${encodeURIComponent(p.namespace)}/replicasets/${encodeURIComponent(o.name)}`);
        this.replicaSets.set(o.uid, meta(rs, 'ReplicaSet').owner ?? null);
      } catch (err) {
        // 404: deleted meanwhile; the pod then stands under the ReplicaSet itself.
        if (err instanceof KubeError && err.status === 404) this.replicaSets.set(o.uid, null);
        else {
          failed++;
          example = (err as Error).message;
        }
      }
    }
    if (failed > 0) issues.push({ code: 'K8S_REPLICASET_LOOKUP', message: `${failed} ReplicaSet lookups failed, e.g. ${example}`, count: failed });
    if (this.replicaSets.size > 4096) this.replicaSets.clear(); // bounded: refilled on demand
  }

  private build(now: number): CollectorResult['nodes'] {
    const host = [this.opts.identity.hostId];
    const pods: Record<string, ReportNode> = {};
    const services: Record<string, ReportNode> = {};
    const controllers: Record<string, ReportNode> = {};
    const serviceList = [...this.services.items.values()].filter((x) => x.selector !== null);

    for (const p of this.pods.items.values()) {
      const parents: ReportNode['parents'] = { host };
      let ctrl = p.owner;
      if (ctrl?.kind === 'ReplicaSet') ctrl = this.replicaSets.get(ctrl.uid) ?? ctrl;
      if (ctrl) {
        const cid = controllerNodeId(ctrl.uid);
        (parents as Record<string, readonly string[]>).controller = [cid];
        controllers[cid] ??= {
          latest: this.latest.update(cid, { kind: ctrl.kind, name: cut(ctrl.name), namespace: cut(p.namespace) }, now),
          metrics: {},
          adjacency: [],
          parents: {},
        };
      }
      const svcIds: string[] = [];
      for (const svc of serviceList) {
        if (svc.namespace !== p.namespace) continue;
        if (!Object.entries(svc.selector!).every(([k, v]) => p.labels[k] === v)) continue;
        const sid = serviceNodeId(svc.uid);
        svcIds.push(sid);
        services[sid] ??= {
          latest: this.latest.update(
            sid,
            { name: cut(svc.name), namespace: cut(svc.namespace), type: svc.type, cluster_ip: svc.clusterIp, ports: svc.ports ? cut(svc.ports) : undefined, created_at: isoMs(svc.created) },
            now,
          ),
          metrics: {},
          adjacency: [],
          parents: {},
        };
      }
      if (svcIds.length > 0) (parents as Record<string, readonly string[]>).service = svcIds.sort();
      const values: Record<string, string | number | undefined> = {
        name: cut(p.name),
        namespace: cut(p.namespace),
        uid: p.uid,
        phase: p.phase,
        ip: p.ip,
        node: cut(this.opts.access.nodeName),
        restart_count: p.restarts,
        ready: p.ready,
        created_at: isoMs(p.created),
      };
      let n = 0;
      for (const k of Object.keys(p.labels).sort()) if (n++ < 40) values[labelKey(k)] = cut(p.labels[k]!);
      const id = podNodeId(p.uid);
      pods[id] = { latest: this.latest.update(id, values, now), metrics: {}, adjacency: [], parents };
    }
    return { pod: pods, service: services, controller: controllers };
  }

  async close(): Promise<void> {
    this.stop.abort();
    await Promise.all(this.loops.map((l) => l.catch(() => undefined)));
    await this.dispatcher.close().catch(() => undefined);
  }
}
