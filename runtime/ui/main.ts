/**
 * The topology page: wires the feed, the store, the graph, the table, search
 * and the details panel, and keeps the page's state (view, filters, grouping,
 * search, selected node) in the URL so that a link can be shared.
 */
import { Api, ApiError, Feed, storeToken, takeToken, type FeedState } from './api';
import { DetailsPanel } from './details';
import { h, marked } from './dom';
import { GraphView, type Theme } from './graph';
import { GROUPINGS, groupKey, stateOf, ViewStore, type Grouping } from './store';
import { TableView } from './table';
import { FILTERS, VIEW_OF_TOPOLOGY, VIEWS, type FilterName, type SearchHit, type SearchResult, type Session, type ViewSummary } from './types';

interface PageState {
  view: string;
  group: Grouping;
  mode: 'graph' | 'table';
  q: string;
  node: string | null;
  collapsed: Set<string>;
  filters: Partial<Record<FilterName, string>>;
}

/** A frame taking up to this long is smooth: deltas then go on screen every frame. */
const SMOOTH_FRAME_MS = 34;
/** The longest a batch of deltas waits for its turn to be drawn. */
const MAX_APPLY_WAIT_MS = 1000;

/** Above this many nodes the page opens on the table (the graph stays one click away). */
const TABLE_FALLBACK_NODES = 20_000;

function readUrl(): PageState {
  const p = new URLSearchParams(location.search);
  const view = p.get('view') ?? 'containers';
  const group = p.get('group') as Grouping | null;
  const filters: PageState['filters'] = {};
  for (const f of FILTERS) {
    const v = p.get(f);
    if (v) filters[f] = v;
  }
  return {
    view: VIEWS.some((v) => v.id === view) ? view : 'containers',
    group: group && GROUPINGS.some((g) => g.id === group) ? group : view === 'hosts' ? 'none' : 'host',
    mode: p.get('mode') === 'table' ? 'table' : 'graph',
    q: p.get('q') ?? '',
    node: p.get('node'),
    collapsed: new Set(p.getAll('collapsed')),
    filters,
  };
}

