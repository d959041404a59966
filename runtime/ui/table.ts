/**
 * The table view: every node of the view as a row, sortable, virtualised (only
 * the rows in sight exist in the DOM), so it stays fast where a graph of tens
 * of thousands of nodes would not be readable anyway.
 */
import { h, marked } from './dom';
import { groupKey, meta, stateOf, type Grouping, type ViewStore } from './store';
import type { ViewNode } from './types';

const ROW = 30;

type Column = { id: string; label: string; get(n: ViewNode, t: TableView): string | number };

const COLUMNS: Column[] = [
  { id: 'label', label: 'Name', get: (n) => n.label },
  { id: 'minor', label: 'Details', get: (n) => n.labelMinor },
  { id: 'group', label: 'Group', get: (n, t) => groupKey(n, t.grouping) },
  { id: 'state', label: 'State', get: (n) => stateOf(n) || meta(n, 'state') },
  { id: 'in', label: 'In', get: (n, t) => t.store.incoming.get(n.id)?.size ?? 0 },
  { id: 'out', label: 'Out', get: (n) => n.adjacency.length },
  { id: 'cpu', label: 'CPU %', get: (n) => n.metrics.find((m) => m.id === 'cpu_percent')?.value ?? '' },
];

export class TableView {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly rowsEl: HTMLElement;
  private rows: ViewNode[] = [];
  private sortBy = 'label';
  private sortDir = 1;
  private selected: string | null = null;
  private only: Set<string> | null = null;
  private words: string[] = [];
  grouping: Grouping = 'host';

  constructor(
    readonly store: ViewStore,
    private readonly onSelect: (id: string) => void,
  ) {
    const head = h('div', { class: 'trow thead', role: 'row' });
    for (const c of COLUMNS) {
      head.append(
        h('button', { class: `tcell c-${c.id}`, role: 'columnheader', type: 'button', 'data-col': c.id, onclick: () => this.sort(c.id) }, c.label),
      );
    }
    this.spacer = h('div', { class: 'tspacer' });
    this.rowsEl = h('div', { class: 'trows', role: 'rowgroup' });
    this.body = h('div', { class: 'tbody' }, this.spacer, this.rowsEl);
    this.body.addEventListener('scroll', () => this.paint());
    this.el = h('div', { class: 'table', role: 'grid', 'aria-label': 'Nodes' }, head, this.body);
  }

  private sort(col: string): void {
    if (this.sortBy === col) this.sortDir = -this.sortDir;
    else {
      this.sortBy = col;
      this.sortDir = 1;
    }
    this.update();
  }

  /** Shows only `ids` (search narrowing), with `words` marked; null shows every node. */
  setFilter(ids: Set<string> | null, words: string[]): void {
    this.only = ids;
    this.words = words;
    this.update();
  }

  setSelected(id: string | null): void {
    this.selected = id;
    this.paint();
  }

  update(): void {
    const col = COLUMNS.find((c) => c.id === this.sortBy)!;
    const list = [...this.store.nodes.values()].filter((n) => this.only === null || this.only.has(n.id));
    const key = new Map(list.map((n) => [n.id, col.get(n, this)]));
    list.sort((a, b) => {
      const x = key.get(a.id)!;
      const y = key.get(b.id)!;
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return c !== 0 ? c * this.sortDir : a.id < b.id ? -1 : 1;
    });
    this.rows = list;
    this.spacer.style.height = `${list.length * ROW}px`;
    this.paint();
  }

  /** Ids in table order (keyboard moves). */
  order(): string[] {
    return this.rows.map((r) => r.id);
  }

  scrollTo(id: string): void {
    const i = this.rows.findIndex((r) => r.id === id);
    if (i < 0) return;
    const top = i * ROW;
    if (top < this.body.scrollTop) this.body.scrollTop = top;
    else if (top + ROW > this.body.scrollTop + this.body.clientHeight) this.body.scrollTop = top + ROW - this.body.clientHeight;
    this.paint();
  }

  private paint(): void {
    const first = Math.max(0, Math.floor(this.body.scrollTop / ROW) - 5);
    const last = Math.min(this.rows.length, first + Math.ceil((this.body.clientHeight || 600) / ROW) + 10);
    this.rowsEl.replaceChildren();
    this.rowsEl.style.transform = `translateY(${first * ROW}px)`;
    for (let i = first; i < last; i++) {
      const n = this.rows[i]!;
      const row = h('div', {
        class: `trow${n.id === this.selected ? ' selected' : ''}${n.stale ? ' stale' : ''}`,
        role: 'row',
        'data-id': n.id,
        'aria-selected': n.id === this.selected ? 'true' : 'false',
        onclick: () => this.onSelect(n.id),
      });
      for (const c of COLUMNS) {
        const v = c.get(n, this);
        const cell = h('div', { class: `tcell c-${c.id}`, role: 'gridcell' });
        if (c.id === 'state') cell.append(h('span', { class: `state state-${stateOf(n) || 'none'}` }, String(v)));
        else if (c.id === 'label' || c.id === 'minor') cell.append(marked(String(v), this.words));
        else cell.append(typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(1) : String(v));
        row.append(cell);
      }
      this.rowsEl.append(row);
    }
  }
}
