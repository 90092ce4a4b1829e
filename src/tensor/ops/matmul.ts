import type { Backend, Buf } from '../../backend/backend.ts';
import { assertShape, empty, record, type Tensor } from '../tensor.ts';

/**
 * A GEMM's orientation, named: `nn` C = A B, `nt` C = A Bᵀ, `tn` C = Aᵀ B, `tt` C = Aᵀ Bᵀ. With
 * weights stored (in, out), training runs the forward as `nn` (y = x W), dX as `nt` (dx = dy Wᵀ)
 * and dW as `tn` (dW = xᵀ dy).
 */
export type Orientation = 'nn' | 'nt' | 'tn' | 'tt';

/**
 * C (M, N) = op(A) · op(B), or C += … with `accumulate`, or bias (N) + … ; op(A) is (M, K), op(B)
 * is (K, N). With `colSumsB` (N): also colSumsB += op(B)'s column sums (Backend.matmul).
 */
export function gemm(be: Backend, o: Orientation, C: Buf, A: Buf, B: Buf, M: number, N: number, K: number, accumulate: boolean, bias?: Buf, colSumsB?: Buf): void {
  be.matmul(C, A, B, M, N, K, o[0] === 't', o[1] === 't', accumulate, bias, colSumsB);
}

const orient = (transA: boolean, transB: boolean): Orientation => `${transA ? 't' : 'n'}${transB ? 't' : 'n'}` as Orientation;
const ACC = true;

/**
 * Batched matmul. a (..., M, K) (or (..., K, M) with transA), b (K, N) or (..., K, N)
 * (or transposed with transB). A 2-D b is shared by every batch entry.
 */
export function matmul(a: Tensor, b: Tensor, opts: { transA?: boolean; transB?: boolean } = {}): Tensor {
  const transA = opts.transA ?? false, transB = opts.transB ?? false;
  assertShape(a.ndim >= 2 && b.ndim >= 2, () => `matmul needs ≥2-D operands, got [${a.shape}] and [${b.shape}]`);
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const M = transA ? ac : ar, K = transA ? ar : ac;
  const Kb = transB ? bc : br, N = transB ? br : bc;
  assertShape(K === Kb, () => `matmul inner dims differ: [${a.shape}]${transA ? 'ᵀ' : ''} · [${b.shape}]${transB ? 'ᵀ' : ''}`);
  const batch = a.size / (M * K);
  const bBatched = b.ndim > 2;
  assertShape(!bBatched || b.size / (K * N) === batch, () => `matmul batch dims differ: [${a.shape}] · [${b.shape}]`);
  const out = empty(a.backend, [...a.shape.slice(0, -2), M, N], a.dtype);   // (..., M, N)
  const be = a.backend;
  const sa = M * K, sb = bBatched ? K * N : 0, so = M * N;
  // one shared B and untransposed A: the batch is one GEMM over batch·M rows (each row of C
  // is computed alike either way, so the result is the same bit for bit, in far fewer calls)
  const flat = !bBatched && !transA;
  if (flat) gemm(be, orient(false, transB), out.data, a.data, b.data, batch * M, N, K, false);
  else {
    for (let i = 0; i < batch; i++) {
      gemm(be, orient(transA, transB), out.data.subarray(i * so, (i + 1) * so), a.data.subarray(i * sa, (i + 1) * sa),
        b.data.subarray(i * sb, i * sb + K * N), M, N, K, false);
    }
  }
  return record(out, [a, b], () => {
    const dC = out.grad!;
    if (flat && a.requiresGrad) { const da = a.gradSlot(); gemm(be, orient(false, !transB), da.buf, dC, b.data, batch * M, K, N, !da.fresh); }   // dA (+)= dC op(B)ᵀ, every row at once
    // the shared B's gradient over every row at once: each element of dB is one chain of fused
    // multiply-adds in row order either way (the GEMM continues C's chain across its k blocks as
    // it would across calls), so one call over batch·M rows gives the per-element loop's bits
    if (flat && b.requiresGrad) {
      const db = b.gradSlot();
      if (!transB) gemm(be, 'tn', db.buf, a.data, dC, K, N, batch * M, !db.fresh);   // dB (K, N) (+)= Aᵀ dC
      else gemm(be, 'tn', db.buf, dC, a.data, N, K, batch * M, !db.fresh);            // dB (N, K) (+)= dCᵀ A
    }
    if (flat) return;
    for (let i = 0; i < batch; i++) {
      const dc = dC.subarray(i * so, (i + 1) * so);
      if (a.requiresGrad) {
        const dA = a.ensureGrad().subarray(i * sa, (i + 1) * sa);
        const Bi = b.data.subarray(i * sb, i * sb + K * N);
        // dA = dC · op(B)ᵀ  (stored as A is: transposed back when transA)
        if (!transA) gemm(be, orient(false, !transB), dA, dc, Bi, M, K, N, ACC);      // dA (M, K) += dC op(B)ᵀ
        else gemm(be, orient(transB, true), dA, Bi, dc, K, M, N, ACC);                 // dA (K, M) += op(B) dCᵀ
      }
      // dB sums over the batch in the same order as before (per element), so training is unchanged bit for bit
      if (b.requiresGrad) {
        const dB = b.ensureGrad().subarray(i * sb, i * sb + K * N);
        const Ai = a.data.subarray(i * sa, (i + 1) * sa);
        // dB = op(A)ᵀ · dC
        if (!transB) gemm(be, orient(!transA, false), dB, Ai, dc, K, N, M, ACC);      // dB (K, N) += op(A)ᵀ dC
        else gemm(be, orient(true, transA), dB, dc, Ai, N, K, M, ACC);                // dB (N, K) += dCᵀ op(A)
      }
    }
  });
}

