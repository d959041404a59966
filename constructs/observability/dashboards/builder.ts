/**
 * A small typed builder for Grafana dashboards (JSON model, schemaVersion 39): rows, time
 * series and stat panels laid out left to right on Grafana's 24-column grid, every query
 * against the provisioned Prometheus datasource. Dashboards are code, so their queries are
 * the same strings the tests parse with promtool and run against a real Prometheus.
 */

/** uid of the provisioned Prometheus datasource (grafana.ts provisions it under this uid). */
export const PROMETHEUS_DATASOURCE_UID = 'prometheus';

export type Unit = 'short' | 'percentunit' | 's' | 'ms' | 'bytes' | 'reqps' | 'ops' | 'none';

export interface Query {
  readonly expr: string;
  /** Legend, e.g. `{{node}}`. */
  readonly legend?: string;
}

export interface PanelOptions {
  readonly unit?: Unit;
  /** Width in grid columns (1..24). @default 12 */
  readonly width?: number;
  /** Height in grid rows. @default 8 */
  readonly height?: number;
  /** Value from which a stat turns red (green below). */
  readonly redFrom?: number;
  readonly description?: string;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export type GrafanaDashboard = Record<string, any>;

const DATASOURCE = { type: 'prometheus', uid: PROMETHEUS_DATASOURCE_UID };

export class DashboardBuilder {
  private readonly panels: GrafanaDashboard[] = [];
  private x = 0;
  private y = 0;
  private rowHeight = 0;
  private nextId = 1;

  constructor(private readonly uid: string, private readonly title: string, private readonly tags: readonly string[]) {
    if (!/^[a-z0-9-]{1,40}$/.test(uid)) throw new Error(`dashboard uid "${uid}" must be 1-40 of a-z, 0-9, -`);
  }

  /** A full-width row header; the panels after it belong to it. */
  public row(title: string): this {
    this.newLine();
    this.panels.push({ id: this.nextId++, type: 'row', title, collapsed: false, gridPos: { x: 0, y: this.y, w: 24, h: 1 }, panels: [] });
    this.y += 1;
    return this;
  }

  public timeseries(title: string, queries: readonly Query[], opts: PanelOptions = {}): this {
    return this.panel('timeseries', title, queries, opts, { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } });
  }

  public stat(title: string, queries: readonly Query[], opts: PanelOptions = {}): this {
    return this.panel('stat', title, queries, { width: 6, height: 4, ...opts }, {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'none', textMode: 'auto',
    });
  }

  public build(): GrafanaDashboard {
    if (!this.panels.some((p) => p.type !== 'row')) throw new Error(`dashboard ${this.uid} has no panels`);
    return {
      uid: this.uid,
      title: this.title,
      tags: [...this.tags],
      editable: false,
      graphTooltip: 1,
      refresh: '30s',
      schemaVersion: 39,
      time: { from: 'now-6h', to: 'now' },
      timezone: 'utc',
      templating: { list: [] },
      annotations: { list: [] },
      panels: this.panels,
      version: 1,
    };
  }

  private panel(type: string, title: string, queries: readonly Query[], opts: PanelOptions, options: GrafanaDashboard): this {
    if (queries.length === 0) throw new Error(`panel "${title}" has no query`);
    const w = opts.width ?? 12;
    const h = opts.height ?? 8;
    if (w < 1 || w > 24) throw new Error(`panel "${title}": width ${w} is outside 1..24`);
    if (this.x + w > 24) this.newLine();
    const thresholds = opts.redFrom === undefined
      ? { mode: 'absolute', steps: [{ color: 'green', value: null }] }
      : { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'red', value: opts.redFrom }] };
    this.panels.push({
      id: this.nextId++,
      type,
      title,
      description: opts.description ?? '',
      datasource: DATASOURCE,
      gridPos: { x: this.x, y: this.y, w, h },
      targets: queries.map((q, i) => ({
        refId: String.fromCharCode(65 + i),
        datasource: DATASOURCE,
        expr: q.expr,
        legendFormat: q.legend ?? '__auto',
        range: true,
      })),
      fieldConfig: { defaults: { unit: opts.unit ?? 'short', thresholds }, overrides: [] },
      options,
    });
    this.x += w;
    this.rowHeight = Math.max(this.rowHeight, h);
    return this;
  }

  private newLine(): void {
    this.y += this.rowHeight;
    this.x = 0;
    this.rowHeight = 0;
  }
}

/** Every PromQL expression of a built dashboard (for the tests). */
export function dashboardQueries(d: GrafanaDashboard): Array<{ panel: string; expr: string }> {
  return (d.panels as GrafanaDashboard[]).flatMap((p) => (p.targets ?? []).map((t: GrafanaDashboard) => ({ panel: p.title, expr: t.expr as string })));
}
