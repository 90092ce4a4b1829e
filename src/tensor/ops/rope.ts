import { assertShape, empty, record, type Tensor } from '../tensor.ts';

/**
 * Rotary position embedding with its frequencies given: what Llama-3 `rope_scaling` (rescaled
 * frequencies) and GPT-NeoX `rotary_pct` (only the first `dim` features of each head rotate)
 * need beyond the plain rope below. `invFreq[d]` is the angle per position of pair d (d < dim/2);
 * pairs are rotate_half's (d with d + dim/2).
 */
export interface Rotary {
  /** Features of each head that rotate (even, ≤ head size); the rest pass through. */
  readonly dim: number;
  /** (dim/2) angles per position. */
  readonly invFreq: Float64Array;
}

/** The plain frequencies θ^(−2d/dim), d < dim/2 (HF's default rope). */
export function ropeFrequencies(theta: number, dim: number): Float64Array {
  const f = new Float64Array(dim / 2);
  for (let d = 0; d < dim / 2; d++) f[d] = Math.pow(theta, (-2 * d) / dim);
  return f;
}

/** x (B, T, nh·hs) → the same shape; the position of token t is `offset + t`. */
export function rotary(x: Tensor, nh: number, r: Rotary, offset = 0): Tensor {
  const [B, T, C] = x.shape;
  const hs = C / nh, half = r.dim / 2;
  assertShape(x.ndim === 3 && Number.isInteger(hs) && Number.isInteger(half) && r.dim <= hs && r.invFreq.length === half,
    () => `rotary: x [${x.shape}] with ${nh} heads, ${r.dim} rotary dims and ${r.invFreq.length} frequencies`);
  const cos = new Float64Array(T * half), sin = new Float64Array(T * half);   // (T, dim/2)
  for (let t = 0; t < T; t++) {
    for (let d = 0; d < half; d++) {
      const a = (offset + t) * r.invFreq[d];
      cos[t * half + d] = Math.cos(a);
      sin[t * half + d] = Math.sin(a);
    }
  }
  const out = empty(x.backend, x.shape.slice(), x.dtype);   // (B, T, nh·hs)
  const X = x.data, Y = out.data;
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let h = 0; h < nh; h++) {
    const o = (b * T + t) * C + h * hs;
    for (let d = 0; d < half; d++) {
      const c = cos[t * half + d], s = sin[t * half + d];
      const x1 = X[o + d], x2 = X[o + d + half];
      Y[o + d] = x1 * c - x2 * s;
      Y[o + d + half] = x2 * c + x1 * s;
    }
    for (let d = r.dim; d < hs; d++) Y[o + d] = X[o + d];
  }
  return record(out, [x], () => {
    // the transpose of a rotation: rotate by −angle; the pass-through features copy the gradient
    const G = out.grad!, D = x.ensureGrad();
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let h = 0; h < nh; h++) {
      const o = (b * T + t) * C + h * hs;
      for (let d = 0; d < half; d++) {
        const c = cos[t * half + d], s = sin[t * half + d];
        const g1 = G[o + d], g2 = G[o + d + half];
        D[o + d] += g1 * c + g2 * s;
        D[o + d + half] += g2 * c - g1 * s;
      }
      for (let d = r.dim; d < hs; d++) D[o + d] += G[o + d];
    }
  });
}

/**
 * Rotary position embedding, Hugging Face Llama convention (rotate_half: dim d pairs with
 * d + hs/2), over the whole head. x (B, T, nh·hs); position of token t is `offset + t`.
 * y[d] = x[d]·cos − x[d+h]·sin;  y[d+h] = x[d+h]·cos + x[d]·sin, angle = pos · θ^(−2d/hs).
 */
export function rope(x: Tensor, nh: number, theta = 10000, offset = 0): Tensor {
  const hs = x.shape[2] / nh;
  assertShape(x.ndim === 3 && Number.isInteger(hs / 2), () => `rope: x [${x.shape}] with ${nh} heads needs an even head size`);
  return rotary(x, nh, { dim: hs, invFreq: ropeFrequencies(theta, hs) }, offset);
}
