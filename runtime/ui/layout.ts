/**
 * A structured, stable layout: nodes sit in their group (a host, a namespace,
 * an image), each group a sunflower (phyllotaxis) of slots. A node keeps its
 * slot for as long as it exists, and a slot's place does not depend on how
 * many others the group holds, so nodes never move when others come and go.
 * Groups are packed in rows in the order they first appeared; the packing is
 * redone only when a group outgrows its reserved capacity (doubling), and then
 * groups move as a whole.
 *
 * Cost: O(1) per node placed, O(groups) per repack: no force simulation, so
 * 5,000 nodes are placed in about a millisecond (layout is what made Scope's
 * dagre take minutes at 1,000 nodes).
 *
 * The page never runs this: it lives in the layout worker
 * (runtime/ui/layout-worker.ts), which sends positions to the page.
 */
const GOLDEN = Math.PI * (3 - Math.sqrt(5));
/** Distance scale between neighbouring slots. */
const SPACING = 10;
const GROUP_GAP = 3 * SPACING;

interface Group {
  key: string;
  order: number;
  slots: Array<string | null>;
  free: number[];
  count: number;
  capacity: number;
  cx: number;
  cy: number;
}

export interface Point {
  x: number;
  y: number;
}

export function slotOffset(i: number): Point {
  const r = SPACING * Math.sqrt(i + 0.5);
  const a = i * GOLDEN;
  return { x: r * Math.cos(a), y: r * Math.sin(a) };
}

function radiusFor(capacity: number): number {
  return SPACING * Math.sqrt(capacity + 0.5) + SPACING;
}

export class StableLayout {
  private readonly groups = new Map<string, Group>();
  private readonly where = new Map<string, { group: Group; slot: number }>();
  private order = 0;
  private rowWidth = 0;
  private dirty = true;

  /** Places `id` in `group` (keeping its slot if it is already there); returns whether groups moved. */
  place(id: string, groupKey: string): void {
    const cur = this.where.get(id);
    if (cur && cur.group.key === groupKey) return;
    if (cur) this.remove(id);
    let g = this.groups.get(groupKey);
    if (!g) {
      g = { key: groupKey, order: this.order++, slots: [], free: [], count: 0, capacity: 8, cx: 0, cy: 0 };
      this.groups.set(groupKey, g);
      this.dirty = true;
    }
    // Reuse the innermost free slot, so a group stays compact.
    let slot: number;
    if (g.free.length > 0) {
      g.free.sort((a, b) => b - a);
      slot = g.free.pop()!;
      g.slots[slot] = id;
    } else {
      slot = g.slots.length;
      g.slots.push(id);
    }
    g.count++;
    if (g.slots.length > g.capacity) {
      while (g.slots.length > g.capacity) g.capacity *= 2;
      this.dirty = true;
    }
    this.where.set(id, { group: g, slot });
  }

  remove(id: string): void {
    const w = this.where.get(id);
    if (!w) return;
    this.where.delete(id);
    w.group.slots[w.slot] = null;
    w.group.free.push(w.slot);
    w.group.count--;
    if (w.group.count === 0) {
      this.groups.delete(w.group.key);
      // The space stays reserved until the next repack, which a new group triggers.
    }
  }

  has(id: string): boolean {
    return this.where.has(id);
  }

  /** Every placed node id. */
  ids(): IterableIterator<string> {
    return this.where.keys();
  }

  get size(): number {
    return this.where.size;
  }

  /** Every group's key (groups with at least one node). */
  groupKeys(): IterableIterator<string> {
    return this.groups.keys();
  }

  /** Packs groups into rows if needed; returns true when group centres moved. */
  pack(): boolean {
    if (!this.dirty) return false;
    this.dirty = false;
    const list = [...this.groups.values()].sort((a, b) => a.order - b.order);
    let area = 0;
    for (const g of list) area += (2 * radiusFor(g.capacity) + GROUP_GAP) ** 2;
    // The row width is kept unless the total area outgrew it (so groups stay put as they come).
    const wanted = Math.sqrt(area) * 1.15;
    if (this.rowWidth === 0 || wanted > this.rowWidth * 1.5 || wanted < this.rowWidth / 3) this.rowWidth = wanted;
    let x = 0;
    let y = 0;
    let rowHeight = 0;
    for (const g of list) {
      const d = 2 * radiusFor(g.capacity);
      if (x > 0 && x + d > this.rowWidth) {
        x = 0;
        y += rowHeight + GROUP_GAP;
        rowHeight = 0;
      }
      g.cx = x + d / 2;
      g.cy = y + d / 2;
      x += d + GROUP_GAP;
      rowHeight = Math.max(rowHeight, d);
    }
    return true;
  }

  position(id: string): Point | null {
    const w = this.where.get(id);
    if (!w) return null;
    const o = slotOffset(w.slot);
    // y grows downwards on screen in sigma's camera; flip so rows read top to bottom.
    return { x: w.group.cx + o.x, y: -(w.group.cy + o.y) };
  }

  groupCenter(key: string): Point | null {
    const g = this.groups.get(key);
    return g ? { x: g.cx, y: -g.cy } : null;
  }

  groupRadius(key: string): number {
    const g = this.groups.get(key);
    return g ? radiusFor(Math.max(1, g.count)) : 0;
  }

  /** Extent of everything placed, for a stable camera frame. */
  bounds(): { x: [number, number]; y: [number, number] } {
    let minX = Infinity;
    let maxX = -Infinity;
    let minY = Infinity;
    let maxY = -Infinity;
    for (const g of this.groups.values()) {
      const r = radiusFor(g.capacity);
      minX = Math.min(minX, g.cx - r);
      maxX = Math.max(maxX, g.cx + r);
      minY = Math.min(minY, -g.cy - r);
      maxY = Math.max(maxY, -g.cy + r);
    }
    if (!Number.isFinite(minX)) return { x: [-1, 1], y: [-1, 1] };
    return { x: [minX, maxX], y: [minY, maxY] };
  }

  clear(): void {
    this.order = 0;
    this.groups.clear();
    this.where.clear();
    this.rowWidth = 0;
    this.dirty = true;
  }
}
