import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { parseArgv, renderHelp } from './argv.ts';
import { readConfigFile } from './file.ts';
import { resolveArgv } from './resolve.ts';
import { coerce, describeField, flagOf, fromTyped, resolveValues, toTyped, type Field, type Schema } from './schema.ts';
import { ALL_SCHEMAS } from '../cli/schemas.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmn-config-'));
const reasonOf = (f: () => unknown): string => {
  try { f(); } catch (e) { if (e instanceof ConfigError) return e.reason; throw e; }
  throw new Error('no error');
};

/** A value each field must refuse, or null when every value of its type is fine. */
function invalid(f: Field): unknown {
  if (f.type === 'int') return f.min !== undefined ? f.min - 1 : f.max !== undefined ? f.max + 1 : 1.5;
  if (f.type === 'number') return f.min !== undefined ? f.min - 0.5 : f.gt !== undefined ? f.gt : f.max !== undefined ? f.max + 1 : f.lt !== undefined ? f.lt : null;
  if (f.type === 'enum') return 'nonsense';
  if (f.type === 'numbers') return f.gt !== undefined ? [f.gt] : f.min !== undefined ? [f.min - 1] : null;
  return null;
}

describe('one schema per command', () => {
  it('every flag in every --help is a field, and every field with a flag is in --help', () => {
    for (const s of ALL_SCHEMAS) {
      const help = renderHelp(s);
      const shown = new Set([...help.matchAll(/^ {2}(--[a-z0-9-]+)/gm)].map((m) => m[1]));
      const fields = new Set(s.fields.map(flagOf).filter((x): x is string => x !== null).map((x) => `--${x}`));
      expect([...shown].sort(), s.command).toEqual([...fields].sort());
      // and the parser accepts exactly those (plus --help)
      for (const fl of fields) {
        const f = s.fields.find((x) => `--${flagOf(x)}` === fl)!;
        const argv = f.type === 'bool' ? [fl] : [fl, f.type === 'enum' ? f.choices![0] : f.type === 'numbers' || f.type === 'int' || f.type === 'number' ? '1' : 'x'];
        expect(() => parseArgv(s, [...argv, ...(s.positionals ? ['p'] : [])]), `${s.command} ${fl}`).not.toThrow();
      }
      expect(() => parseArgv(s, ['--not-a-field', '1'])).toThrow(ConfigError);
    }
  });

  it('config keys: snake_case, unique, aliases unique, each flag the key with - for _ and .', () => {
    for (const s of ALL_SCHEMAS) {
      const keys = s.fields.map((f) => f.key);
      expect(new Set(keys).size, s.command).toBe(keys.length);
      for (const f of s.fields) {
        expect(f.key, s.command).toMatch(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/);
        expect(f.help.length, `${s.command} ${f.key}`).toBeGreaterThan(3);
      }
      const aliases = s.fields.flatMap((f) => f.aliases ?? []);
      expect(new Set([...keys, ...aliases]).size, s.command).toBe(keys.length + aliases.length);
    }
  });

  it('the same invalid value is refused with the same reason from a flag and from a file, for every bounded field', () => {
    let checked = 0;
    for (const s of ALL_SCHEMAS) {
      for (const f of s.fields) {
        const bad = invalid(f);
        const flag = flagOf(f);
        if (bad === null || flag === null || (f.persist === false && f.file !== true)) continue;
        let fromFlag: string;
        try { fromFlag = reasonOf(() => coerce(f, Array.isArray(bad) ? bad.join(',') : String(bad), { flag: `--${flag}` })); } catch { throw new Error(`${s.command} ${f.key}: ${JSON.stringify(bad)} accepted`); }
        const yaml = join(dir, `${s.command.replace(' ', '-')}-${f.key}.yaml`);
        writeFileSync(yaml, `${f.key.split('.').map((k, i, a) => `${'  '.repeat(i)}${k}:${i === a.length - 1 ? ` ${JSON.stringify(bad)}` : ''}`).join('\n')}\n`);
        let fromFile: string;
        try { fromFile = reasonOf(() => { const g = readConfigFile(yaml, s).get(f.key)!; coerce(f, g.raw, g.where); }); } catch { throw new Error(`${s.command} ${f.key}: ${JSON.stringify(bad)} accepted from a file`); }
        expect(fromFile, `${s.command} ${f.key}`).toBe(fromFlag);
        expect(fromFlag).toContain(describeField(f));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(60);
    // the case that disagreed before: --dropout 0.995 was refused by the flag and run from a file;
    // now both accept it, and both refuse 1
    const ft = ALL_SCHEMAS.find((s) => s.command === 'finetune')!;
    const args = ['--base', 'b', '--data', 'd', '--out', 'o'];
    writeFileSync(join(dir, 'd.yaml'), 'base: b\ndata: d\nout: o\ndropout: 0.995\n');
    expect(resolveArgv(ft, [...args, '--dropout', '0.995']).values.dropout).toBe(0.995);
    expect(resolveArgv(ft, ['--config', join(dir, 'd.yaml')]).values.dropout).toBe(0.995);
    writeFileSync(join(dir, 'd.yaml'), 'base: b\ndata: d\nout: o\ndropout: 1\n');
    const a = reasonOf(() => resolveArgv(ft, [...args, '--dropout', '1']));
    expect(a).toBe('must be a number in [0, 1), got 1');
    expect(reasonOf(() => resolveArgv(ft, ['--config', join(dir, 'd.yaml')]))).toBe(a);
  });

  it('errors name the file, line and key as written, suggest the spelling, and refuse a key given twice', () => {
    const ft = ALL_SCHEMAS.find((s) => s.command === 'finetune')!;
    writeFileSync(join(dir, 'e.yaml'), 'base: b\n\ngradAccum: 2\n');
    expect(() => resolveArgv(ft, ['--config', join(dir, 'e.yaml')])).toThrow(/e\.yaml:3, field "gradAccum": unknown key \(did you mean "grad_accum"\?\)/);
    writeFileSync(join(dir, 'f.yaml'), 'base: b\nr: 4\nrank: 8\n');
    expect(() => resolveArgv(ft, ['--config', join(dir, 'f.yaml')])).toThrow(/f\.yaml:3, field "rank": "rank" is given twice \(as "r" on line 2 and as "rank"\)/);
    writeFileSync(join(dir, 'g.yaml'), 'base: [b\n');
    expect(() => resolveArgv(ft, ['--config', join(dir, 'g.yaml')])).toThrow(/g\.yaml:\d+: not valid YAML/);
    writeFileSync(join(dir, 'h.yaml'), 'method: full\nrank: 4\nbase: b\ndata: d\nout: o\n');
    expect(() => resolveArgv(ft, ['--config', join(dir, 'h.yaml')])).toThrow(/h\.yaml:2, field "rank": applies only when method is lora/);
    expect(() => resolveArgv(ft, ['--lr', '-1', '--base', 'b', '--data', 'd', '--out', 'o'])).toThrow(/field "--lr": must be a number > 0, got -1/);
    expect(() => resolveArgv(ft, ['--lr', '1', '--lr', '2'])).toThrow(/given twice/);
    expect(() => resolveArgv(ft, ['--stepz', '1'])).toThrow(/--stepz.*did you mean --steps\?/);
    expect(() => resolveArgv(ft, [])).toThrow(/missing required option --base MODEL/);
    writeFileSync(join(dir, 'p.json'), JSON.stringify({ fmn: { command: 'pretrain' }, base: 'b' }));
    expect(() => resolveArgv(ft, ['--config', join(dir, 'p.json')])).toThrow(/written by "fmn pretrain", not "fmn finetune"/);
  });

  it('list flags repeat and accumulate, the same in every command', () => {
    const s: Schema = { command: 't', usage: [], description: '', fields: [{ key: 'task', type: 'list', default: [], help: 'files' }] };
    expect(parseArgv(s, ['--task', 'a', 'b', '--task', 'c']).flags.get('task')!.raw).toEqual(['a', 'b', 'c']);
    expect(resolveValues(s, { flags: parseArgv(s, ['--task', 'a,b', '--task', 'c']).flags }).values.task).toEqual(['a', 'b', 'c']);
  });

  it('toTyped and fromTyped are inverse over every schema\'s defaults', () => {
    for (const s of ALL_SCHEMAS) {
      const v = resolveValues({ ...s, check: undefined, fields: s.fields.map((f) => ({ ...f, required: false })) }, {}).values;
      const typed = toTyped<object>(s, v);
      const back = fromTyped(s, typed);
      for (const [k, x] of Object.entries(back)) expect(x, `${s.command} ${k}`).toEqual(v[k]);
    }
  });
});

describe('docs/config.md and configs/', () => {
  it('docs/config.md is the reference the schemas generate (npm run docs:config)', async () => {
    const { renderConfigReference } = await import('./reference.ts');
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'config.md'), 'utf8')).toBe(renderConfigReference(ALL_SCHEMAS));
  });

  it('every example in configs/ is headed by the command that runs it and resolves against that command\'s schema', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const root = join(import.meta.dirname, '..', '..');
    const files = readdirSync(join(root, 'configs'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const first = readFileSync(join(root, 'configs', f), 'utf8').split('\n')[0];
      const m = /^# fmn (\S+) --config (configs\/\S+)/.exec(first);
      expect(m, `${f}: ${first}`).not.toBeNull();
      expect(m![2]).toBe(`configs/${f}`);
      const s = ALL_SCHEMAS.find((x) => x.command === m![1])!;
      if (s.command === 'sweep') {                              // a sweep's config is finetune keys plus grid / cells
        const { readSweepPlan } = await import('../sweep/config.ts');
        expect(readSweepPlan(join(root, 'configs', f), new Map()).cells.length, f).toBeGreaterThan(1);
      } else expect(() => resolveArgv(s, ['--config', join(root, 'configs', f)]), f).not.toThrow();
    }
  });
});
