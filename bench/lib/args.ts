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

/** A flag whose value is one of `choices` (the first is the default when the flag is absent). */
export function choiceFlag<C extends string>(name: string, choices: readonly [C, ...C[]]): C {
  const v = flag(name, choices[0]);
  if (!(choices as readonly string[]).includes(v)) throw new Error(`--${name} must be ${choices.join(' or ')}, not ${JSON.stringify(v)}`);
  return v as C;
}

export function numberFlag(name: string, fallback: number): number {
  const v = flag(name, String(fallback));
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${v}"`);
  return n;
}
