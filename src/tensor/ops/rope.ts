import { assertShape, empty, record, type Tensor } from '../tensor.ts';

/**
 * Rotary position embedding, Hugging Face Llama convention (rotate_half: dim d pairs with
 * d + hs/2). x (B, T, nh·hs); position of token t is `offset + t`.
 * y[d] = x[d]·cos − x[d+h]·sin;  y[d+h] = x[d+h]·cos + x[d]·sin, angle = pos · θ^(−2d/hs).
 */
export function rope(x: Tensor, nh: number, theta = 10000, offset = 0): Tensor {
  const [B, T, C] = x.shape;
  const hs = C / nh, half = hs / 2;
  assertShape(x.ndim === 3 && Number.isInteger(half), () => `rope: x [${x.shape}] with ${nh} heads needs an even head size`);
  const cos = new Float64Array(T * half), sin = new Float64Array(T * half);   // (T, hs/2)
  for (let t = 0; t < T; t++) {
    for (let d = 0; d < half; d++) {
      const a = (offset + t) * Math.pow(theta, (-2 * d) / hs);
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
  }
  return record(out, [x], () => {
    // the transpose of a rotation: rotate by −angle
    const G = out.grad!, D = x.ensureGrad();
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let h = 0; h < nh; h++) {
      const o = (b * T + t) * C + h * hs;
      for (let d = 0; d < half; d++) {
        const c = cos[t * half + d], s = sin[t * half + d];
        const g1 = G[o + d], g2 = G[o + d + half];
        D[o + d] += g1 * c + g2 * s;
        D[o + d + half] += g2 * c - g1 * s;
      }
    }
  });
}
