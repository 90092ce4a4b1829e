import type { Buf } from '../backend/backend.ts';
import { empty, record, type Tensor } from '../tensor/tensor.ts';

/**
 * The anchor regularizer ‖ΔW‖²_F for one adapter, ΔW = s·B A (the α/r scaling IS inside the
 * norm: this measures the actual weight change), in O(r²·(in+out)) without forming B A:
 *
 *   ‖s B A‖²_F = s² · tr((BᵀB)(AAᵀ))
 *   d/dA = 2 s² (BᵀB) A        d/dB = 2 s² B (AAᵀ)
 *
 * A (r, in), B (out, r). Returns a [1] tensor.
 */
export function loraDeltaSqNorm(A: Tensor, B: Tensor, s: number): Tensor {
  const [r, inF] = A.shape;
  const outF = B.shape[0];
  const a = A.data, b = B.data;
  const AAt = new Float64Array(r * r), BtB = new Float64Array(r * r);      // (r, r) each
  for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) {
    let sa = 0, sb = 0;
    for (let k = 0; k < inF; k++) sa += a[i * inF + k] * a[j * inF + k];
    for (let o = 0; o < outF; o++) sb += b[o * r + i] * b[o * r + j];
    AAt[i * r + j] = sa;
    BtB[i * r + j] = sb;
  }
  let tr = 0;
  for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) tr += BtB[i * r + j] * AAt[j * r + i];
  const s2 = s * s;
  const out = empty(A.backend, [1], A.dtype);
  out.data[0] = s2 * tr;
  return record(out, [A, B], () => {
    const g = 2 * s2 * out.grad![0];
    if (A.requiresGrad) {
      const dA = A.ensureGrad();
      for (let i = 0; i < r; i++) for (let k = 0; k < inF; k++) {
        let v = 0;
        for (let j = 0; j < r; j++) v += BtB[i * r + j] * a[j * inF + k];
        dA[i * inF + k] += g * v;
      }
    }
    if (B.requiresGrad) {
      const dB = B.ensureGrad();
      for (let o = 0; o < outF; o++) for (let j = 0; j < r; j++) {
        let v = 0;
        for (let i = 0; i < r; i++) v += b[o * r + i] * AAt[i * r + j];
        dB[o * r + j] += g * v;
      }
    }
  });
}

/**
 * L2-SP for full fine-tuning: ‖θ − θ₀‖² for one tensor against its starting value.
 * d/dθ = 2 (θ − θ₀). Returns a [1] tensor.
 */
export function sqDistance(theta: Tensor, theta0: Buf): Tensor {
  const x = theta.data;
  let s = 0;
  for (let i = 0; i < x.length; i++) { const d = x[i] - theta0[i]; s += d * d; }
  const out = empty(theta.backend, [1], theta.dtype);
  out.data[0] = s;
  return record(out, [theta], () => {
    const g = 2 * out.grad![0], d = theta.ensureGrad();
    for (let i = 0; i < x.length; i++) d[i] += g * (x[i] - theta0[i]);
  });
}
