import { describe, expect, it } from 'vitest';
import { createJsBackend } from '../backend/js/index.ts';
import { fromArray, parameter } from '../tensor/tensor.ts';
import { AdamW, clipGradNorm } from './adamw.ts';
import { lrAt } from './schedule.ts';

describe('lrAt (warmup + cosine), exact values', () => {
  const s = { maxLr: 1e-3, minLr: 1e-4, warmup: 10, total: 110 };
  it('step 0 already moves', () => expect(lrAt(0, s)).toBe(1e-4));
  it('mid-warmup', () => expect(lrAt(4, s)).toBeCloseTo(5e-4, 15));
  it('end of warmup reaches maxLr', () => expect(lrAt(9, s)).toBeCloseTo(1e-3, 15));
  it('first cosine step is maxLr', () => expect(lrAt(10, s)).toBe(1e-3));
  it('cosine midpoint is (max + min) / 2', () => expect(lrAt(60, s)).toBeCloseTo(5.5e-4, 15));
  it('last step is just above minLr', () => {
    const last = lrAt(109, s);
    expect(last).toBeCloseTo(1e-4 + 9e-4 * 0.5 * (1 + Math.cos(Math.PI * 99 / 100)), 15);
    expect(last).toBeGreaterThan(1e-4);
  });
  it('past the end is minLr', () => { expect(lrAt(110, s)).toBe(1e-4); expect(lrAt(1000, s)).toBe(1e-4); });
  it('no warmup starts at maxLr', () => expect(lrAt(0, { ...s, warmup: 0 })).toBe(1e-3));
});

describe('AdamW', () => {
  const be = createJsBackend();
  it('one step by hand: bias correction at t = 1, decay only on ≥2-D weights', () => {
    const w = parameter(be, Float32Array.from([1, -2, 3, 0.5]), [2, 2]);
    const b = parameter(be, Float32Array.from([1, -1]), [2]);
    w.grad = Float32Array.from([0.1, -0.2, 0.3, 0]);
    b.grad = Float32Array.from([0.5, 0.5]);
    const opt = new AdamW([['w', w], ['b', b]], { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 });
    opt.update(0.01);
    // t = 1: m̂ = g, v̂ = g², so the step is lr · g / (|g| + eps) ≈ lr · sign(g)
    const expectW = [1, -2, 3, 0.5].map((p, i) => {
      const g = [0.1, -0.2, 0.3, 0][i];
      return p - 0.01 * 0.1 * p - (g === 0 ? 0 : 0.01 * g / (Math.abs(g) + 1e-8));
    });
    for (let i = 0; i < 4; i++) expect(w.data[i]).toBeCloseTo(expectW[i], 6);
    // bias: no decay
    expect(b.data[0]).toBeCloseTo(1 - 0.01, 6);
    expect(b.data[1]).toBeCloseTo(-1 - 0.01, 6);
    expect(opt.step).toBe(1);
  });
  it('clipGradNorm scales to the bound and reports the norm before', () => {
    const p = fromArray(be, [0, 0], [2]);
    p.grad = Float32Array.from([3, 4]);
    expect(clipGradNorm([p], 1)).toBeCloseTo(5, 6);
    expect(Math.hypot(p.grad[0], p.grad[1])).toBeCloseTo(1, 5);
  });
});