function writeUrl(s: PageState, push: boolean): void {
  const p = new URLSearchParams();
  p.set('view', s.view);
  p.set('group', s.group);
  if (s.mode !== 'graph') p.set('mode', s.mode);
  for (const f of FILTERS) if (s.filters[f]) p.set(f, s.filters[f]!);
  if (s.q) p.set('q', s.q);
  for (const c of [...s.collapsed].sort()) p.append('collapsed', c);
  if (s.node) p.set('node', s.node);
  const url = `${location.pathname}?${p.toString()}${location.hash}`;
  if (url === location.pathname + location.search + location.hash) return;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

function themeColors(): Theme {
  const cs = getComputedStyle(document.documentElement);
  const v = (name: string): string => cs.getPropertyValue(name).trim();
  return {
    background: v('--bg'),
    label: v('--fg'),
    edge: v('--edge'),
    dim: v('--dim'),
    accent: v('--accent'),
    match: v('--match'),
    node: {
      host: v('--n-host'),
      process: v('--n-process'),
      container: v('--n-container'),
      container_image: v('--n-container'),
      pod: v('--n-pod'),
      service: v('--n-service'),
      controller: v('--n-controller'),
      group: v('--n-group'),
      paused: v('--n-paused'),
      stopped: v('--n-stopped'),
      stale: v('--n-stale'),
    },
  };
}

class Page {
  private state = readUrl();
  private token: string | null = takeToken();
  private readonly api = new Api(() => this.token);
  private session: Session | null = null;
  private readonly store = new ViewStore();
  private feed: Feed | null = null;
  private graph!: GraphView;
  private table!: TableView;
  private details!: DetailsPanel;
  private matches: Set<string> | null = null;
  private hits: SearchHit[] = [];
  private searchTotal = 0;
  private searchSeq = 0;
  private searchTimer: number | null = null;
  private frame: number | null = null;
  private summaries: ViewSummary[] = [];
  private feedState: FeedState = 'connecting';
  private haveView = false;
  // Elements
  private readonly viewNav = h('nav', { class: 'views', 'aria-label': 'Views' });
  private readonly searchInput = h('input', { type: 'search', id: 'search', placeholder: 'Search  (/)   e.g. nginx  or  image:redis', 'aria-label': 'Search nodes', autocomplete: 'off', spellcheck: 'false' });
  private readonly results = h('div', { class: 'results', id: 'search-results', role: 'listbox', hidden: true });
  private readonly groupSelect = h('select', { id: 'group', 'aria-label': 'Group by' });
  private readonly modeButton = h('button', { type: 'button', id: 'mode', class: 'tool', title: 'Graph or table (t)' });
  private readonly filterBar = h('div', { class: 'filters', 'aria-label': 'Filters' });
  private readonly banners = h('div', { class: 'banners', 'aria-live': 'polite' });
  private readonly graphEl = h('div', { class: 'graph', id: 'graph', tabindex: 0, 'aria-label': 'Topology graph; arrow keys move between nodes' });
  private readonly statusEl = h('div', { class: 'statusline', id: 'status', role: 'status' });
  private readonly confirmDialog = h('dialog', { class: 'dialog', id: 'confirm' });
  private readonly tokenDialog = h('dialog', { class: 'dialog', id: 'token-dialog' });
  private readonly helpDialog = h('dialog', { class: 'dialog', id: 'help' });
  private readonly groupsTools = h('span', { class: 'groups-tools' });

  start(): void {
    this.applyTheme(localStorage.getItem('orchestrator.theme'));
    this.details = new DetailsPanel({
      api: this.api,
      session: () => this.session,
      view: () => this.state.view,
      select: (id) => this.select(id, true),
      open: (view, id) => this.switchView(view, id),
      close: () => this.select(null),
      confirm: (text) => this.confirm(text),
      has: (id) => this.store.nodes.has(id),
    });
    this.table = new TableView(this.store, (id) => this.select(id));
    this.buildShell();
    // Network first: the session and the view are on their way while the graph starts up
    // (the feed's messages are handled in later tasks, when this.graph exists).
    void this.loadSession();
    this.connect();
    this.graph = new GraphView(this.graphEl, this.store, themeColors(), {
      clickNode: (id) => this.select(id),
      clickGroup: (g) => this.toggleGroup(g),
      clickStage: () => {
        this.results.hidden = true;
      },
      drawn: (nodes, edges) => {
        // The first drawing after a full view (earlier ones are of the empty page).
        if (!this.haveView) return;
        const root = document.documentElement.dataset;
        root.drawnEdges = String(edges);
        root.drawn = String(nodes);
        // "drawn": the GPU has finished the frame holding every node and edge; "shown": the
        // next animation frame, by which the compositor has taken it (bench/ui.ts reads both).
        performance.mark('topology-drawn', { detail: { nodes, edges } });
        requestAnimationFrame(() => performance.mark('topology-shown', { detail: { nodes, edges } }));
      },
      layoutFailed: (err) => this.banner('layout', 'error', `The graph cannot be laid out (${err.code}): ${err.message}. The table view still works (t).`),
    });
    this.graph.setGrouping(this.state.group, this.state.collapsed);
    this.searchInput.value = this.state.q;
    this.applyMode();
    if (this.state.q) this.search(this.state.q, true);
    void this.loadSummaries();
    window.setInterval(() => void this.loadSummaries(), 10_000);
    window.addEventListener('popstate', () => this.fromUrl());
    document.addEventListener('keydown', (e) => this.key(e));
    window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => this.applyTheme(localStorage.getItem('orchestrator.theme')));
    (window as unknown as { orchestratorUi: unknown }).orchestratorUi = {
      nodes: () => this.graph.visibleNodeIds(),
      groups: () => this.graph.groupIds(),
      displayed: () => this.graph.displayedNodes,
      position: (id: string) => this.graph.screenPosition(id),
      graphPosition: (id: string) => this.graph.graphPosition(id),
      deltaBatches: () => this.deltaBatches,
      highlighted: () => (this.matches ? [...this.matches].filter((id) => this.store.nodes.has(id)) : null),
      label: (id: string) => this.store.nodes.get(id)?.label ?? null,
      // What the page holds of a node and what the graph paints it with (tests tell "not received" from "not drawn").
      state: (id: string) => {
        const n = this.store.nodes.get(id);
        return n ? stateOf(n) : null;
      },
      colour: (id: string) => this.graph.colourOf(id),
      idByLabel: (label: string) => [...this.store.nodes.values()].find((n) => n.label === label)?.id ?? null,
    };
  }

  private buildShell(): void {
    for (const g of GROUPINGS) this.groupSelect.append(h('option', { value: g.id }, g.label));
    this.groupSelect.value = this.state.group;
    this.groupSelect.addEventListener('change', () => this.setGrouping(this.groupSelect.value as Grouping));
    this.modeButton.addEventListener('click', () => this.toggleMode());
    this.searchInput.addEventListener('input', () => this.search(this.searchInput.value, false));
    this.searchInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        const first = this.hits.find((x) => this.store.nodes.has(x.id)) ?? this.hits[0];
        if (first) this.openHit(first);
      } else if (e.key === 'ArrowDown') {
        e.preventDefault();
        (this.results.querySelector('button') as HTMLButtonElement | null)?.focus();
      }
    });
    this.searchInput.addEventListener('focus', () => {
      if (this.hits.length > 0) this.results.hidden = false;
    });
    this.results.addEventListener('keydown', (e) => {
      const items = Array.from(this.results.querySelectorAll<HTMLButtonElement>('button.hit'));
      const i = items.indexOf(document.activeElement as HTMLButtonElement);
      if (e.key === 'ArrowDown' && i < items.length - 1) {
        e.preventDefault();
        items[i + 1]!.focus();
      } else if (e.key === 'ArrowUp') {
        e.preventDefault();
        if (i <= 0) this.searchInput.focus();
        else items[i - 1]!.focus();
      }
    });
    const themeButton = h('button', { type: 'button', class: 'tool', id: 'theme', title: 'Light or dark (d)', onclick: () => this.toggleTheme() }, '◐');
    const tokenButton = h('button', { type: 'button', class: 'tool', id: 'token-button', title: 'Token', onclick: () => this.askToken('') }, 'Token');
    const helpButton = h('button', { type: 'button', class: 'tool', title: 'Keyboard (?)', onclick: () => this.helpDialog.showModal() }, '?');
    this.groupsTools.append(
      h('button', { type: 'button', class: 'tool', id: 'collapse-all', title: 'Collapse every group', onclick: () => this.collapseAll(true) }, 'Collapse'),
      h('button', { type: 'button', class: 'tool', id: 'expand-all', title: 'Expand every group (e)', onclick: () => this.collapseAll(false) }, 'Expand'),
    );
    const header = h(
      'header',
      { class: 'top' },
      h('div', { class: 'brand' }, 'Topology'),
      this.viewNav,
      h('div', { class: 'search' }, this.searchInput, this.results),
      h('div', { class: 'tools' }, h('label', { class: 'tool-label', for: 'group' }, 'Group'), this.groupSelect, this.groupsTools, this.modeButton, themeButton, tokenButton, helpButton),
    );
    const main = h('main', { class: 'stage' }, this.graphEl, this.table.el, this.details.el);
    this.buildDialogs();
    document.body.replaceChildren(header, this.filterBar, this.banners, main, this.statusEl, this.confirmDialog, this.tokenDialog, this.helpDialog);
    this.renderViews();
    this.renderFilters();
  }

  private buildDialogs(): void {
    this.helpDialog.append(
      h('h2', {}, 'Keyboard'),
      h(
        'table',
        { class: 'kv' },
        ...[
          ['/', 'search'],
          ['Esc', 'close details, clear search'],
          ['← ↑ → ↓', 'move to the nearest node (graph) or row (table)'],
          ['Enter', 'open the first search result / go to the details'],
          ['1 … 8', 'switch view'],
          ['t', 'graph or table'],
          ['g', 'next grouping'],
          ['c', "collapse or expand the selected node's group"],
          ['e', 'expand every group'],
          ['+ / − / 0', 'zoom in, out, fit'],
          ['d', 'light or dark'],
        ].map(([k, v]) => h('tr', {}, h('th', {}, h('kbd', {}, k!)), h('td', {}, v!))),
      ),
      h('form', { method: 'dialog' }, h('button', { class: 'tool' }, 'Close')),
    );
  }

  // ---- session and token -------------------------------------------------

  private async loadSession(): Promise<void> {
    if (!this.token) {
      this.askToken('Paste the token the app printed (the link it prints carries it after #token=).');
      return;
    }
    try {
      this.session = await this.api.get<Session>('/api/whoami');
      document.documentElement.dataset.role = this.session.role;
      this.details.refresh();
      this.clearBanner('auth');
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) this.authProblem(err.message);
      else window.setTimeout(() => void this.loadSession(), 3000);
    }
  }

  private authProblem(message: string): void {
    this.banner('auth', 'error', `The token was refused: ${message}. It may have expired or been replaced.`, [
      h('button', { type: 'button', class: 'tool', onclick: () => this.askToken('') }, 'Enter a token'),
    ]);
  }

  private askToken(hint: string): void {
    const input = h('input', { type: 'password', id: 'token-input', autocomplete: 'off', 'aria-label': 'Token', placeholder: 'token' });
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', {}, 'Token'),
      hint ? h('p', { class: 'muted' }, hint) : null,
      h('p', { class: 'muted small' }, 'Kept in this tab only (sessionStorage) and sent in an Authorization header, never in a URL.'),
      input,
      h('div', { class: 'row' }, h('button', { class: 'tool primary', value: 'ok' }, 'Use token'), h('button', { class: 'tool', value: 'cancel', formnovalidate: true }, 'Cancel')),
    );
    this.tokenDialog.replaceChildren(form);
    this.tokenDialog.onclose = () => {
      if (this.tokenDialog.returnValue !== 'ok' || !input.value.trim()) return;
      this.token = input.value.trim();
      storeToken(this.token);
      this.session = null;
      void this.loadSession();
      this.feed?.retry();
      if (!this.feed) this.connect();
    };
    if (!this.tokenDialog.open) this.tokenDialog.showModal();
    input.focus();
  }

  // ---- the feed ------------------------------------------------------------

  private connect(): void {
    this.feed?.close();
    this.haveView = false;
    const q = new URLSearchParams();
    const allowed = this.summaries.find((s) => s.id === this.state.view)?.filters;
    for (const f of FILTERS) if (this.state.filters[f] && (!allowed || allowed.includes(f))) q.set(f, this.state.filters[f]!);
    const qs = q.toString();
    this.feed = new Feed(`/api/topology/${encodeURIComponent(this.state.view)}/ws${qs ? `?${qs}` : ''}`, () => this.token, this.api, {
      full: (nodes) => {
        const first = !this.haveView;
        // Where the time to the first drawing goes (bench/ui.ts reports it): the view is here.
        if (first && performance.getEntriesByName('topology-view-received').length === 0) performance.mark('topology-view-received');
        this.haveView = true;
        this.store.full(nodes);
        if (first && nodes.length > TABLE_FALLBACK_NODES && this.state.mode === 'graph') {
          this.state.mode = 'table';
          this.applyMode();
          this.banner('size', 'info', `${nodes.length} nodes: showing the table. The graph is one click away (t).`);
        }
        this.graph.sync(true);
        this.afterChange(null, []);
      },
      delta: (add, update, remove) => {
        this.store.delta(add, update, remove);
        for (const n of add) this.pendingChanged.add(n.id);
        for (const n of update) this.pendingChanged.add(n.id);
        for (const id of remove) this.pendingChanged.add(id);
        const sel = this.state.node;
        if (sel !== null && (update.some((n) => n.id === sel) || add.some((n) => n.id === sel))) this.details.changed();
        this.schedule(remove);
      },
      state: (s, detail) => this.onFeedState(s, detail),
    });
  }

  private pendingRemoved: string[] = [];
  /** Nodes added, updated or removed by deltas since the last frame. */
  private pendingChanged = new Set<string>();

  /** Batches of deltas applied so far (bench/ui.ts reports the rate). */
  private deltaBatches = 0;
  private applyTimer: number | null = null;
  /** The frame that draws the last batch is being timed. */
  private measuring = false;
  /** Earliest time (performance.now()) the next batch of deltas may be drawn. */
  private nextApplyAt = 0;

  /**
   * Deltas are applied in batches, once per animation frame at most, and no
   * more often than the page can afford: after a batch is drawn, the next one
   * waits twice as long as that drawing's frame took. With software WebGL a
   * redraw of 5,000 nodes costs 100-300 ms of the main thread here, and
   * drawing every delta as it came left the page at 4-6 fps; waiting keeps
   * redraws to about a third of the main thread, so pan, zoom and input stay
   * smooth. A change still shows within about a second (MAX_APPLY_WAIT_MS).
   */
  private schedule(removed: string[]): void {
    this.pendingRemoved.push(...removed);
    if (this.frame !== null || this.applyTimer !== null || this.measuring) return;
    const wait = this.nextApplyAt - performance.now();
    if (wait > 0) {
      this.applyTimer = window.setTimeout(() => {
        this.applyTimer = null;
        this.applyNextFrame();
      }, wait);
      return;
    }
    this.applyNextFrame();
  }

  private applyNextFrame(): void {
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      const r = this.pendingRemoved;
      const changed = this.pendingChanged;
      this.pendingRemoved = [];
      this.pendingChanged = new Set();
      this.graph.sync(false, changed);
      this.afterChange(null, r);
      this.deltaBatches++;
      // The redraw happens in the next frame; the one after it starts when that frame is done.
      this.measuring = true;
      requestAnimationFrame((drawStart) =>
        requestAnimationFrame((drawEnd) => {
          const cost = drawEnd - drawStart;
          this.measuring = false;
          this.nextApplyAt = drawEnd + (cost > SMOOTH_FRAME_MS ? Math.min(MAX_APPLY_WAIT_MS, 2 * cost) : 0);
          // Deltas that came meanwhile wait for their turn.
          if (this.pendingChanged.size > 0 || this.pendingRemoved.length > 0) this.schedule([]);
        }),
      );
    });
  }

  private afterChange(_: null, removed: string[]): void {
    if (this.state.mode === 'table') this.table.update();
    this.refreshMatches();
    if (this.state.node !== null && removed.includes(this.state.node)) this.details.gone();
    if (this.state.node !== null && this.details.nodeId === null && this.store.nodes.has(this.state.node)) this.select(this.state.node, true);
    this.renderStatus();
  }

  private onFeedState(s: FeedState, detail: string): void {
    this.feedState = s;
    if (s === 'live') {
      this.clearBanner('feed');
      this.clearBanner('auth');
      if (!this.session) void this.loadSession();
    } else if (s === 'lost') {
      this.banner('feed', 'error', `${detail[0]!.toUpperCase()}${detail.slice(1)}. What is on screen may be out of date.`, [
        h('button', { type: 'button', class: 'tool', onclick: () => this.feed?.retry() }, 'Retry now'),
      ]);
    } else if (s === 'unauthorized') {
      this.clearBanner('feed');
      this.authProblem(detail);
    }
    this.renderStatus();
  }

  // ---- views, filters, grouping, mode -------------------------------------

  private async loadSummaries(): Promise<void> {
    if (!this.token) return;
    try {
      this.summaries = await this.api.get<ViewSummary[]>('/api/topology');
      this.renderViews();
      this.renderFilters();
    } catch {
      // The feed's banner says what is wrong.
    }
  }

  private renderViews(): void {
    this.viewNav.replaceChildren(
      ...VIEWS.map((v, i) => {
        const count = this.summaries.find((s) => s.id === v.id)?.nodes;
        return h(
          'button',
          {
            type: 'button',
            class: `view${v.id === this.state.view ? ' active' : ''}`,
            'data-view': v.id,
            'aria-pressed': v.id === this.state.view ? 'true' : 'false',
            title: `${v.label} (${i + 1})`,
            onclick: () => this.switchView(v.id, null),
          },
          v.label,
          count !== undefined ? h('span', { class: 'count' }, String(count)) : null,
        );
      }),
    );
  }

  private renderFilters(): void {
    const allowed = this.summaries.find((s) => s.id === this.state.view)?.filters ?? [];
    const f = this.state.filters;
    const parts: HTMLElement[] = [];
    const set = (name: FilterName, value: string): void => {
      if (value) f[name] = value;
      else delete f[name];
      writeUrl(this.state, false);
      this.connect();
    };
    if (allowed.includes('namespace')) {
      const input = h('input', { type: 'text', id: 'f-namespace', placeholder: 'namespace', value: f.namespace ?? '', 'aria-label': 'Namespace filter', size: 14 });
      input.addEventListener('change', () => set('namespace', input.value.trim()));
      parts.push(h('label', {}, 'Namespace ', input));
    }
    const select = (name: FilterName, label: string, options: Array<[string, string]>): void => {
      const s = h('select', { id: `f-${name}`, 'aria-label': label }, ...options.map(([v, t]) => h('option', { value: v }, t)));
      s.value = f[name] ?? '';
      s.addEventListener('change', () => set(name, s.value));
      parts.push(h('label', {}, `${label} `, s));
    };
    if (allowed.includes('status')) select('status', 'State', [['', 'any'], ['running', 'running'], ['stopped', 'stopped']]);
    if (allowed.includes('system')) select('system', 'Kind', [['', 'all'], ['application', 'application'], ['system', 'system']]);
    if (allowed.includes('unconnected')) {
      const c = h('input', { type: 'checkbox', id: 'f-unconnected', checked: f.unconnected === 'hide' });
      c.addEventListener('change', () => set('unconnected', c.checked ? 'hide' : ''));
      parts.push(h('label', {}, c, ' Hide unconnected'));
    }
    this.filterBar.replaceChildren(...parts);
  }

  private switchView(view: string, node: string | null): void {
    if (view === this.state.view) {
      if (node) this.select(node, true);
      return;
    }
    this.state.view = view;
    this.state.node = node;
    this.state.collapsed = new Set();
    this.store.full([]);
    this.details.show(null);
    writeUrl(this.state, true);
    this.renderViews();
    this.renderFilters();
    this.graph.setGrouping(this.state.group, this.state.collapsed);
    this.table.update();
    this.connect();
    if (this.state.q) this.search(this.state.q, true);
  }

  private fromUrl(): void {
    const next = readUrl();
    const reconnect = next.view !== this.state.view || FILTERS.some((f) => next.filters[f] !== this.state.filters[f]);
    this.state = next;
    this.groupSelect.value = next.group;
    this.searchInput.value = next.q;
    this.renderViews();
    this.renderFilters();
    this.graph.setGrouping(next.group, next.collapsed);
    this.applyMode();
    if (reconnect) {
      this.store.full([]);
      this.connect();
    }
    this.search(next.q, true);
    this.select(next.node, false);
  }

  private setGrouping(g: Grouping): void {
    this.state.group = g;
    this.state.collapsed = new Set();
    this.groupSelect.value = g;
    this.table.grouping = g;
    this.graph.setGrouping(g, this.state.collapsed);
    if (this.state.mode === 'table') this.table.update();
    writeUrl(this.state, false);
    this.renderStatus();
  }

  private toggleGroup(g: string): void {
    if (this.state.collapsed.has(g)) this.state.collapsed.delete(g);
    else this.state.collapsed.add(g);
    this.graph.setGrouping(this.state.group, this.state.collapsed);
    writeUrl(this.state, false);
    this.renderStatus();
  }

  private collapseAll(collapse: boolean): void {
    if (this.state.group === 'none') return;
    this.state.collapsed = collapse ? new Set([...this.store.nodes.values()].map((n) => groupKey(n, this.state.group))) : new Set();
    this.graph.setGrouping(this.state.group, this.state.collapsed);
    writeUrl(this.state, false);
    this.renderStatus();
  }

  private toggleMode(): void {
    this.state.mode = this.state.mode === 'graph' ? 'table' : 'graph';
    this.clearBanner('size');
    this.applyMode();
    writeUrl(this.state, false);
  }

  private applyMode(): void {
    const table = this.state.mode === 'table';
    this.graphEl.hidden = table;
    this.table.el.hidden = !table;
    this.groupsTools.hidden = table;
    this.modeButton.textContent = table ? 'Graph' : 'Table';
    this.table.grouping = this.state.group;
    // The graph shown again is drawn for its box by its own ResizeObserver (graph.ts, fitBox).
    if (table) {
      this.table.update();
      if (this.state.node) this.table.scrollTo(this.state.node);
    }
  }

  // ---- selection -----------------------------------------------------------

  private select(id: string | null, focus = false): void {
    this.state.node = id;
    writeUrl(this.state, false);
    if (id !== null && !this.store.nodes.has(id) && this.haveView) {
      // A node of the URL that is not (or no longer) in the view: show what the app says.
      this.details.show(id);
    } else {
      this.details.show(id);
    }
    this.graph.setSelected(id);
    this.table.setSelected(id);
    if (id !== null && focus) {
      if (this.state.mode === 'graph') this.graph.focus(id);
      else this.table.scrollTo(id);
    }
    this.renderStatus();
  }

  // ---- search --------------------------------------------------------------

  private search(q: string, now: boolean): void {
    this.state.q = q.trim();
    writeUrl(this.state, false);
    if (this.searchTimer !== null) clearTimeout(this.searchTimer);
    if (this.state.q === '') {
      this.searchSeq++;
      this.hits = [];
      this.matches = null;
      this.results.hidden = true;
      this.graph.setHighlight(null);
      this.table.setFilter(null, []);
      this.renderStatus();
      return;
    }
    this.searchTimer = window.setTimeout(() => void this.runSearch(this.state.q), now ? 0 : 120);
  }

  private async runSearch(q: string): Promise<void> {
    const seq = ++this.searchSeq;
    try {
      const r = await this.api.get<SearchResult>(`/api/search?q=${encodeURIComponent(q)}&limit=500`);
      if (seq !== this.searchSeq) return;
      this.hits = r.hits;
      this.searchTotal = r.total;
      this.clearBanner('search');
    } catch (err) {
      if (seq !== this.searchSeq) return;
      this.hits = [];
      this.searchTotal = 0;
      if (err instanceof ApiError && err.status === 400) this.banner('search', 'warn', `Search: ${err.message}`);
      else this.banner('search', 'error', `Search failed: ${(err as Error).message}`);
    }
    this.matches = new Set(this.hits.map((x) => x.id));
    this.refreshMatches();
    this.renderResults();
  }

  private words(): string[] {
    return this.state.q
      .split(/\s+/)
      .map((t) => (t.includes(':') ? t.slice(t.indexOf(':') + 1) : t))
      .flatMap((t) => t.split(/[^\p{L}\p{N}_]+/u))
      .filter((w) => w.length > 0);
  }

  private refreshMatches(): void {
    if (this.matches === null) return;
    const inView = new Set([...this.matches].filter((id) => this.store.nodes.has(id)));
    this.graph.setHighlight(inView);
    this.table.setFilter(inView, this.words());
    this.renderStatus();
  }

  private renderResults(): void {
    const words = this.words();
    const inView = this.hits.filter((x) => this.store.nodes.has(x.id));
    const elsewhere = this.hits.filter((x) => !this.store.nodes.has(x.id));
    const item = (x: SearchHit): HTMLElement =>
      h(
        'button',
        { type: 'button', class: 'hit', role: 'option', 'data-id': x.id, onclick: () => this.openHit(x) },
        h('div', { class: 'hit-label' }, marked(x.label, words), x.stale ? h('span', { class: 'badge' }, 'stale') : null),
        h('div', { class: 'hit-minor muted' }, `${x.topology} · `, marked(x.labelMinor, words)),
        ...x.matches.slice(0, 3).map((m) => h('div', { class: 'hit-match small' }, h('span', { class: 'muted' }, `${m.field}: `), marked(m.value, words))),
      );
    const parts: HTMLElement[] = [h('div', { class: 'results-head muted small' }, `${inView.length} in this view · ${this.searchTotal} in all`)];
    parts.push(...inView.slice(0, 15).map(item));
    if (elsewhere.length > 0) {
      parts.push(h('div', { class: 'results-head muted small' }, 'In other views'));
      parts.push(...elsewhere.slice(0, 10).map(item));
    }
    if (this.hits.length === 0) parts.push(h('div', { class: 'muted pad' }, 'No match.'));
    this.results.replaceChildren(...parts);
    this.results.hidden = document.activeElement !== this.searchInput && !this.results.contains(document.activeElement);
  }

  private openHit(x: SearchHit): void {
    this.results.hidden = true;
    if (this.store.nodes.has(x.id)) this.select(x.id, true);
    else {
      const v = x.view ?? VIEW_OF_TOPOLOGY[x.topology];
      if (v) this.switchView(v, x.id);
    }
  }

  // ---- banners, status, theme, dialogs -----------------------------------

  private banner(key: string, kind: 'error' | 'warn' | 'info', text: string, actions: HTMLElement[] = []): void {
    const existing = this.banners.querySelector(`[data-key="${key}"]`);
    const el = h('div', { class: `banner ${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-key': key }, h('span', {}, text), ...actions);
    if (existing) existing.replaceWith(el);
    else this.banners.append(el);
  }

  private clearBanner(key: string): void {
    this.banners.querySelector(`[data-key="${key}"]`)?.remove();
  }

  private renderStatus(): void {
    const n = this.store.nodes.size;
    const parts = [`${n} node${n === 1 ? '' : 's'}`];
    if (this.matches) parts.push(`${[...this.matches].filter((id) => this.store.nodes.has(id)).length} matching`);
    if (this.state.group !== 'none' && this.state.collapsed.size > 0) parts.push(`${this.state.collapsed.size} group(s) collapsed`);
    parts.push(this.feedState === 'live' ? 'live' : this.feedState);
    if (this.session) parts.push(`${this.session.name} (${this.session.role})`);
    this.statusEl.textContent = parts.join(' · ');
    this.statusEl.dataset.feed = this.feedState;
  }

  private applyTheme(saved: string | null): void {
    const dark = saved ? saved === 'dark' : window.matchMedia('(prefers-color-scheme: dark)').matches;
    document.documentElement.dataset.theme = dark ? 'dark' : 'light';
    this.graph?.setTheme(themeColors());
  }

  private toggleTheme(): void {
    const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
    localStorage.setItem('orchestrator.theme', next);
    this.applyTheme(next);
  }

  private confirm(text: string): Promise<boolean> {
    return new Promise((resolve) => {
      this.confirmDialog.replaceChildren(
        h(
          'form',
          { method: 'dialog' },
          h('h2', {}, 'Confirm'),
          h('p', {}, text),
          h('div', { class: 'row' }, h('button', { class: 'tool danger', value: 'yes', id: 'confirm-yes' }, 'Yes, do it'), h('button', { class: 'tool', value: 'no', autofocus: true }, 'Cancel')),
        ),
      );
      this.confirmDialog.onclose = () => resolve(this.confirmDialog.returnValue === 'yes');
      this.confirmDialog.returnValue = '';
      this.confirmDialog.showModal();
    });
  }

  // ---- keyboard -------------------------------------------------------------

  private key(e: KeyboardEvent): void {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target as HTMLElement;
    const typing = t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement || t.isContentEditable;
    if (document.querySelector('dialog[open]')) return;
    if (e.key === 'Escape') {
      if (t === this.searchInput || this.results.contains(t)) {
        if (this.searchInput.value) {
          this.searchInput.value = '';
          this.search('', true);
        }
        this.results.hidden = true;
        this.searchInput.blur();
      } else if (this.state.node !== null) this.select(null);
      return;
    }
    if (typing) return;
    const arrows: Record<string, 'up' | 'down' | 'left' | 'right'> = { ArrowUp: 'up', ArrowDown: 'down', ArrowLeft: 'left', ArrowRight: 'right' };
    if (e.key in arrows) {
      e.preventDefault();
      this.move(arrows[e.key]!);
      return;
    }
    const k = e.key;
    if (k === '/') {
      e.preventDefault();
      this.searchInput.focus();
      this.searchInput.select();
    } else if (k === 'Enter' && this.state.node) this.details.el.focus();
    else if (k >= '1' && k <= '8') this.switchView(VIEWS[Number(k) - 1]!.id, null);
    else if (k === 't') this.toggleMode();
    else if (k === 'g') {
      const i = GROUPINGS.findIndex((g) => g.id === this.state.group);
      this.setGrouping(GROUPINGS[(i + 1) % GROUPINGS.length]!.id);
    } else if (k === 'c' && this.state.node) {
      const n = this.store.nodes.get(this.state.node);
      if (n && this.state.group !== 'none') this.toggleGroup(groupKey(n, this.state.group));
    } else if (k === 'e') this.collapseAll(false);
    else if (k === '+' || k === '=') this.graph.zoom(1.5);
    else if (k === '-') this.graph.zoom(1 / 1.5);
    else if (k === '0') this.graph.resetCamera();
    else if (k === 'd') this.toggleTheme();
    else if (k === '?') this.helpDialog.showModal();
  }

  private move(dir: 'up' | 'down' | 'left' | 'right'): void {
    const cur = this.state.node;
    if (this.state.mode === 'table') {
      const order = this.table.order();
      if (order.length === 0) return;
      const i = cur === null ? -1 : order.indexOf(cur);
      const next = dir === 'up' || dir === 'left' ? order[Math.max(0, i - 1)] : order[Math.min(order.length - 1, i + 1)];
      if (next) this.select(next, true);
      return;
    }
    if (cur === null || !this.graph.displayed(cur)) {
      const first = this.graph.visibleNodeIds()[0];
      if (first) this.select(first, true);
      return;
    }
    const next = this.graph.nearest(cur, dir);
    if (next) this.select(next, true);
  }
}

new Page().start();
