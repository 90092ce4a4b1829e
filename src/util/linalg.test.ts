import { describe, expect, it } from 'vitest';
import { DataError, ShapeError } from '../errors.ts';
import { svd, type Svd } from './linalg.ts';
import { Rng } from './rng.ts';

// ---- helpers (independent of linalg.ts) ----

function gaussian(rng: Rng, m: number, n: number): Float64Array {
  const a = new Float64Array(m * n);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  return a;
}

/**
 * A random n × n orthogonal matrix (row-major) as a product of n Householder reflections with
 * Gaussian vectors; returns its first `cols` columns (n × cols, row-major).
 */
function randomOrthogonal(rng: Rng, n: number, cols: number): Float64Array {
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  const w = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let ww = 0;
    for (let i = 0; i < n; i++) { w[i] = rng.normal(); ww += w[i] * w[i]; }
    // q ← (I − 2 w wᵀ / wᵀw) q
    for (let j = 0; j < n; j++) {
      let t = 0;
      for (let i = 0; i < n; i++) t += w[i] * q[i * n + j];
      t = (2 * t) / ww;
      for (let i = 0; i < n; i++) q[i * n + j] -= t * w[i];
    }
  }
  const out = new Float64Array(n * cols);
  for (let i = 0; i < n; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = q[i * n + j];
  return out;
}

/** Q1 diag(σ) Q2ᵀ (m × n, row-major) with random orthonormal Q1 (m × r), Q2 (n × r), r = σ.length. */
function withSpectrum(rng: Rng, m: number, n: number, sigma: number[]): Float64Array {
  const r = sigma.length;
  const q1 = randomOrthogonal(rng, m, r);
  const q2 = randomOrthogonal(rng, n, r);
  const a = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let x = 0;
      for (let q = 0; q < r; q++) x += q1[i * r + q] * sigma[q] * q2[j * r + q];
      a[i * n + j] = x;
    }
  }
  return a;
}

const logspace = (hi: number, lo: number, count: number) =>
  Array.from({ length: count }, (_, i) => 10 ** (hi + ((lo - hi) * i) / (count - 1)));

/** ‖A − U S Vᵀ‖_F / ‖A‖_F (plain ‖·‖_F for a zero A), computed on A / max|A| so any scale works. */
function residual(a: ArrayLike<number>, m: number, n: number, d: Svd): number {
  let c = 0;
  for (let i = 0; i < a.length; i++) c = Math.max(c, Math.abs(a[i]));
  if (c === 0) c = 1;
  let ss = 0, sa = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let x = 0;
      for (let q = 0; q < d.k; q++) x += d.u[i * d.k + q] * (d.s[q] / c) * d.v[j * d.k + q];
      ss += (a[i * n + j] / c - x) ** 2;
      sa += (a[i * n + j] / c) ** 2;
    }
  }
  return Math.sqrt(ss) / (sa > 0 ? Math.sqrt(sa) : 1);
}

/** max |XᵀX − I| over the first `cols` columns of the rows × k row-major X. */
function orthogonality(x: Float64Array, rows: number, k: number, cols = k): number {
  let worst = 0;
  for (let p = 0; p < cols; p++) {
    for (let q = p; q < cols; q++) {
      let t = 0;
      for (let i = 0; i < rows; i++) t += x[i * k + p] * x[i * k + q];
      worst = Math.max(worst, Math.abs(t - (p === q ? 1 : 0)));
    }
  }
  return worst;
}

function expectValidSvd(d: Svd, m: number, n: number): void {
  const k = Math.min(m, n);
  expect(d.k).toBe(k);
  expect(d.s.length).toBe(k);
  expect(d.u.length).toBe(m * k);
  expect(d.v.length).toBe(n * k);
  for (let i = 0; i < k; i++) {
    expect(d.s[i]).toBeGreaterThanOrEqual(0);
    if (i > 0) expect(d.s[i]).toBeLessThanOrEqual(d.s[i - 1]);
  }
  expect(d.u.every(Number.isFinite) && d.v.every(Number.isFinite)).toBe(true);
}

