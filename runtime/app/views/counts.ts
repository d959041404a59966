/**
 * Node counts of grouped views, kept up to date from the model's change sets.
 *
 * A grouped view has one node per group of base nodes (processes by name, containers by
 * image), so its size is the number of distinct group keys. Counting that from the model
 * walks every base node (40,000 processes at 1,000 probes) and ran on every /metrics scrape
 * and every list of views; here each change set moves only the nodes it names from one
 * group to another, so a count costs nothing and its upkeep costs what changed.
 */
import type { LiveModel } from '../model';
import type { ViewSpec } from './catalog';
import { groupKey } from './render';

export class GroupCounts {
  /**
   * Base node id → the group it is counted in, and the node's `latest` it was read from: a group
   * key comes from `latest` (a name or an image), which the model keeps while none of its values
   * changes (share.ts), so a node changed in its metrics alone is not looked at again.
   */
  private readonly groupOf = new Map<string, Counted>();
  /** Group key → how many base nodes it has (never 0: an emptied group is deleted). */
  private readonly members = new Map<string, number>();

  constructor(
    private readonly model: LiveModel,
    private readonly spec: ViewSpec,
  ) {
    if (spec.groupBy === undefined) throw new RangeError(`view ${spec.id} is not grouped`);
    for (const m of model.topology(spec.base).values()) this.move(m.id, { key: groupKey(spec, m), latest: m.node.latest });
  }

  /** Re-reads the base nodes `ids` (changed, added or removed) from the model. */
  note(ids: Iterable<string>): void {
    for (const id of ids) {
      const m = this.model.get(this.spec.base, id);
      if (m === undefined) this.move(id, undefined);
      else if (this.groupOf.get(id)?.latest !== m.node.latest) this.move(id, { key: groupKey(this.spec, m), latest: m.node.latest });
    }
  }

  /** How many nodes the view has: its non-empty groups. */
  get size(): number {
    return this.members.size;
  }

  private move(id: string, next: Counted | undefined): void {
    const prev = this.groupOf.get(id)?.key;
    if (next === undefined) this.groupOf.delete(id);
    else this.groupOf.set(id, next);
    if (prev === next?.key) return;
    if (prev !== undefined) {
      const n = this.members.get(prev)! - 1;
      if (n === 0) this.members.delete(prev);
      else this.members.set(prev, n);
    }
    if (next !== undefined) this.members.set(next.key, (this.members.get(next.key) ?? 0) + 1);
  }
}

interface Counted {
  readonly key: string;
  readonly latest: object;
}
