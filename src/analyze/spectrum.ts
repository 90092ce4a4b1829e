/**
 * What an update's singular values say: how many directions it uses, and whether it brings new
 * ones into the weight matrix.
 *
 *   erank  effective rank (Roy & Vetterli 2007): exp(H(p)) with pᵢ = σᵢ / Σσ
 *   r90    the fewest singular values holding 90% of Σσ²
 *   stable rank  ‖ΔW‖²_F / σ₁²
 *   intruders (Shuttleworth et al. 2024): among the top-k singular vectors of W₀ + ΔW (input
 *          space, W stored (in, out)), those whose largest |cos| with every singular vector of W₀
 *          is below ε; beside the count for a random ΔW of the same Frobenius norm (the null)
 */
import { Rng } from '../util/rng.ts';
import { svd } from '../util/linalg.ts';

export interface SpectrumStats { erank: number; r90: number; stableRank: number }

/** erank, r90 and stable rank from singular values (any order); all 0 for a zero update. */
export function spectrumStats(s: ArrayLike<number>): SpectrumStats {
  const sv = Array.from(s, Math.abs).sort((a, b) => b - a);
  const sum = sv.reduce((a, b) => a + b, 0), sq = sv.reduce((a, b) => a + b * b, 0);
  if (!(sum > 0)) return { erank: 0, r90: 0, stableRank: 0 };
  let h = 0;
  for (const x of sv) { const p = x / sum; if (p > 0) h -= p * Math.log(p); }
  let acc = 0, r90 = 0;
  while (r90 < sv.length && acc < 0.9 * sq * (1 - 1e-12)) acc += sv[r90++] ** 2;
  return { erank: Math.exp(h), r90, stableRank: sq / sv[0] ** 2 };
}

/** A float32 (in, out) matrix as float64. */
const f64 = (a: ArrayLike<number>) => Float64Array.from(a);

/**
 * Intruder dimensions: of the top `k` left singular vectors (input space) of W₀ + ΔW, how many
 * have |cos| < ε with every left singular vector of W₀. `w0Basis` is W₀'s (rows × rank) U.
 */
export function countIntruders(w0Basis: { u: Float64Array; k: number }, w: Float64Array, rows: number, cols: number, k: number, eps: number): number {
  const t = svd(w, rows, cols);
  const top = Math.min(k, t.k);
  let n = 0;
  for (let j = 0; j < top; j++) {
    let best = 0;
    for (let b = 0; b < w0Basis.k; b++) {
      let dot = 0;
      for (let r = 0; r < rows; r++) dot += t.u[r * t.k + j] * w0Basis.u[r * w0Basis.k + b];
      best = Math.max(best, Math.abs(dot));
    }
    if (best < eps) n++;
  }
  return n;
}

export interface MatrixSpectrum extends SpectrumStats { intruders: number; intrudersNull: number; /** ΔW's singular values, largest first. */ sigma: number[] }

/**
 * The spectrum of one matrix's update ΔW (rows × cols) against its base W₀: erank, r90, stable
 * rank, the intruder count, and the mean count over `nullDraws` random ΔW of the same norm.
 */
export function matrixSpectrum(w0: ArrayLike<number>, dw: ArrayLike<number>, rows: number, cols: number, o: { k: number; eps: number; nullDraws: number; seed: number }): MatrixSpectrum {
  const d = f64(dw);
  const sigma = Array.from(svd(d, rows, cols).s, Math.abs).sort((a, b) => b - a);
  const stats = spectrumStats(sigma);
  const base = f64(w0);
  const b = svd(base, rows, cols);
  const sum = (x: Float64Array) => { const out = new Float64Array(base.length); for (let i = 0; i < out.length; i++) out[i] = base[i] + x[i]; return out; };
  const intruders = countIntruders(b, sum(d), rows, cols, o.k, o.eps);
  let fro = 0;
  for (const x of d) fro += x * x;
  fro = Math.sqrt(fro);
  let nullSum = 0;
  const rng = new Rng(o.seed);
  for (let draw = 0; draw < o.nullDraws; draw++) {
    const r = new Float64Array(d.length);
    let rs = 0;
    for (let i = 0; i < r.length; i++) { r[i] = rng.normal(); rs += r[i] * r[i]; }
    const c = rs > 0 ? fro / Math.sqrt(rs) : 0;
    for (let i = 0; i < r.length; i++) r[i] *= c;
    nullSum += countIntruders(b, sum(r), rows, cols, o.k, o.eps);
  }
  return { ...stats, intruders, intrudersNull: o.nullDraws > 0 ? nullSum / o.nullDraws : NaN, sigma };
}

/** ΔW cut to its best rank-r approximation (Eckart–Young): U_r S_r V_rᵀ. */
export function truncateRank(dw: ArrayLike<number>, rows: number, cols: number, r: number): Float32Array {
  const t = svd(f64(dw), rows, cols);
  const out = new Float32Array(rows * cols);
  const rr = Math.min(r, t.k);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let x = 0;
      for (let q = 0; q < rr; q++) x += t.u[i * t.k + q] * t.s[q] * t.v[j * t.k + q];
      out[i * cols + j] = x;
    }
  }
  return out;
}
