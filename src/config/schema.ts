/**
 * One schema per command: every setting is a field with its type, default, bounds and one line
 * of help. Flags (`--grad-accum`), config-file keys (`grad_accum`, nested sections for dotted
 * keys), `--help`, error messages and `config.resolved.json` are all derived from it, and a value
 * is checked by the same function whether it came from a flag or from a file.
 *
 *   const v = resolveValues(FINETUNE_SCHEMA, { flags, file });   // validated, defaults applied
 *   const cfg = toTyped<FinetuneConfig>(FINETUNE_SCHEMA, v);     // the recipe's typed config
 */
import { ConfigError } from '../errors.ts';

export type FieldType = 'number' | 'int' | 'string' | 'bool' | 'list' | 'numbers' | 'enum';
export type Value = number | string | boolean | string[] | number[];
export type Values = Record<string, Value | undefined>;

export interface Field {
  /** Config key, snake_case; a dotted key is a nested section in a file (`pretrain.steps`). */
  key: string;
  type: FieldType;
  /** One line of help. */
  help: string;
  /** Where the value sits in the recipe's typed config (dotted camelCase); default camelCase(key); null = not part of it. */
  path?: string | null;
  /** The default: a value, or a function of the values resolved so far (fields earlier in the list). */
  default?: Value | ((v: Values) => Value | undefined);
  /** How the default reads in `--help` when it is a function. */
  defaultText?: string;
  required?: boolean;
  /** Bounds: min/max inclusive, gt/lt exclusive. */
  min?: number; max?: number; gt?: number; lt?: number;
  choices?: readonly string[];
  /** Other names accepted in a config file (TRL / PEFT spellings: learning_rate, r, lora_alpha, …). */
  aliases?: readonly string[];
  /** The flag without its dashes (default: the key with `_` and `.` → `-`); false = file only. */
  flag?: string | false;
  /** Placeholder in `--help` (FILE, N, X). */
  metavar?: string;
  /** Saved in config.resolved.json (default true); false for how a command is invoked (--json, --resume). */
  persist?: boolean;
  /** Accepted in a config file (default: same as persist). */
  file?: boolean;
  /** The field applies only when another field has one of these values. */
  when?: { key: string; is: readonly Value[] };
  /** Heading in `--help`. */
  section?: string;
}

export interface Schema {
  /** The command as typed (`finetune`, `tokenizer train`). */
  command: string;
  /** Usage lines, without the leading "usage: ". */
  usage: string[];
  /** A paragraph on what the command does. */
  description: string;
  fields: readonly Field[];
  /** Positional arguments (name for help and errors); none when absent. */
  positionals?: { name: string; help: string; min?: number };
  /** Cross-field rules; throw a ConfigError through `at(key)` to name where the value came from. */
  check?: (v: Values, at: (key: string) => Where) => void;
}

/** Where a value came from: a flag as typed, a file and line with the key as written, or the default. */
export type Where = { flag: string } | { file: string; line: number; key: string } | { default: string };

export const flagOf = (f: Field): string | null => (f.flag === false ? null : f.flag ?? f.key.replace(/[._]/g, '-'));
export const pathOf = (f: Field): string | null =>
  f.path === null ? null : f.path ?? f.key.split('.').map((p) => p.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())).join('.');
const persists = (f: Field) => f.persist !== false;
const inFile = (f: Field) => f.file ?? persists(f);

/** A ConfigError located at `w` (the flag, or file:line and key). */
export function errorAt(w: Where, message: string, cause?: unknown): ConfigError {
  if ('flag' in w) return new ConfigError(message, { field: w.flag }, cause ? { cause } : undefined);
  if ('file' in w) return new ConfigError(message, { file: w.file, line: w.line, field: w.key }, cause ? { cause } : undefined);
  return new ConfigError(message, { field: w.default }, cause ? { cause } : undefined);
}

const show = (x: unknown): string => {
  if (typeof x === 'string') return JSON.stringify(x.length > 80 ? `${x.slice(0, 77)}...` : x);
  if (typeof x === 'number' || typeof x === 'boolean' || x === null) return String(x);
  if (Array.isArray(x)) return `a list of ${x.length}`;
  return typeof x === 'object' ? 'an object' : typeof x;
};

