/** A few DOM helpers: elements are built with properties and text, never from HTML strings. */
type Attrs = Record<string, string | number | boolean | null | undefined | ((e: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Array<Node | string | null | undefined | false>): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v as EventListener);
    else if (k === 'class') el.className = String(v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';

export function svg(tag: string, attrs: Record<string, string | number>): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** Text with every occurrence of the query's words wrapped in <mark>. */
export function marked(text: string, words: string[]): DocumentFragment {
  const frag = document.createDocumentFragment();
  const ws = words.filter((w) => w.length > 0).map((w) => w.toLowerCase());
  if (ws.length === 0) {
    frag.append(text);
    return frag;
  }
  const lower = text.toLowerCase();
  let i = 0;
  while (i < text.length) {
    let at = -1;
    let len = 0;
    for (const w of ws) {
      const j = lower.indexOf(w, i);
      if (j >= 0 && (at < 0 || j < at || (j === at && w.length > len))) {
        at = j;
        len = w.length;
      }
    }
    if (at < 0) {
      frag.append(text.slice(i));
      break;
    }
    if (at > i) frag.append(text.slice(i, at));
    frag.append(h('mark', {}, text.slice(at, at + len)));
    i = at + len;
  }
  return frag;
}

export function formatValue(id: string, v: string | number | boolean): string {
  if (typeof v !== 'number') return String(v);
  if (/bytes/.test(id)) return formatBytes(v);
  if (/_at$|boot_time|timestamp/.test(id) && v > 1e12) return new Date(v).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  if (/percent/.test(id)) return `${v.toFixed(1)} %`;
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

export function formatBytes(v: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
