import { describe, expect, it } from 'vitest';
import { createJsBackend } from '../../backend/js/index.ts';
import { gradCheck, randTensor, testRng } from '../../../test/util.ts';
import type { Tensor } from '../tensor.ts';
import * as T from '../index.ts';

// Float64 central differences with h = 1e-6 carry ~1e-10 truncation/rounding error on these
// sizes; 1e-6 separates a right gradient from any plausible wrong one by orders of magnitude.
const TOL = 1e-6;
const be = createJsBackend();

function check(name: string, shapes: number[][], f: (xs: Tensor[]) => Tensor, opts: { seed?: number; lo?: number; hi?: number; frozen?: number[] } = {}) {
  it(name, () => {
    const rnd = testRng(opts.seed ?? 1);
    const xs = shapes.map((s, i) => {
      const t = randTensor(be, s, rnd, 'f64', opts.lo ?? -1, opts.hi ?? 1);
      t.requiresGrad = !(opts.frozen ?? []).includes(i);
      return t;
    });
    expect(gradCheck(f, xs, rnd)).toBeLessThan(TOL);
  });
}

describe('finite-difference gradients (float64, js backend)', () => {
  check('matmul nn', [[3, 5], [5, 4]], ([a, b]) => T.matmul(a, b));
  check('matmul nt', [[3, 5], [4, 5]], ([a, b]) => T.matmul(a, b, { transB: true }));
  check('matmul tn', [[5, 3], [5, 4]], ([a, b]) => T.matmul(a, b, { transA: true }));
  check('matmul tt', [[5, 3], [4, 5]], ([a, b]) => T.matmul(a, b, { transA: true, transB: true }));
  check('matmul batched', [[2, 3, 5], [2, 5, 4]], ([a, b]) => T.matmul(a, b));
  check('matmul batched × shared 2-D', [[2, 3, 5], [5, 4]], ([a, b]) => T.matmul(a, b));
  check('linear with bias', [[2, 3, 7], [7, 5], [5]], ([x, w, b]) => T.linear(x, w, b));
  check('linear, frozen weight', [[4, 7], [7, 5]], ([x, w]) => T.linear(x, w, null), { frozen: [1] });
  check('linearLowRank (LoRA forward), bias', [[2, 3, 7], [7, 5], [5], [2, 7], [5, 2]], ([x, w, b, a, bb]) => T.linearLowRank(x, w, b, a, bb, 1.7));
  check('linearLowRank, frozen W and bias', [[4, 7], [7, 5], [5], [3, 7], [5, 3]], ([x, w, b, a, bb]) => T.linearLowRank(x, w, b, a, bb, 0.5), { frozen: [1, 2] });
  check('linearLowRank with a separate dropout input', [[4, 6], [6, 5], [2, 6], [5, 2]], ([x, w, a, bb]) => T.linearLowRank(x, w, null, a, bb, 2, T.scale(x, 0.5)));
  check('add broadcast', [[2, 3, 4], [4]], ([a, b]) => T.add(a, b));
  check('sub broadcast middle', [[2, 3, 4], [3, 1]], ([a, b]) => T.sub(a, b));
  check('mul broadcast both', [[2, 1, 4], [3, 1]], ([a, b]) => T.mul(a, b));
  check('div', [[3, 4], [3, 4]], ([a, b]) => T.div(a, b), { lo: 0.5, hi: 2 });
  check('scale', [[3, 4]], ([a]) => T.scale(a, -2.5));
  check('sum', [[3, 4]], ([a]) => T.sum(a));
  check('mean', [[3, 4]], ([a]) => T.mean(a));
  check('sumLast', [[3, 4]], ([a]) => T.sumLast(a));
  check('reshape', [[3, 4]], ([a]) => T.mul(T.reshape(a, [2, 6]), T.reshape(a, [2, -1])));
  check('transpose', [[2, 3, 4]], ([a]) => T.transpose(a, 0, 2));
  check('slice', [[2, 5, 3]], ([a]) => T.slice(a, 1, 1, 4));
  check('split + concat', [[2, 7]], ([a]) => { const [x, y] = T.split(a, 1, [3, 4]); return T.concat([T.scale(y, 2), x], 1); });
  check('layerNorm (C = 7)', [[3, 7], [7], [7]], ([x, w, b]) => T.layerNorm(x, w, b));
  check('layerNorm, near-constant rows', [[2, 5], [5], [5]], ([x, w, b]) => T.layerNorm(T.add(T.scale(x, 1e-2), w), w, b));
  check('rmsNorm', [[3, 7], [7]], ([x, w]) => T.rmsNorm(x, w));
  check('gelu', [[4, 5]], ([x]) => T.gelu(x), { lo: -4, hi: 4 });
  check('silu', [[4, 5]], ([x]) => T.silu(x), { lo: -4, hi: 4 });
  check('softmax', [[3, 6]], ([x]) => T.softmax(x), { lo: -3, hi: 3 });
  check('attention (B 2, T 4, nh 2)', [[2, 4, 6], [2, 4, 6], [2, 4, 6]], ([q, k, v]) => T.causalSelfAttention(q, k, v, 2));
  check('attention grouped-query (nh 4, nkv 2)', [[1, 3, 8], [1, 3, 4], [1, 3, 4]], ([q, k, v]) => T.causalSelfAttention(q, k, v, 4, 2));
  check('attention packed qkv', [[2, 3, 12]], ([qkv]) => T.causalSelfAttentionPacked(qkv, 2));
  check('attention T = 1', [[1, 1, 12]], ([qkv]) => T.causalSelfAttentionPacked(qkv, 2));
  check('rope', [[2, 3, 8]], ([x]) => T.rope(x, 2, 10000, 3));
  check('dropout', [[4, 5]], ([x]) => { let s = 7; return T.dropout(x, 0.3, { next: () => ((s = (s * 48271) % 2147483647) / 2147483647) }); });
  it('cross-entropy with ignore index', () => {
    const rnd = testRng(3);
    const logits = randTensor(be, [5, 7], rnd, 'f64', -3, 3);
    logits.requiresGrad = true;
    const targets = Int32Array.from([2, -100, 6, 0, -100]);
    expect(gradCheck(([l]) => T.crossEntropy(l, targets), [logits], rnd)).toBeLessThan(TOL);
  });
  it('embedding (scatter-add on repeated ids)', () => {
    const rnd = testRng(4);
    const w = randTensor(be, [5, 3], rnd);
    w.requiresGrad = true;
    const ids = Int32Array.from([1, 4, 1, 0]);
    expect(gradCheck(([x]) => T.embedding(x, ids, [2, 2]), [w], rnd)).toBeLessThan(TOL);
  });
  // the gradient reaching x twice: once written (scatterRows' gather), once added
  check('scatterRows (gathered back into x twice)', [[3, 4]], ([x]) => T.add(T.scatterRows(x, Int32Array.from([0, 2, 5]), 6), T.scatterRows(x, Int32Array.from([1, 2, 3]), 6)));
});

