import { describeField, flagOf, type Field, type Schema } from './schema.ts';

const cell = (t: string) => t.replace(/\|/g, '\\|');

function defaultOf(f: Field): string {
  if (f.defaultText !== undefined) return f.defaultText;
  if (f.default === undefined) return f.required ? '(required)' : '—';
  if (typeof f.default === 'function') return '(derived)';
  return Array.isArray(f.default) ? (f.default.length ? f.default.join(', ') : '[]') : String(f.default);
}

/** docs/config.md: every command's keys, flags, types, bounds, defaults and aliases, from the schemas. */
export function renderConfigReference(schemas: readonly Schema[]): string {
  const out = [
    '# Configuration reference',
    '',
    'Generated from the commands\' schemas (`npm run docs:config`; a test keeps it current). Every setting',
    'is a key in a YAML or JSON file given with `--config FILE` and a flag on the command line (flags',
    'override the file). Keys are snake_case; a dotted key is a section in the file (`pretrain.steps`',
    'is `pretrain:` then `  steps:`). The aliases are the names TRL and PEFT use, accepted in files. A',
    'run\'s `config.resolved.json` holds every value it used, plus its provenance under `fmn`, and',
    '`--config RUN/config.resolved.json` runs it again with the same result.',
  ];
  for (const s of schemas) {
    out.push('', `## fmn ${s.command}`, '', ...s.usage.map((u) => `    fmn ${u}`), '', s.description.replace(/\n/g, ' '), '',
      '| key | flag | accepts | default | aliases | what |', '|---|---|---|---|---|---|');
    for (const f of s.fields) {
      const fl = flagOf(f);
      const file = f.file ?? f.persist !== false;
      out.push(`| ${file ? `\`${f.key}\`` : '(flag only)'} | ${fl ? `\`--${fl}\`` : '(file only)'} | ${cell(describeField(f))} | ${cell(defaultOf(f))} | ${(f.aliases ?? []).map((a) => `\`${a}\``).join(', ')} | ${cell(f.help)}${f.when ? ` (${f.when.key} ${f.when.is.join('|')} only)` : ''} |`);
    }
  }
  return out.join('\n') + '\n';
}
