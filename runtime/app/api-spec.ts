/**
 * The REST API as data: every route with its role, the schemas its requests
 * are validated against, and its responses. server.ts registers routes from
 * this table and validates with these schemas; openapi.ts writes the same
 * table as an OpenAPI 3.0 document. One source, so they cannot disagree.
 */
import { CONTROL_PATH, MAX_LOG_LINES, REPORT_PATH } from '../control/protocol';
import { CONTROL_IDS, LIMITS } from '../report';
import { APP_HEALTH_PATH, APP_METRICS_PATH, APP_READY_PATH } from '../common/app-constants';
import { ROLES, type Access } from './auth';
import { MAX_QUERY_LENGTH } from './search';
import type { Schema } from './schema';
import { FILTER_NAMES, VIEW_IDS } from './views/catalog';

export const OPENAPI_PATH = '/api/openapi.json';

/** Query of the view routes (REST and WebSocket): the filters. */
export const FILTERS_QUERY: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    namespace: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', description: 'Only nodes of this Kubernetes namespace' },
    status: { type: 'string', enum: ['running', 'stopped'], description: 'Only running (or paused) / only stopped nodes' },
    system: { type: 'string', enum: ['application', 'system'], description: 'Only application / only system nodes (kernel threads, kube-system, pause containers)' },
    unconnected: { type: 'string', enum: ['hide'], description: 'Hide nodes with no edge' },
  },
};

export const SEARCH_QUERY: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['q'],
  properties: {
    q: { type: 'string', minLength: 1, maxLength: MAX_QUERY_LENGTH, description: 'Terms, all of which must match: `word` (any field, prefix) or `field:word` (one metadata key, or label, topology)' },
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50, description: 'Most hits to return' },
  },
};

export const CONTROL_BODY: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['nodeId', 'control'],
  properties: {
    nodeId: { type: 'string', minLength: 3, maxLength: LIMITS.maxIdLength, pattern: '^[\\x21-\\x7e]+$', description: 'Report node id, e.g. `container;<full container id>`' },
    control: { type: 'string', enum: [...CONTROL_IDS] },
    tail: { type: 'integer', minimum: 1, maximum: MAX_LOG_LINES, description: 'For `logs`: how many of the last lines (default 100)' },
  },
};

