import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../src/backend/backend.ts';
import { fromArray, noGrad, Tensor, type DType } from '../src/tensor/tensor.ts';

/** mulberry32: a tiny seeded PRNG for tests (library code uses src/data/rng.ts). */
export function testRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A tensor of uniform values in [lo, hi). */
export function randTensor(be: Backend, shape: number[], rnd: () => number, dtype: DType = 'f64', lo = -1, hi = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Array<number>(n);
  for (let i = 0; i < n; i++) v[i] = lo + (hi - lo) * rnd();
  return fromArray(be, v, shape, dtype);
}

/**
 * Float64 finite-difference gradient check of f at `inputs` (all f64, requiresGrad set by the
 * caller). The output is reduced with a random projection R so every output element counts:
 * L = Σ f(x) ⊙ R. Returns the worst relative error over all checked inputs:
 * |analytic − numeric| / max(1, |analytic|, |numeric|) elementwise … max.
 */
export function gradCheck(f: (xs: Tensor[]) => Tensor, inputs: Tensor[], rnd: () => number, h = 1e-6): number {
  const out = f(inputs);
  const R = new Float64Array(out.size);
  for (let i = 0; i < R.length; i++) R[i] = rnd() * 2 - 1;
  for (const x of inputs) x.grad = null;
  out.backward(R);
  const L = (): number => noGrad(() => {
    const o = f(inputs);
    let s = 0;
    for (let i = 0; i < o.size; i++) s += o.data[i] * R[i];
    return s;
  });
  let worst = 0;
  for (const x of inputs) {
    if (!x.requiresGrad) continue;
    const g = x.grad ?? new Float64Array(x.size);
    for (let i = 0; i < x.size; i++) {
      const old = x.data[i];
      x.data[i] = old + h; const lp = L();
      x.data[i] = old - h; const lm = L();
      x.data[i] = old;
      const num = (lp - lm) / (2 * h);
      const err = Math.abs(g[i] - num) / Math.max(1, Math.abs(g[i]), Math.abs(num));
      if (err > worst) worst = err;
    }
  }
  return worst;
}

/** max |a − b| / max |b|: relative error of a whole array against a reference. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}

/** ../shared/data/external relative to the repo root, or null when absent. */
export function sharedDir(...parts: string[]): string | null {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const p = join(root, '..', 'shared', ...parts);
  return existsSync(p) ? p : null;
}

/** test/fixtures/tokenizers (made by scripts/tokenizer-fixtures.ts). */
export const TOKENIZER_FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'tokenizers');

/** The tokenizer fixtures, parsed: the Llama-2-shaped tokenizer.json and its tokenizer_config.json, the legacy Metaspace one, and the 2,000 lines of mixed.txt. */
export function tokenizerFixtures(): { llama2: any; llama2Config: any; legacy: any; mixed: string[] } {
  const json = (p: string) => JSON.parse(readFileSync(join(TOKENIZER_FIXTURES, p), 'utf8'));
  return {
    llama2: json('llama2/tokenizer.json'), llama2Config: json('llama2/tokenizer_config.json'), legacy: json('metaspace-legacy/tokenizer.json'),
    mixed: readFileSync(join(TOKENIZER_FIXTURES, 'mixed.txt'), 'utf8').trimEnd().split('\n'),
  };
}