/** What a field accepts, in words: "an integer ≥ 1", "a number in [0, 1)", "a list of numbers, each > 0". */
export function describeField(f: Field): string {
  if (f.type === 'bool') return 'true or false';
  if (f.type === 'enum') return `one of ${f.choices!.join(', ')}`;
  if (f.type === 'string') return 'a string';
  if (f.type === 'list') return 'a list of strings';
  const lo = f.min !== undefined ? `[${f.min}` : f.gt !== undefined ? `(${f.gt}` : null;
  const hi = f.max !== undefined ? `${f.max}]` : f.lt !== undefined ? `${f.lt})` : null;
  const bounds = lo !== null && hi !== null ? `in ${lo}, ${hi}`
    : lo !== null ? `${f.min !== undefined ? '≥' : '>'} ${f.min ?? f.gt}`
      : hi !== null ? `${f.max !== undefined ? '≤' : '<'} ${f.max ?? f.lt}` : '';
  if (f.type === 'numbers') return `a list of numbers${bounds ? `, each ${bounds}` : ''}`;
  return `${f.type === 'int' ? 'an integer' : 'a number'}${bounds ? ` ${bounds}` : ''}`;
}

/**
 * Turns a raw value (a flag's string, or whatever a YAML/JSON file holds) into the field's type
 * and checks it. The same checks and the same message for both sources.
 */
export function coerce(f: Field, raw: unknown, w: Where): Value {
  const bad = (got: unknown = raw) => errorAt(w, `must be ${describeField(f)}, got ${show(got)}`);
  switch (f.type) {
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === 'false') return raw === 'true';
      throw bad();
    case 'string':
      if (typeof raw !== 'string' || raw === '') throw bad();
      return raw;
    case 'enum':
      if (typeof raw !== 'string' || !f.choices!.includes(raw)) throw bad();
      return raw;
    case 'list': {
      const parts = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw : null;
      if (parts === null || parts.some((p) => typeof p !== 'string')) throw bad();
      const out = (parts as string[]).flatMap((p) => p.split(',')).map((s) => s.trim()).filter((s) => s !== '');
      if (out.length === 0 && !(Array.isArray(raw) && raw.length === 0)) throw bad(raw);
      if (f.choices) for (const x of out) if (!f.choices.includes(x)) throw errorAt(w, `must be a list of ${f.choices.join(', ')}, got ${show(x)}`);
      return out;
    }
    case 'numbers': {
      const parts = typeof raw === 'number' ? [raw] : typeof raw === 'string' ? raw.split(',') : Array.isArray(raw) ? raw : null;
      if (parts === null || parts.length === 0) throw bad();
      return parts.map((x) => {
        const n = typeof x === 'number' ? x : typeof x === 'string' && x.trim() !== '' ? Number(x) : NaN;
        if (!Number.isFinite(n) || (f.min !== undefined && n < f.min) || (f.max !== undefined && n > f.max)
          || (f.gt !== undefined && !(n > f.gt)) || (f.lt !== undefined && !(n < f.lt))) throw errorAt(w, `must be ${describeField(f)}, got ${show(typeof x === 'string' && Number.isFinite(n) ? n : x)}`);
        return n;
      });
    }
    default: {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      const shown = typeof raw === 'string' && Number.isFinite(n) ? n : raw;
      if (!Number.isFinite(n) || (f.type === 'int' && !Number.isInteger(n))) throw bad(shown);
      if ((f.min !== undefined && n < f.min) || (f.max !== undefined && n > f.max)
        || (f.gt !== undefined && !(n > f.gt)) || (f.lt !== undefined && !(n < f.lt))) throw bad(shown);
      return n;
    }
  }
}

/** A raw value and where it was written. */
export interface Given { raw: unknown; where: Where }

/**
 * Merges the given values (flags over file), checks each one, applies the defaults in field
 * order, and runs the schema's cross-field check. Returns the values and where each came from.
 */
export function resolveValues(schema: Schema, given: { flags?: Map<string, Given>; file?: Map<string, Given> }): { values: Values; where: Map<string, Where> } {
  const values: Values = {};
  const where = new Map<string, Where>();
  for (const f of schema.fields) {
    const g = given.flags?.get(f.key) ?? given.file?.get(f.key);
    if (g === undefined) continue;
    values[f.key] = coerce(f, g.raw, g.where);
    where.set(f.key, g.where);
  }
  for (const f of schema.fields) {
    const applies = f.when === undefined || f.when.is.includes(values[f.when.key] as Value);
    if (!applies) {
      if (where.has(f.key)) {
        const w = where.get(f.key)!;
        throw errorAt(w, `applies only when ${flagOrKey(schema, f.when!.key, where)} is ${f.when!.is.join(' or ')}`);
      }
      continue;
    }
    if (values[f.key] === undefined && f.default !== undefined) {
      const d = typeof f.default === 'function' ? f.default(values) : f.default;
      if (d !== undefined) { values[f.key] = d; where.set(f.key, { default: flagOf(f) ? `--${flagOf(f)}` : f.key }); }
    }
    if (values[f.key] === undefined && f.required) {
      const fl = flagOf(f);
      throw new ConfigError(`missing required option${fl ? ` --${fl}${f.metavar ? ` ${f.metavar}` : ''}` : ''}${inFile(f) && schemaHasConfig(schema) ? ` (or "${f.key}" in --config)` : ''}`,
        { field: fl ? `--${fl}` : f.key });
    }
  }
  const at = (key: string): Where => where.get(key) ?? { default: key };
  schema.check?.(values, at);
  return { values, where };
}

