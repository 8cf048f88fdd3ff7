// Command-line flags of the benchmarks: whole numbers (`--runs 3`, `--runs=3`, `--rows 5_000_000`) and
// whatever else a benchmark takes, handled by its own callback.

export class UsageError extends Error {}

/**
 * Set `flags` from argv: each name in `numeric` takes a whole number of at least 1; any other
 * argument goes to `other` with a way to read its value, which returns false for an unknown one.
 */
export function parseArgs<F>(argv: readonly string[], flags: F, numeric: Readonly<Record<string, keyof F>>, usage: string, other: (name: string, value: () => string) => boolean): F {
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i] ?? '';
    if (name in numeric) {
      const text = value();
      const n = Number(text.replace(/[_,]/g, ''));
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} needs a whole number of at least 1 (got ${text})\n${usage}`);
      (flags as Record<keyof F, unknown>)[numeric[name]] = n;
    } else if (!other(name, value)) throw new UsageError(`unknown argument ${argv[i]}\n${usage}`);
  }
  return flags;
}