/** Schemas of responses (documentation; the server builds these shapes in code). */
export const COMPONENTS: Record<string, Schema> = {
  ApiError: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: { code: { type: 'string' }, message: { type: 'string' }, path: { type: 'string', description: 'Where in the input the problem is' } },
      },
    },
  },
  ReportAccepted: { type: 'object', required: ['probeId', 'seq'], properties: { probeId: { type: 'string' }, seq: { type: 'integer' } } },
  Report: {
    type: 'object',
    description:
      'A report of runtime/report (version 1), gzip-compressed JSON. Validated by runtime/report validateReport: unknown fields, ids off the grammar and values over LIMITS are refused.',
    required: ['version', 'kind', 'probeId', 'hostId', 'seq', 'timestamp', 'topologies', 'errors'],
    properties: {
      version: { type: 'integer', enum: [1] },
      kind: { type: 'string', enum: ['full', 'delta'] },
      probeId: { type: 'string', maxLength: LIMITS.maxNameLength },
      hostId: { type: 'string', pattern: '^host;' },
      seq: { type: 'integer', minimum: 0 },
      baseSeq: { type: 'integer', minimum: 0, description: 'Deltas only' },
      timestamp: { type: 'integer', minimum: 0 },
      topologies: { type: 'object' },
      removed: { type: 'object', description: 'Deltas only' },
      patches: {
        type: 'object',
        description: 'Deltas only, optional: by topology, nodes of the base that changed, each as the members that differ from the base (latest, metrics, adjacency, parents, controls), each member whole',
      },
      errors: { type: 'array' },
    },
  },
  ViewSummary: {
    type: 'object',
    required: ['id', 'label', 'nodes', 'filters', 'url', 'ws'],
    properties: {
      id: { type: 'string', enum: [...VIEW_IDS] },
      label: { type: 'string' },
      nodes: { type: 'integer' },
      filters: { type: 'array', items: { type: 'string', enum: [...FILTER_NAMES] } },
      url: { type: 'string' },
      ws: { type: 'string' },
    },
  },
  ViewNode: {
    type: 'object',
    required: ['id', 'topology', 'label', 'labelMinor', 'shape', 'rank', 'adjacency', 'metadata', 'metrics', 'parents', 'children', 'controls'],
    properties: {
      id: { type: 'string' },
      topology: { type: 'string' },
      label: { type: 'string' },
      labelMinor: { type: 'string' },
      shape: { type: 'string', enum: ['circle', 'square', 'hexagon', 'heptagon', 'cloud', 'triangle', 'diamond'] },
      rank: { type: 'string' },
      stack: { type: 'integer', description: 'Grouped views: how many nodes this one stands for' },
      stale: { type: 'boolean', description: 'Present when every probe reporting the node is silent' },
      adjacency: { type: 'array', items: { type: 'string' } },
      metadata: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, value: {} } } },
      metrics: {
        type: 'array',
        items: {
          type: 'object',
          properties: { id: { type: 'string' }, value: { type: 'number' }, min: { type: 'number' }, max: { type: 'number' }, samples: { type: 'array', items: { type: 'array', items: { type: 'number' } } } },
        },
      },
      parents: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, topology: { type: 'string' }, label: { type: 'string' } } } },
      children: { type: 'array', items: { type: 'object', properties: { topology: { type: 'string' }, count: { type: 'integer' } } } },
      controls: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, label: { type: 'string' }, destructive: { type: 'boolean' } } } },
    },
  },
  View: {
    type: 'object',
    required: ['view', 'filter', 'nodes'],
    properties: { view: { type: 'string' }, filter: { type: 'string' }, nodes: { type: 'array', items: { $ref: '#/components/schemas/ViewNode' } } },
  },
  NodeDetail: {
    type: 'object',
    required: ['node', 'connections', 'children'],
    properties: {
      node: { $ref: '#/components/schemas/ViewNode' },
      connections: {
        type: 'object',
        properties: {
          outgoing: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, label: { type: 'string' } } } },
          incoming: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, label: { type: 'string' } } } },
        },
      },
      children: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, topology: { type: 'string' }, label: { type: 'string' } } } },
      probes: { type: 'array', items: { type: 'string' } },
    },
  },
  Probe: {
    type: 'object',
    required: ['probeId', 'hostId', 'owner', 'seq', 'state', 'lastSeen', 'controlChannel'],
    properties: {
      probeId: { type: 'string' },
      hostId: { type: 'string' },
      owner: { type: 'string', description: 'Name of the token the probe reports with' },
      seq: { type: 'integer' },
      baseSeq: { type: 'integer' },
      state: { type: 'string', enum: ['live', 'stale'] },
      firstSeen: { type: 'integer' },
      lastSeen: { type: 'integer' },
      reports: { type: 'integer' },
      nodes: { type: 'integer' },
      controlChannel: { type: 'boolean' },
    },
  },
  SearchResult: {
    type: 'object',
    required: ['query', 'total', 'hits'],
    properties: {
      query: { type: 'string' },
      total: { type: 'integer' },
      hits: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            topology: { type: 'string' },
            view: { type: 'string', nullable: true },
            label: { type: 'string' },
            labelMinor: { type: 'string' },
            score: { type: 'number' },
            stale: { type: 'boolean' },
            matches: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, value: { type: 'string' } } } },
          },
        },
      },
    },
  },
  Principal: {
    type: 'object',
    required: ['name', 'role'],
    properties: { name: { type: 'string', description: 'The token\'s name in the tokens file' }, role: { type: 'string', enum: [...ROLES] } },
  },
  ControlOutcome: {
    type: 'object',
    required: ['probeId', 'ok'],
    properties: { probeId: { type: 'string' }, ok: { type: 'boolean', enum: [true] }, output: { type: 'array', items: { type: 'string' } } },
  },
};

export interface ResponseSpec {
  description: string;
  /** A component name, or 'text' for text/plain. */
  body?: string;
}

export interface RouteSpec {
  /** Route name: the metrics label, and the OpenAPI operationId. */
  name: string;
  method: 'get' | 'post';
  /** OpenAPI path (`{param}`); the uWS pattern is derived (`:param`). */
  path: string;
  summary: string;
  /** Role needed; `any`: a token of any role; null: no token (liveness only). */
  role: Access | null;
  params?: Record<string, string>;
  query?: Schema;
  body?: { contentType: string; schema: string | Schema; encoding?: string };
  responses: Record<number, ResponseSpec>;
  websocket?: boolean;
}

const E = (description: string): ResponseSpec => ({ description, body: 'ApiError' });
const AUTH = { 401: E('No token, or an unknown one'), 403: E('The token lacks the role') };

