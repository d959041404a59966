/**
 * The node details panel: what the node is (metadata), how it is doing
 * (metric sparklines), whom it talks to (connections in and out), where it
 * sits (parents, children), and what can be done to it (controls: admin
 * tokens only; destructive ones ask first).
 */
import { ApiError, type Api } from './api';
import { formatValue, h, svg } from './dom';
import type { ControlRef, MetricRow, NodeDetail, Session } from './types';
import { VIEW_OF_TOPOLOGY } from './types';

export interface DetailsHost {
  api: Api;
  session(): Session | null;
  view(): string;
  /** Selects a node of the current view. */
  select(id: string): void;
  /** Opens another view with a node selected. */
  open(view: string, id: string): void;
  close(): void;
  confirm(text: string): Promise<boolean>;
  /** Whether the current view has the node (to make connections clickable). */
  has(id: string): boolean;
}

export function sparkline(m: MetricRow, width = 120, height = 28): SVGElement {
  const el = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, class: 'spark', role: 'img', 'aria-label': `${m.id} history` });
  const s = m.samples;
  if (s.length < 2) return el;
  const t0 = s[0]![0];
  const t1 = s[s.length - 1]![0];
  let lo = Infinity;
  let hi = -Infinity;
  for (const [, v] of s) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (hi === lo) hi = lo + 1;
  const pts = s.map(([t, v]) => `${(((t - t0) / Math.max(1, t1 - t0)) * (width - 4) + 2).toFixed(1)},${(height - 2 - ((v - lo) / (hi - lo)) * (height - 4)).toFixed(1)}`);
  el.append(svg('polyline', { points: pts.join(' '), fill: 'none', 'stroke-width': 1.5, class: 'spark-line' }));
  const [lx, ly] = pts[pts.length - 1]!.split(',');
  el.append(svg('circle', { cx: lx!, cy: ly!, r: 2, class: 'spark-dot' }));
  return el;
}

export class DetailsPanel {
  readonly el: HTMLElement;
  private id: string | null = null;
  private abort: AbortController | null = null;
  private lastFetch = 0;
  private timer: number | null = null;
  private detail: NodeDetail | null = null;
  private status: HTMLElement | null = null;
  private busy = false;

  constructor(private readonly host: DetailsHost) {
    this.el = h('aside', { class: 'details', id: 'details', 'aria-label': 'Node details', hidden: true, tabindex: -1 });
  }

  get nodeId(): string | null {
    return this.id;
  }

  show(id: string | null): void {
    if (id === this.id) return;
    this.id = id;
    this.detail = null;
    this.abort?.abort();
    if (id === null) {
      this.el.hidden = true;
      this.el.replaceChildren();
      return;
    }
    this.el.hidden = false;
    this.el.replaceChildren(h('div', { class: 'muted pad' }, 'Loading…'));
    void this.load();
  }

  /** The node changed in the feed: refresh, at most once a second. */
  changed(): void {
    if (this.id === null || this.timer !== null) return;
    const wait = Math.max(0, 1000 - (performance.now() - this.lastFetch));
    this.timer = window.setTimeout(() => {
      this.timer = null;
      void this.load();
    }, wait);
  }

  /** The node left the view. */
  gone(): void {
    if (this.id === null) return;
    this.el.querySelector('.gone')?.remove();
    this.el.prepend(h('div', { class: 'banner warn gone', role: 'status' }, 'This node is no longer in the view.'));
  }

  /** The session changed (e.g. another token): redraw the controls. */
  refresh(): void {
    if (this.detail) this.render(this.detail);
  }

  private async load(): Promise<void> {
    const id = this.id;
    if (id === null) return;
    this.abort?.abort();
    const ac = new AbortController();
    this.abort = ac;
    this.lastFetch = performance.now();
    try {
      const d = await this.host.api.get<NodeDetail>(`/api/topology/${encodeURIComponent(this.host.view())}/nodes/${encodeURIComponent(id)}`, ac.signal);
      if (this.id !== id) return;
      this.detail = d;
      this.render(d);
    } catch (err) {
      if ((err as Error).name === 'AbortError' || this.id !== id) return;
      if (err instanceof ApiError && err.code === 'UNKNOWN_NODE') {
        if (this.detail) this.gone();
        else this.el.replaceChildren(this.header(id, ''), h('div', { class: 'banner warn', role: 'status' }, 'This node is not in the view (it may have gone).'));
        return;
      }
      this.el.replaceChildren(this.header(id, ''), h('div', { class: 'banner error', role: 'alert' }, `Could not load the node: ${(err as Error).message}`));
    }
  }

  private header(label: string, minor: string): HTMLElement {
    return h(
      'header',
      { class: 'dhead' },
      h('div', { class: 'dtitle' }, h('h2', { id: 'details-title' }, label), minor ? h('div', { class: 'muted minor' }, minor) : null),
      h('button', { class: 'icon', type: 'button', title: 'Close (Esc)', 'aria-label': 'Close details', onclick: () => this.host.close() }, '×'),
    );
  }