describe('a finished gradient handed over, not copied', () => {
  it('an add passes its gradient buffer to its first operand that has none (itself then reads null), the other copies; a reshape passes it on; the values are the copies\' ', () => {
    const x = T.parameter(be, new Float32Array([1, 2, 3]), [3]);
    const a = T.scale(x, 2), b = T.scale(x, 3);
    const y = T.add(a, b), r = T.reshape(y, [1, 3]);
    const s = T.sum(r);
    s.backward();
    const handed = a.grad!;
    expect(r.grad).toBe(null);                 // r's gradient went on to y, y's to a
    expect(y.grad).toBe(null);
    expect(Array.from(handed)).toEqual([1, 1, 1]);
    expect(Array.from(b.grad!)).toEqual([1, 1, 1]);
    expect(b.grad).not.toBe(handed);           // the other operand copies
    expect(Array.from(x.grad!)).toEqual([5, 5, 5]);
    // a parameter takes it as well, and keeps it past the graph's release (which parks only
    // the op outputs' buffers: z's now reads null); its second step's gradient is right
    const w = T.parameter(be, new Float32Array([1, 2, 3]), [3]);
    for (let step = 0; step < 2; step++) {
      const w4 = T.scale(w, 4), z = T.add(w, w4);
      const sz = T.sum(z);
      sz.backward();
      expect(z.grad).toBe(null);
      expect(Array.from(w.grad!)).toEqual([5, 5, 5]);
      expect(w.grad).not.toBe(w4.grad);
      sz.releaseGraph();
      for (let i = 0; i < 4; i++) T.poolOf(be).take(3, false).fill(-1);   // what the pool hands out next is scribbled on
      expect(Array.from(w.grad!)).toEqual([5, 5, 5]);
      w.zeroGrad();
    }
  });
});

