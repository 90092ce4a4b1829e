/**
 * Command-line flags derived from a schema: `--grad-accum 2`, `--grad-accum=2`, `--lr -1`
 * (a negative number is a value, not a flag), `--gate` / `--no-gate` for booleans, list flags
 * that repeat and take several values (`--task a.jsonl b.jsonl --task c.jsonl`), `-h`/`--help`.
 * Errors name the flag as the user typed it.
 */
import { ConfigError } from '../errors.ts';
import { describeField, flagOf, suggest, type Field, type Given, type Schema } from './schema.ts';

export interface ParsedArgv { flags: Map<string, Given>; positionals: string[]; help: boolean }

const looksLikeNumber = (s: string) => /^-(\d|\.\d|Infinity|NaN)/.test(s);

export function parseArgv(schema: Schema, argv: readonly string[]): ParsedArgv {
  const byFlag = new Map<string, Field>();
  for (const f of schema.fields) { const fl = flagOf(f); if (fl !== null) byFlag.set(fl, f); }
  const flags = new Map<string, Given>();
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i];
    if (tok === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (tok === '-h' || tok === '--help') { help = true; continue; }
    if (!tok.startsWith('-') || tok === '-' || looksLikeNumber(tok)) { positionals.push(tok); continue; }
    const eq = tok.indexOf('=');
    const typed = eq > 0 ? tok.slice(0, eq) : tok;
    let name = typed.replace(/^--?/, '');
    let negated = false;
    if (!byFlag.has(name) && name.startsWith('no-') && byFlag.get(name.slice(3))?.type === 'bool') { name = name.slice(3); negated = true; }
    const f = byFlag.get(name);
    if (f === undefined) {
      const hint = suggest(name, byFlag.keys());
      throw new ConfigError(`unknown option${hint ? ` (did you mean --${hint}?)` : ''}; see fmn ${schema.command} --help`, { field: typed });
    }
    const where = { flag: typed };
    if (f.type === 'bool') {
      if (eq > 0) throw new ConfigError(`takes no value (use ${typed} or --no-${name})`, { field: typed });
      setOnce(flags, f, { raw: !negated, where });
      continue;
    }
    if (negated) throw new ConfigError('unknown option', { field: typed });
    const values: string[] = [];
    if (eq > 0) values.push(tok.slice(eq + 1));
    else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('-') && !looksLikeNumber(next) && next !== '-')) {
        throw new ConfigError(`needs a value: ${f.metavar ?? describeField(f)}`, { field: typed });
      }
      values.push(next);
      i++;
      // a list flag takes every value up to the next flag: --text a.txt b.txt
      if (f.type === 'list') while (i + 1 < argv.length && !argv[i + 1].startsWith('-')) values.push(argv[++i]);
    }
    if (f.type === 'list') {
      const prev = flags.get(f.key);
      flags.set(f.key, { raw: [...((prev?.raw as string[] | undefined) ?? []), ...values], where });
    } else setOnce(flags, f, { raw: values[0], where });
  }
  if (!help) {
    const p = schema.positionals;
    if (p === undefined && positionals.length > 0) {
      throw new ConfigError(`unexpected argument ${JSON.stringify(positionals[0])}; see fmn ${schema.command} --help`, { field: positionals[0] });
    }
    if (p !== undefined && positionals.length < (p.min ?? 0)) throw new ConfigError(`missing ${p.name}; see fmn ${schema.command} --help`, { field: p.name });
  }
  return { flags, positionals, help };
}

function setOnce(flags: Map<string, Given>, f: Field, g: Given): void {
  if (flags.has(f.key)) throw new ConfigError(`given twice (${(flags.get(f.key)!.where as { flag: string }).flag} and ${(g.where as { flag: string }).flag})`, { field: (g.where as { flag: string }).flag });
  flags.set(f.key, g);
}

const fmtDefault = (f: Field): string | null => {
  if (f.defaultText !== undefined) return f.defaultText;
  if (f.default === undefined || typeof f.default === 'function') return null;
  if (f.type === 'bool') return f.default ? 'on' : null;
  return Array.isArray(f.default) ? f.default.join(',') : String(f.default);
};

/** `--help`: usage, what the command does, then the options by section, each with its default. */
export function renderHelp(schema: Schema): string {
  const rows: { section: string; left: string; right: string }[] = [];
  for (const f of schema.fields) {
    const fl = flagOf(f);
    if (fl === null) continue;
    const meta = f.type === 'bool' ? '' : ` ${f.metavar ?? (f.type === 'int' ? 'N' : f.type === 'number' ? 'X' : f.type === 'enum' ? f.choices!.join('|') : f.type === 'list' ? 'LIST' : f.type === 'numbers' ? 'X,…' : 'S')}`;
    const d = fmtDefault(f);
    const notes = [d !== null ? `default ${d}` : null, f.required ? 'required' : null,
      f.when ? `${f.when.key} ${f.when.is.join('|')} only` : null].filter((x) => x !== null);
    rows.push({ section: f.section ?? 'options', left: `--${fl}${meta}`, right: f.help + (notes.length ? ` (${notes.join('; ')})` : '') });
  }
  rows.push({ section: 'options', left: '-h, --help', right: 'this help' });
  const w = Math.min(26, Math.max(...rows.map((r) => r.left.length)) + 2);
  const sections = [...new Set(rows.map((r) => r.section))];
  const out = [`usage: ${schema.usage.map((u, i) => (i === 0 ? `fmn ${u}` : `       fmn ${u}`)).join('\n')}`, '', schema.description];
  if (schema.positionals) out.push('', `${schema.positionals.name}: ${schema.positionals.help}`);
  for (const s of sections) {
    out.push('', `${s}:`);
    for (const r of rows.filter((x) => x.section === s)) {
      const lines = wrap(r.right, Math.max(40, 100 - w - 2));
      const first = r.left.length + 2 > w ? [`  ${r.left}`, `  ${' '.repeat(w)}${lines[0]}`] : [`  ${r.left.padEnd(w)}${lines[0]}`];
      out.push(...first, ...lines.slice(1).map((l) => `  ${' '.repeat(w)}${l}`));
    }
  }
  return out.join('\n');
}

/** Greedy word wrap at `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(' ')) {
    if (cur !== '' && cur.length + 1 + word.length > width) { lines.push(cur); cur = word; } else cur = cur === '' ? word : `${cur} ${word}`;
  }
  return [...lines, cur];
}