const schemaHasConfig = (s: Schema) => s.fields.some((f) => f.key === 'config');
function flagOrKey(schema: Schema, key: string, where: Map<string, Where>): string {
  const w = where.get(key);
  if (w && 'file' in w) return w.key;
  const f = schema.fields.find((x) => x.key === key);
  return f && flagOf(f) ? `--${flagOf(f)}` : key;
}

/** The recipe's typed config: each value set at its field's path. */
export function toTyped<T>(schema: Schema, values: Values): T {
  const out: Record<string, unknown> = {};
  for (const f of schema.fields) {
    const p = pathOf(f);
    const v = values[f.key];
    if (p === null || v === undefined) continue;
    const parts = p.split('.');
    let o = out;
    for (const k of parts.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
    o[parts.at(-1)!] = Array.isArray(v) ? [...v] : v;
  }
  return out as T;
}

/** The inverse of toTyped: a typed config's values by key (what config.resolved.json holds). */
export function fromTyped(schema: Schema, cfg: object): Values {
  const values: Values = {};
  for (const f of schema.fields) {
    const p = pathOf(f);
    if (p === null) continue;
    let o: unknown = cfg;
    for (const k of p.split('.')) o = o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined;
    if (o !== undefined) values[f.key] = Array.isArray(o) ? [...o] : o as Value;
  }
  return values;
}

/**
 * config.resolved.json: every persisted value, nested by section, plus the provenance under
 * "fmn" (ignored when the file is read back with --config, which reproduces the run).
 */
export function resolvedConfig(schema: Schema, values: Values, provenance: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of schema.fields) {
    const v = values[f.key];
    if (!persists(f) || v === undefined) continue;
    const parts = f.key.split('.');
    let o = out;
    for (const k of parts.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
    o[parts.at(-1)!] = v;
  }
  return { ...out, fmn: { command: schema.command, ...provenance } };
}

/** Every key a config file accepts, canonical and aliases, mapped to its field. */
export function fileKeys(schema: Schema): Map<string, Field> {
  const m = new Map<string, Field>();
  for (const f of schema.fields) {
    if (!inFile(f)) continue;
    m.set(f.key, f);
    for (const a of f.aliases ?? []) m.set(a, f);
  }
  return m;
}

/** "did you mean …" for a mistyped key or flag: same letters ignoring case and separators, or within edit distance 2. */
export function suggest(word: string, candidates: Iterable<string>): string | null {
  const norm = (s: string) => s.toLowerCase().replace(/[-_.]/g, '');
  let best: string | null = null, bestD = 3;
  for (const c of candidates) {
    if (norm(c) === norm(word)) return c;
    const d = editDistance(norm(c), norm(word));
    if (d < bestD) { best = c; bestD = d; }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return dp[b.length];
}

/**
 * Checks a typed config (a library caller's) against the schema, as if it had come from a file:
 * the same bounds, the same cross-field rules. Returns its values by key.
 */
export function validateTyped(schema: Schema, cfg: object): Values {
  const file = new Map<string, Given>();
  for (const [k, v] of Object.entries(fromTyped(schema, cfg))) file.set(k, { raw: v, where: { default: k } });
  return resolveValues(schema, { file }).values;
}

/** The defaults of a schema as a typed config (what a library caller spreads and overrides). */
export function defaultsOf<T>(schema: Schema, given: Values = {}): T {
  const values: Values = { ...given };
  for (const f of schema.fields) {
    if (f.when !== undefined && !f.when.is.includes(values[f.when.key] as Value)) continue;
    if (values[f.key] === undefined && f.default !== undefined) values[f.key] = typeof f.default === 'function' ? f.default(values) : f.default;
  }
  return toTyped<T>(schema, values);
}

/**
 * Another schema's fields under a section: key `corpus.tokens`, flag `--corpus-tokens`, typed at
 * `corpus.<path>`; `defaults` replaces some defaults (a key's default, or a function of the values).
 */
export function sectioned(fields: readonly Field[], section: string, defaults: Record<string, Field['default']> = {}, help = section): Field[] {
  return fields.map((f) => {
    const p = pathOf(f);
    const out: Field = { ...f, key: `${section}.${f.key}`, path: p === null ? null : `${section}.${p}`, section: help, aliases: undefined };
    if (f.flag !== false) out.flag = `${section}-${flagOf(f)}`;
    if (f.when) out.when = { key: `${section}.${f.when.key}`, is: f.when.is };
    if (f.key in defaults) { out.default = defaults[f.key]; out.defaultText = undefined; }
    return out;
  });
}
