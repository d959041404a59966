/**
 * Flags of the benchmark scripts (`--name value`). A value that is not a number where one is
 * expected stops the bench with a message naming the flag, instead of running with NaN.
 */
export function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
  return v;
}

export function numberFlag(name: string, fallback: number): number {
  const v = flag(name, String(fallback));
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${v}"`);
  return n;
}
