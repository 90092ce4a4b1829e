import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Strict flag parsing for one command: unknown flags and missing values are ConfigErrors
 * (exit 2) naming the flag. `--help` is always accepted.
 */
export function parseFlags<O extends Options>(command: string, argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals,
    });
  } catch (e) {
    throw new ConfigError((e as Error).message, {}, { cause: e });
  }
}

/** Reads a numeric flag value; a non-number is a ConfigError naming the flag. */
export function numberFlag(name: string, value: string | undefined, def: number,
  check: { int?: boolean; min?: number; max?: number } = {}): number {
  if (value === undefined) return def;
  const n = Number(value);
  const bad = !Number.isFinite(n) || (check.int && !Number.isInteger(n))
    || (check.min !== undefined && n < check.min) || (check.max !== undefined && n > check.max);
  if (bad) {
    const what = check.int ? 'an integer' : 'a number';
    const range = check.min !== undefined ? (check.max !== undefined ? ` in [${check.min}, ${check.max}]` : ` ≥ ${check.min}`) : '';
    throw new ConfigError(`must be ${what}${range}, got "${value}"`, { field: `--${name}` });
  }
  return n;
}

/** Logs go to stderr so that `--json` output on stdout stays machine-readable. */
export const log = (line: string): void => { process.stderr.write(line + '\n'); };