/**
 * Linear layer with weights stored (in, out) (GPT-2's Conv1D layout):
 * y (N, out) = x (N, in) · W (in, out) + b. Frozen weights get no weight gradient (no dW GEMM).
 */
export function linear(x: Tensor, w: Tensor, bias: Tensor | null): Tensor {
  const { N, inF, outF } = linearDims(x, w, bias, 'linear');
  const y = empty(x.backend, [...x.shape.slice(0, -1), outF], x.dtype);     // (..., out)
  linearForward(y.data, x, w, bias, N);
  const inputs = bias === null ? [x, w] : [x, w, bias];
  return record(y, inputs, () => linearBackward(y.grad!, x, w, bias, N, inF, outF));
}

/** Checks x (..., in), W (in, out), b (out) or null; returns N (rows of x), in and out. */
export function linearDims(x: Tensor, w: Tensor, bias: Tensor | null, op: string): { N: number; inF: number; outF: number } {
  const [inF, outF] = w.shape;
  assertShape(w.ndim === 2 && x.shape[x.ndim - 1] === inF, () => `${op}: x [${x.shape}] vs W [${w.shape}]`);
  assertShape(bias === null || (bias.ndim === 1 && bias.size === outF), () => `${op}: bias [${bias!.shape}] vs W [${w.shape}]`);
  return { N: x.size / inF, inF, outF };
}

/**
 * A second product that rides a linear's GEMM (Backend.matmulPlus): op(A2) (N, K2) · op(B2)
 * (K2, cols) added to each element after the layer's own terms, in the same pass over the output.
 */
export interface PlusProduct { A2: Buf; B2: Buf; K2: number; transB2: boolean }

/** y (N, out) = x W + b (+ plus), written into y (the forward of linear). */
export function linearForward(y: Buf, x: Tensor, w: Tensor, bias: Tensor | null, N: number, plus?: PlusProduct): void {
  const [inF, outF] = w.shape;
  // the bias starts every element's chain: the backend writes it into each tile of y as it gets there
  if (plus) x.backend.matmulPlus(y, x.data, w.data, N, outF, inF, false, false, false, bias?.data, plus.A2, plus.B2, plus.K2, false, plus.transB2);
  else gemm(x.backend, 'nn', y, x.data, w.data, N, outF, inF, false, bias?.data);     // y (N, out) = b + x W
}

/**
 * Accumulates the gradients of y = x W + b from dy: dx += dy Wᵀ (+ plusDx, in the same pass
 * over dx), dW += xᵀ dy, db += Σ dy (frozen ones skipped).
 */
export function linearBackward(dy: Buf, x: Tensor, w: Tensor, bias: Tensor | null, N: number, inF: number, outF: number, plusDx?: PlusProduct): void {
  const be = x.backend;
  if (x.requiresGrad) {
    const dx = x.gradSlot();   // dx (N, in) (+)= dy Wᵀ (+ plusDx)
    if (plusDx) be.matmulPlus(dx.buf, dy, w.data, N, inF, outF, false, true, !dx.fresh, undefined, plusDx.A2, plusDx.B2, plusDx.K2, false, plusDx.transB2);
    else gemm(be, 'nt', dx.buf, dy, w.data, N, inF, outF, !dx.fresh);
  }
  // db (out) += Σ_rows dy: summed while dW's product packs dy, when there is one
  const db = bias !== null && bias.requiresGrad ? bias.ensureGrad() : undefined;
  if (w.requiresGrad) { const dw = w.gradSlot(); gemm(be, 'tn', dw.buf, x.data, dy, inF, outF, N, !dw.fresh, undefined, db); }   // dW (in, out) (+)= xᵀ dy
  else if (db !== undefined) be.addColumnSums(db, dy, N, outF);
}
