import { assertShape, empty, gradTarget, poolOf, record, type Tensor } from '../tensor.ts';
import { gemm, linearBackward, linearDims, linearForward } from './matmul.ts';

/**
 * Linear layer plus a low-rank update, fused (LoRA's forward):
 *   y (N, out) = x W + b + s · (xd Aᵀ) Bᵀ
 * with W (in, out), b (out) or null, A (r, in), B (out, r); xd is x or dropout(x).
 * Backward, with u = s · xd Aᵀ (N, r) and du = s · dy B (N, r):
 *   dx += dy Wᵀ     dW += xᵀ dy     db += Σ dy
 *   dB += dyᵀ u     dA += duᵀ xd    dxd += du A
 * A frozen W gets no dW GEMM (the LoRA saving). The u Bᵀ and du A terms ride the base layer's
 * GEMMs (Backend.matmulPlus: the same bits as a second GEMM, without its pass over y or dx).
 */
export function linearLowRank(x: Tensor, w: Tensor, bias: Tensor | null, A: Tensor, B: Tensor, s: number, xd: Tensor = x): Tensor {
  const { N, inF, outF } = linearDims(x, w, bias, 'linearLowRank');
  const r = A.shape[0];
  assertShape(A.shape[1] === inF && B.shape[0] === outF && B.shape[1] === r && xd.size === x.size,
    () => `linearLowRank: x [${x.shape}], W [${w.shape}], A [${A.shape}], B [${B.shape}]`);
  const be = x.backend, pool = poolOf(be), f64 = x.dtype === 'f64';
  const y = empty(be, [...x.shape.slice(0, -1), outF], x.dtype);     // (..., out)
  const u = pool.take(N * r, f64);                                                // (N, r)
  gemm(be, 'nt', u, xd.data, A.data, N, r, inF, false);                          // u = xd Aᵀ
  be.scaleInPlace(u, N * r, s);                                                  // u = s · xd Aᵀ (each product rounded, as u[i] *= s)
  linearForward(y.data, x, w, bias, N, { A2: u, B2: B.data, K2: r, transB2: true });   // y = x W (+ b), then += u Bᵀ in the same pass
  const inputs = [x, w, ...(bias ? [bias] : []), A, B, ...(xd !== x ? [xd] : [])];
  const out = record(y, inputs, () => {
    const dy = y.grad!;
    const du = pool.take(N * r, f64);                                                              // (N, r)
    gemm(be, 'nn', du, dy, B.data, N, r, outF, false);                                            // du = dy B
    be.scaleInPlace(du, N * r, s);
    // without dropout xd is x: dx (+)= dy Wᵀ, then += du A in the same pass over dx
    const fused = xd === x && x.requiresGrad;
    linearBackward(dy, x, w, bias, N, inF, outF, fused ? { A2: du, B2: A.data, K2: r, transB2: false } : undefined);   // dx, dW, db
    if (B.requiresGrad) gemm(be, 'tn', B.ensureGrad(), dy, u, outF, r, N, true);                  // dB += dyᵀ u
    if (A.requiresGrad) gemm(be, 'tn', A.ensureGrad(), du, xd.data, r, inF, N, true);             // dA += duᵀ xd
    if (xd.requiresGrad && !fused) {
      const g = gradTarget(xd);
      gemm(be, 'nn', g.buf, du, A.data, N, inF, r, true);                                         // dxd += du A
      g.done();
    }
    pool.give(du);
    pool.give(u);
  });
  if (out.backwardFn === null) pool.give(u);
  return out;
}