  private render(d: NodeDetail): void {
    const n = d.node;
    const parts: Array<HTMLElement | null> = [this.header(n.label, n.labelMinor)];
    if (n.stale) parts.push(h('div', { class: 'banner warn' }, 'Stale: the probes reporting this node are silent.'));
    const role = this.host.session()?.role;
    if (n.controls.length > 0 && role === 'admin') {
      this.status = h('div', { class: 'cstatus', role: 'status', 'aria-live': 'polite' });
      parts.push(
        h(
          'section',
          { class: 'controls', 'aria-label': 'Controls' },
          h('h3', {}, 'Controls'),
          h('div', { class: 'cbuttons' }, ...n.controls.map((c) => h('button', { type: 'button', class: `control${c.destructive ? ' destructive' : ''}`, 'data-control': c.id, onclick: () => void this.run(n.id, n.label, c) }, c.label))),
          this.status,
        ),
      );
    }
    if (n.metrics.length > 0) {
      parts.push(
        h(
          'section',
          { 'aria-label': 'Metrics' },
          h('h3', {}, 'Metrics'),
          h('table', { class: 'kv metrics' }, ...n.metrics.map((m) => h('tr', {}, h('th', {}, m.id), h('td', { class: 'num' }, formatValue(m.id, m.value)), h('td', {}, sparkline(m))))),
        ),
      );
    }
    if (n.metadata.length > 0) {
      parts.push(h('section', { 'aria-label': 'Metadata' }, h('h3', {}, 'Metadata'), h('table', { class: 'kv' }, ...n.metadata.map((m) => h('tr', {}, h('th', {}, m.id), h('td', { class: 'wrap' }, formatValue(m.id, m.value)))))));
    }
    const link = (x: { id: string; label: string }): HTMLElement =>
      this.host.has(x.id) ? h('button', { type: 'button', class: 'link', onclick: () => this.host.select(x.id) }, x.label) : h('span', {}, x.label);
    parts.push(
      h(
        'section',
        { 'aria-label': 'Connections' },
        h('h3', {}, `Connections`),
        h('div', { class: 'conns' },
          h('div', {}, h('h4', {}, `Outgoing (${d.connections.outgoing.length})`), list(d.connections.outgoing.map(link))),
          h('div', {}, h('h4', {}, `Incoming (${d.connections.incoming.length})`), list(d.connections.incoming.map(link))),
        ),
      ),
    );
    if (n.parents.length > 0) {
      parts.push(
        h('section', { 'aria-label': 'Parents' }, h('h3', {}, 'Parents'), list(n.parents.map((p) => {
          const v = VIEW_OF_TOPOLOGY[p.topology];
          return h('span', {}, h('span', { class: 'muted' }, `${p.topology} `), v ? h('button', { type: 'button', class: 'link', onclick: () => this.host.open(v, p.id) }, p.label) : p.label);
        }))),
      );
    }
    if (d.children.length > 0 || n.children.length > 0) {
      const counts = n.children.map((c) => `${c.topology}: ${c.count}`).join(', ');
      parts.push(
        h('section', { 'aria-label': 'Children' }, h('h3', {}, 'Children'), counts ? h('div', { class: 'muted' }, counts) : null,
          list(d.children.slice(0, 100).map((c) => {
            const v = VIEW_OF_TOPOLOGY[c.topology];
            return h('span', {}, h('span', { class: 'muted' }, `${c.topology} `), v ? h('button', { type: 'button', class: 'link', onclick: () => this.host.open(v, c.id) }, c.label) : c.label);
          })),
        ),
      );
    }
    if (d.probes.length > 0) parts.push(h('section', {}, h('h3', {}, 'Reported by'), list(d.probes.map((p) => h('span', { class: 'mono' }, p)))));
    parts.push(h('div', { class: 'muted small mono pad' }, n.id));
    const scroll = this.el.scrollTop;
    this.el.replaceChildren(...parts.filter((p): p is HTMLElement => p !== null));
    this.el.scrollTop = scroll;
  }

  private async run(nodeId: string, label: string, c: ControlRef): Promise<void> {
    if (this.busy) return;
    if (c.destructive && !(await this.host.confirm(`${c.label} ${label}?`))) return;
    this.busy = true;
    const status = this.status;
    const buttons = Array.from(this.el.querySelectorAll<HTMLButtonElement>('button.control'));
    for (const b of buttons) b.disabled = true;
    status?.replaceChildren(h('span', { class: 'muted' }, `${c.label}: running…`));
    try {
      const out = await this.host.api.post<{ ok: boolean; output?: string[] }>('/api/control', { nodeId, control: c.id });
      status?.replaceChildren(h('span', { class: 'ok' }, `${c.label}: done`), out.output && out.output.length > 0 ? h('pre', { class: 'output' }, out.output.join('\n')) : '');
      this.changed();
    } catch (err) {
      const msg = err instanceof ApiError ? `${err.message} (${err.code})` : (err as Error).message;
      status?.replaceChildren(h('div', { class: 'banner error', role: 'alert' }, `${c.label} failed: ${msg}`));
    } finally {
      this.busy = false;
      for (const b of buttons) b.disabled = false;
    }
  }
}

function list(items: HTMLElement[]): HTMLElement {
  if (items.length === 0) return h('div', { class: 'muted' }, 'none');
  return h('ul', { class: 'list' }, ...items.map((i) => h('li', {}, i)));
}
