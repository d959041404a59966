/**
 * Parsing of Kubernetes resource quantities, enough to compare requests with limits
 * and heaps with memory limits when a construct checks its invariants.
 */
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL: Record<string, number> = { m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** The value of a quantity in base units (cores, bytes). Throws on syntax Kubernetes would reject. */
export function parseQuantity(q: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|m|k|M|G|T)?$/.exec(q);
  if (!m) throw new Error(`"${q}" is not a resource quantity (expected e.g. 250m, 1, 512Mi, 2Gi)`);
  const unit = m[2] ?? '';
  const factor = BINARY[unit] ?? DECIMAL[unit];
  if (factor === undefined) throw new Error(`"${q}" has an unknown unit "${unit}"`);
  return Number(m[1]) * factor;
}
