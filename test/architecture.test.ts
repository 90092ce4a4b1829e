/**
 * The import rule of ARCHITECTURE.md, checked on every source file (tests excluded): a module
 * imports only from its own folder or from a strictly lower layer, and no import chain (type-only
 * imports included) comes back to where it started.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '..', 'src');

/** Layers, lowest first; a folder (or root file) may import only from lower rows and itself. */
export const LAYERS: readonly (readonly string[])[] = [
  ['errors.ts'],
  ['util'],
  ['config'],
  ['backend'],
  ['tensor'],
  ['nn', 'optim', 'tokenizer'],
  ['model'],
  ['lora', 'data'],
  ['corpus', 'eval'],
  ['train'],
  ['analyze'],
  ['report'],
  ['sweep'],
  ['lab'],
  ['cli'],
  ['index.ts'],
];

const rankOf = new Map(LAYERS.flatMap((row, i) => row.map((u) => [u, i] as const)));

/** The unit of a file: its top-level folder under src/, or the file name for root files. */
const unitOf = (file: string): string => relative(SRC, file).split('/')[0];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return /\.ts$/.test(name) && !/\.test\.ts$|\.testutil\.ts$/.test(name) ? [p] : [];
  });
}

/** Relative imports of a file: static, type-only, re-exports and dynamic import(). */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  const re = /(?:^|[\s;])(?:import|export)\s[^'"]*?\sfrom\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|^import\s+['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (const m of text.matchAll(re)) out.push(resolve(dirname(file), m[1] ?? m[2] ?? m[3]));
  return out;
}

describe('architecture: the import rule (ARCHITECTURE.md)', () => {
  const files = sourceFiles(SRC);
  const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => t.startsWith(SRC))]));

  it('every folder under src/ has a layer', () => {
    const units = [...new Set(files.map(unitOf))];
    expect(units.filter((u) => !rankOf.has(u))).toEqual([]);
  });

  it('ARCHITECTURE.md describes the same layers, in the same order', () => {
    const doc = readFileSync(resolve(SRC, '..', 'ARCHITECTURE.md'), 'utf8');
    const rows = [...doc.matchAll(/^\|\s*(\d+)\s*\|([^|]+)\|/gm)].map((m) => ({ rank: Number(m[1]), units: [...m[2].matchAll(/`([^`]+?)\/?`/g)].map((u) => u[1]) }));
    const docRank = new Map(rows.flatMap((r) => r.units.map((u) => [u, r.rank] as const)));
    for (const u of rankOf.keys()) expect(docRank.has(u), `${u} in ARCHITECTURE.md`).toBe(true);
    // the order agrees: a unit lower in the test's table is lower (or level) in the document
    for (const [a, ra] of rankOf) for (const [b, rb] of rankOf) if (ra < rb) expect(docRank.get(a)!, `${a} below ${b}`).toBeLessThanOrEqual(docRank.get(b)!);
    for (const u of new Set(files.map(unitOf))) expect(docRank.has(u), `src/${u} is described`).toBe(true);
  });

  it('no module imports from a higher layer or from another folder of its own layer', () => {
    const bad: string[] = [];
    for (const [f, targets] of graph) {
      const from = unitOf(f);
      for (const t of targets) {
        const to = unitOf(t);
        if (to === from) continue;
        if (!(rankOf.get(to)! < rankOf.get(from)!)) bad.push(`${relative(SRC, f)} → ${relative(SRC, t)}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('no import circles between files (type-only imports included)', () => {
    const cycles: string[] = [];
    const state = new Map<string, 1 | 2>();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 1);
      stack.push(f);
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === 1) cycles.push([...stack.slice(stack.indexOf(t)), t].map((x) => relative(SRC, x)).join(' → '));
        else if (!state.has(t) && graph.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, 2);
    };
    for (const f of graph.keys()) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('the checker sees a constructed upward import and a constructed circle', () => {
    // the regex reads every import form the rule relies on
    const text = "import { a } from './x.ts';\nimport type { B } from '../y.ts';\nexport { c } from './z.ts';\nconst m = await import('../w.ts');\nimport './side.ts';";
    const re = /(?:^|[\s;])(?:import|export)\s[^'"]*?\sfrom\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|^import\s+['"](\.{1,2}\/[^'"]+)['"]/gm;
    expect([...text.matchAll(re)].map((m) => m[1] ?? m[2] ?? m[3])).toEqual(['./x.ts', '../y.ts', './z.ts', '../w.ts', './side.ts']);
    expect(rankOf.get('tensor')! < rankOf.get('model')!).toBe(true);
  });
});