describe('scatterRows', () => {
  it('puts row j at rows[j], zeros elsewhere (whatever the pool left); rows that do not ascend or fall outside are errors', () => {
    const pool = T.poolOf(be);
    const dirty = pool.take(12, false);
    dirty.fill(7);
    pool.give(dirty);   // a dirty buffer of the output's size, next in line
    const x = T.fromArray(be, [1, 2, 3, -0, 5, 6], [2, 3]);
    const out = T.scatterRows(x, Int32Array.from([1, 3]), 4);
    expect(out.shape).toEqual([4, 3]);
    expect(Array.from(out.data)).toEqual([0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 5, 6]);
    expect(() => T.scatterRows(x, Int32Array.from([3, 1]), 4)).toThrow(/rows must ascend \(3 then 1\)/);
    expect(() => T.scatterRows(x, Int32Array.from([1, 4]), 4)).toThrow(/scatterRows: rows 1 … 4 fall outside \[0, 4\)/);
    expect(() => T.scatterRows(x, Int32Array.from([-1, 2]), 4)).toThrow(/scatterRows: rows -1 … 2 fall outside \[0, 4\)/);
    expect(() => T.scatterRows(x, Int32Array.from([1]), 4)).toThrow(/scatterRows: x \[2,3\] for 1 rows/);
  });
});

describe('forward values', () => {
  it('cross-entropy of uniform logits is ln V; ignored rows do not count', () => {
    const logits = T.zeros(be, [3, 11]);
    const loss = T.crossEntropy(logits, Int32Array.from([3, -100, 10]));
    expect(loss.item()).toBeCloseTo(Math.log(11), 6);
  });
  it('cross-entropy stays finite for large logits (±80)', () => {
    const logits = T.fromArray(be, [80, -80, 0, -80, 80, 0], [2, 3]);
    const loss = T.crossEntropy(logits, Int32Array.from([0, 0]));
    expect(loss.item()).toBeCloseTo(80, 5);  // row 2: −log softmax = 160 + log(1+e^−80…) → mean (0 + 160)/2
  });
  it('noGrad records no graph', () => {
    const a = T.fromArray(be, [1, 2], [2]);
    a.requiresGrad = true;
    const y = T.noGrad(() => T.scale(a, 2));
    expect(y.requiresGrad).toBe(false);
    expect(y.backwardFn).toBe(null);
  });
  it('releaseGraph returns buffers to the pool and keeps leaves', () => {
    const rnd = testRng(5);
    const w = randTensor(be, [4, 4], rnd, 'f32');
    w.requiresGrad = true;
    const x = randTensor(be, [3, 4], rnd, 'f32');
    const pool = T.poolOf(be);
    pool.clear();
    const y = T.sum(T.gelu(T.matmul(x, w)));
    y.backward();
    y.releaseGraph();
    expect(pool.parkedBytes).toBeGreaterThan(0);
    expect(w.grad).not.toBe(null);
    expect(w.data.length).toBe(16);
  });
});