// Shapes that hit every path: direct bidiagonalization (M < 1.5 N), QR first (M ≥ 1.5 N), each
// on A (m ≥ n) and on Aᵀ (m < n), plus 1 × 1, 2 × 2 and vectors.
const SHAPES: [number, number][] = [[7, 5], [5, 7], [37, 23], [23, 37], [64, 200], [200, 64], [40, 40], [31, 30], [2, 2], [1, 1], [9, 1], [1, 9], [3, 2]];

describe('svd', () => {
  it('reconstructs random Gaussian matrices with orthonormal U and V', () => {
    const rng = new Rng(1);
    let worstRes = 0, worstOrth = 0;
    for (const [m, n] of SHAPES) {
      const a = gaussian(rng, m, n);
      const d = svd(a, m, n);
      expectValidSvd(d, m, n);
      worstRes = Math.max(worstRes, residual(a, m, n, d));
      worstOrth = Math.max(worstOrth, orthogonality(d.u, m, d.k), orthogonality(d.v, n, d.k));
    }
    expect(worstRes).toBeLessThan(1e-13);
    expect(worstOrth).toBeLessThan(1e-13);
  });

  it('ill-conditioned (σ from 1 to 1e-12): reconstruction, orthogonality and σ to ~ε·σ₁', () => {
    const rng = new Rng(2);
    for (const [m, n] of [[60, 40], [40, 60], [45, 40], [40, 45], [150, 30]] as [number, number][]) {
      const k = Math.min(m, n);
      const sigma = logspace(0, -12, k);
      const a = withSpectrum(rng, m, n, sigma);
      const d = svd(a, m, n);
      expectValidSvd(d, m, n);
      expect(residual(a, m, n, d)).toBeLessThan(1e-13);
      // All k columns stay orthonormal (no AᵀA, no division by small σ).
      expect(orthogonality(d.u, m, k)).toBeLessThan(1e-13);
      expect(orthogonality(d.v, n, k)).toBeLessThan(1e-13);
      for (let i = 0; i < k; i++) {
        expect(Math.abs(d.s[i] - sigma[i])).toBeLessThan(1e-14);       // absolute, σ₁ = 1
        if (sigma[i] >= 1e-4) expect(Math.abs(d.s[i] - sigma[i]) / sigma[i]).toBeLessThan(1e-10);
      }
    }
  });

  it('recovers a known, well-separated spectrum and exact rank', () => {
    const rng = new Rng(3);
    const sigma = [10, 5, 2, 1, 0.5, 0.1, 0.01];
    for (const [m, n] of [[30, 20], [20, 30], [100, 12]] as [number, number][]) {
      const a = withSpectrum(rng, m, n, sigma);
      const d = svd(a, m, n);
      expectValidSvd(d, m, n);
      for (let i = 0; i < sigma.length; i++) expect(Math.abs(d.s[i] - sigma[i]) / sigma[i]).toBeLessThan(1e-10);
      for (let i = sigma.length; i < d.k; i++) expect(d.s[i]).toBeLessThan(1e-13);
      // The leading singular vectors span the planted ones: |uᵢᵀ A vᵢ| = σᵢ.
      for (let i = 0; i < sigma.length; i++) {
        let t = 0;
        for (let r = 0; r < m; r++) for (let c = 0; c < n; c++) t += d.u[r * d.k + i] * a[r * n + c] * d.v[c * d.k + i];
        expect(Math.abs(t - sigma[i]) / sigma[i]).toBeLessThan(1e-10);
      }
    }
    // Rank r = product of Gaussian m × r and r × n factors: exactly r values above 1e-10 σ₁.
    for (const [m, n, r] of [[50, 30, 5], [30, 50, 5], [100, 20, 3], [25, 25, 24], [40, 60, 1]] as [number, number, number][]) {
      const x = gaussian(rng, m, r), y = gaussian(rng, r, n);
      const a = new Float64Array(m * n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
        let t = 0;
        for (let q = 0; q < r; q++) t += x[i * r + q] * y[q * n + j];
        a[i * n + j] = t;
      }
      const d = svd(a, m, n);
      expectValidSvd(d, m, n);
      expect(d.s.filter((v) => v > 1e-10 * d.s[0]).length).toBe(r);
      expect(residual(a, m, n, d)).toBeLessThan(1e-13);
      expect(orthogonality(d.u, m, d.k)).toBeLessThan(1e-13);
      expect(orthogonality(d.v, n, d.k)).toBeLessThan(1e-13);
    }
  });

  it('repeated singular values, zero and duplicated columns', () => {
    const rng = new Rng(4);
    const sigma = [3, 3, 3, 1, 1, 1e-8, 1e-8];
    const a = withSpectrum(rng, 20, 15, sigma);
    const d = svd(a, 20, 15);
    for (let i = 0; i < sigma.length; i++) expect(Math.abs(d.s[i] - sigma[i])).toBeLessThan(1e-14 * 3);
    expect(residual(a, 20, 15, d)).toBeLessThan(1e-13);
    expect(orthogonality(d.u, 20, d.k)).toBeLessThan(1e-13);
    expect(orthogonality(d.v, 15, d.k)).toBeLessThan(1e-13);

    // Columns 0 and 3 zero, column 5 = column 1, row 2 zero: exact zeros in the QR / bidiagonal.
    for (const [m, n] of [[9, 8], [20, 8]]) {
      const b = gaussian(rng, m, n);
      for (let i = 0; i < m; i++) { b[i * n] = 0; b[i * n + 3] = 0; b[i * n + 5] = b[i * n + 1]; }
      for (let j = 0; j < n; j++) b[2 * n + j] = 0;
      for (const [x, mm, nn] of [[b, m, n], [transpose(b, m, n), n, m]] as [Float64Array, number, number][]) {
        const e = svd(x, mm, nn);
        expectValidSvd(e, mm, nn);
        expect(e.s.filter((v) => v > 1e-12 * e.s[0]).length).toBe(5);
        expect(residual(x, mm, nn, e)).toBeLessThan(1e-13);
        expect(orthogonality(e.u, mm, e.k)).toBeLessThan(1e-13);
        expect(orthogonality(e.v, nn, e.k)).toBeLessThan(1e-13);
      }
    }
  });

  it('bidiagonal input with exact zeros on the diagonal (deflation and splitting paths)', () => {
    const bidiagonal = (d: number[], e: number[], m: number, n: number) => {
      const a = new Float64Array(m * n);
      d.forEach((x, i) => { a[i * n + i] = x; });
      e.forEach((x, i) => { a[i * n + i + 1] = x; });
      return a;
    };
    const cases: [Float64Array, number, number, number][] = [
      [bidiagonal([1, 2, 3, 0], [1, 1, 1], 4, 4), 4, 4, 3],
      [bidiagonal([1, 0, 3, 2], [1, 1, 1], 4, 4), 4, 4, 3],
      [bidiagonal([1, 2, 0, 3, 2, 0, 5], [1, 1, 1, 2, 1, 1], 7, 7), 7, 7, 6],
      [bidiagonal([1, 0, 3, 2, 0], [1, 1, 1, 4], 6, 5), 6, 5, 4],
    ];
    for (const [a, m, n, rank] of cases) {
      for (const [x, mm, nn] of [[a, m, n], [transpose(a, m, n), n, m]] as [Float64Array, number, number][]) {
        const d = svd(x, mm, nn);
        expectValidSvd(d, mm, nn);
        expect(d.s.filter((v) => v > 1e-12).length).toBe(rank);
        expect(residual(x, mm, nn, d)).toBeLessThan(1e-14);
        expect(orthogonality(d.u, mm, d.k)).toBeLessThan(1e-14);
        expect(orthogonality(d.v, nn, d.k)).toBeLessThan(1e-14);
      }
    }
  });

  it('zero matrices give zeros (no NaN) and still orthonormal U, V', () => {
    for (const [m, n] of [[6, 4], [4, 6], [10, 3], [1, 5], [5, 1], [1, 1]] as [number, number][]) {
      const d = svd(new Float64Array(m * n), m, n);
      expectValidSvd(d, m, n);
      expect([...d.s]).toEqual(new Array(d.k).fill(0));
      expect(orthogonality(d.u, m, d.k)).toBeLessThan(1e-15);
      expect(orthogonality(d.v, n, d.k)).toBeLessThan(1e-15);
    }
    const e = svd([], 0, 5);
    expect(e.k).toBe(0);
    expect(e.s.length + e.u.length + e.v.length).toBe(0);
  });

  it('a diagonal matrix gives |diag| sorted descending', () => {
    const diag = [3, -7, 0, 2.5, -1e-3, 1e-300];
    const want = [7, 3, 2.5, 1e-3, 1e-300, 0];
    for (const [m, n] of [[6, 6], [6, 9], [11, 6]] as [number, number][]) {
      const a = new Float64Array(m * n);
      diag.forEach((x, i) => { a[i * n + i] = x; });
      const d = svd(a, m, n);
      expectValidSvd(d, m, n);
      for (let i = 0; i < 6; i++) expect(Math.abs(d.s[i] - want[i])).toBeLessThanOrEqual(1e-15 * want[i]);
      expect(residual(a, m, n, d)).toBeLessThan(1e-15);
    }
  });

  it('1 × n and m × 1: σ = ‖a‖, the other factor is ±a/‖a‖', () => {
    const x = [3, -4, 12, 0, 1e-3];
    const norm = Math.hypot(...x);
    for (const [m, n] of [[1, 5], [5, 1]] as [number, number][]) {
      const d = svd(x, m, n);
      expectValidSvd(d, m, n);
      expect(d.s[0]).toBeCloseTo(norm, 13);
      const [one, vec] = m === 1 ? [d.u, d.v] : [d.v, d.u];
      expect(Math.abs(one[0])).toBeCloseTo(1, 15);
      for (let i = 0; i < 5; i++) expect(one[0] * vec[i]).toBeCloseTo(x[i] / norm, 15);
    }
    const neg = svd([-2.5], 1, 1);
    expect([neg.s[0], neg.u[0] * neg.v[0]]).toEqual([2.5, -1]);
  });

  it('works at extreme scales without overflow or underflow', () => {
    const rng = new Rng(5);
    const base = gaussian(rng, 12, 9);
    for (const c of [1e-300, 1e-160, 1e150, 1e300]) {
      const a = base.map((v) => v * c);
      const d = svd(a, 12, 9);
      expectValidSvd(d, 12, 9);
      expect(d.s[0]).toBeGreaterThan(0);
      expect(residual(a, 12, 9, d)).toBeLessThan(1e-13);
      expect(orthogonality(d.u, 12, 9)).toBeLessThan(1e-13);
    }
  });

  it('is deterministic and leaves its input alone; accepts plain arrays and Float32Array', () => {
    const rng = new Rng(6);
    const a = gaussian(rng, 70, 33);
    const copy = Float64Array.from(a);
    const d1 = svd(a, 70, 33), d2 = svd(a, 70, 33);
    expect([...a]).toEqual([...copy]);
    expect([...d2.s]).toEqual([...d1.s]);
    expect([...d2.u]).toEqual([...d1.u]);
    expect([...d2.v]).toEqual([...d1.v]);
    expect([...svd(Array.from(a), 70, 33).s]).toEqual([...d1.s]);
    const f = Float32Array.from(a);
    expect([...svd(f, 70, 33).s]).toEqual([...svd(Float64Array.from(f), 70, 33).s]);
  });

  it('rejects bad shapes and non-finite entries', () => {
    expect(() => svd([1, 2, 3], 2, 2)).toThrow(ShapeError);
    expect(() => svd([1, 2], -1, -2)).toThrow(ShapeError);
    expect(() => svd([1, 2], 1.5, 2)).toThrow(ShapeError);
    expect(() => svd([1, NaN, 3, 4], 2, 2)).toThrow(DataError);
    expect(() => svd([1, 2, Infinity, 4], 1, 4)).toThrow(DataError);
  });
});

function transpose(a: Float64Array, m: number, n: number): Float64Array {
  const t = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j];
  return t;
}