export const ROUTES: readonly RouteSpec[] = [
  { name: 'healthz', method: 'get', path: APP_HEALTH_PATH, summary: 'Liveness: the process serves requests', role: null, responses: { 200: { description: 'Alive' } } },
  {
    name: 'readyz', method: 'get', path: APP_READY_PATH, summary: 'Readiness: listening and not shutting down (a token of any role; kubelet checks it with an exec or tcpSocket probe, since an httpGet probe cannot carry a secret)', role: 'any',
    responses: { 200: { description: 'Ready' }, 401: E('No token, or an unknown one'), 503: E('Starting or shutting down') },
  },
  {
    name: 'metrics', method: 'get', path: APP_METRICS_PATH, summary: 'Prometheus metrics (a token of any role: Prometheus sends it from a credentials file)', role: 'any',
    responses: { 200: { description: 'Prometheus text format', body: 'text' }, 401: E('No token, or an unknown one') },
  },
  { name: 'openapi', method: 'get', path: OPENAPI_PATH, summary: 'This document', role: 'viewer', responses: { 200: { description: 'OpenAPI 3.0 document' }, ...AUTH } },
  {
    name: 'report', method: 'post', path: REPORT_PATH, summary: 'Ingest one report from a probe (runtime/control/protocol.ts)', role: 'probe',
    body: { contentType: 'application/json', schema: 'Report', encoding: 'gzip' },
    responses: {
      202: { description: 'Applied (or an older duplicate, ignored)', body: 'ReportAccepted' },
      400: E('Not gzip, not JSON, or not a valid report (the error names the path)'),
      ...AUTH,
      409: E('DELTA_BASE_UNKNOWN: the delta base is not held; send a full report'),
      413: E('Body, decompressed body or report limits exceeded'),
      415: E('Content-Type must be application/json and Content-Encoding gzip'),
      429: E('More reports per second than allowed for this token (Retry-After)'),
      503: E('Overloaded or shutting down (Retry-After)'),
    },
  },
  { name: 'views', method: 'get', path: '/api/topology', summary: 'The views, with their node counts', role: 'viewer', responses: { 200: { description: 'Array of ViewSummary', body: 'ViewSummary[]' }, ...AUTH } },
  {
    name: 'view', method: 'get', path: '/api/topology/{view}', summary: 'One view in full', role: 'viewer', params: { view: 'View id' }, query: FILTERS_QUERY,
    responses: { 200: { description: 'The view', body: 'View' }, 400: E('A filter is unknown, malformed or not offered by this view'), ...AUTH, 404: E('UNKNOWN_VIEW') },
  },
  {
    name: 'view_ws', method: 'get', path: '/api/topology/{view}/ws', summary: 'WebSocket feed of one view: `full` on connect (and `catchup` messages while joining), then `delta` messages (add: whole nodes, update: patches of the changed members, slid metric rings as `metricsTail`, remove, seq); `reset` then close when the client falls behind (docs/api.md). Token as Authorization header or subprotocol `bearer.<token>`.',
    role: 'viewer', params: { view: 'View id' }, query: FILTERS_QUERY, websocket: true,
    responses: { 101: { description: 'Switching protocols' }, 400: E('Bad filter'), ...AUTH, 404: E('UNKNOWN_VIEW') },
  },
  {
    name: 'node', method: 'get', path: '/api/topology/{view}/nodes/{nodeId}', summary: 'One node of a view in detail (nodeId percent-encoded)', role: 'viewer',
    params: { view: 'View id', nodeId: 'Rendered node id, percent-encoded' },
    responses: { 200: { description: 'The node', body: 'NodeDetail' }, ...AUTH, 404: E('UNKNOWN_VIEW or UNKNOWN_NODE') },
  },
  { name: 'search', method: 'get', path: '/api/search', summary: 'Full-text search, ranked', role: 'viewer', query: SEARCH_QUERY, responses: { 200: { description: 'Hits', body: 'SearchResult' }, 400: E('BAD_QUERY'), ...AUTH } },
  { name: 'whoami', method: 'get', path: '/api/whoami', summary: 'Who the bearer token stands for (the UI shows controls only to admins)', role: 'viewer', responses: { 200: { description: 'Name and role of the token', body: 'Principal' }, ...AUTH } },
  { name: 'probes', method: 'get', path: '/api/probes', summary: 'Probes the app holds reports of', role: 'viewer', responses: { 200: { description: 'Array of Probe', body: 'Probe[]' }, ...AUTH } },
  {
    name: 'control', method: 'post', path: '/api/control', summary: 'Run a control on a node through its probe (admin role; audited)', role: 'admin',
    body: { contentType: 'application/json', schema: CONTROL_BODY },
    responses: {
      200: { description: 'The probe ran it', body: 'ControlOutcome' },
      400: E('Body not valid'),
      ...AUTH,
      404: E('UNKNOWN_NODE'),
      409: E('CONTROL_NOT_OFFERED'),
      413: E('Body too large'),
      415: E('Content-Type must be application/json'),
      502: E('CONTROL_FAILED: the probe or the engine reported an error'),
      503: E('PROBE_UNREACHABLE: no control channel for the node'),
      504: E('CONTROL_TIMEOUT'),
    },
  },
  {
    name: 'probe_control', method: 'get', path: CONTROL_PATH, summary: 'WebSocket control channel of a probe (runtime/control/protocol.ts): probe sends hello, app sends control requests, probe answers results', role: 'probe', websocket: true,
    responses: { 101: { description: 'Switching protocols' }, ...AUTH },
  },
];

export function routeSpec(name: string): RouteSpec {
  const r = ROUTES.find((x) => x.name === name);
  if (!r) throw new Error(`no route ${name}`);
  return r;
}

/** `/api/topology/{view}` → `/api/topology/:view` */
export function uwsPattern(path: string): string {
  return path.replace(/\{([A-Za-z]+)\}/g, ':$1');
}
