import type { Buf } from '../backend.ts';
import { roundToBf16 } from './bf16.ts';

/**
 * Reference matmul: C (M,N) (+)= op(A) (M,K) · op(B) (K,N).
 * Loop order keeps the innermost loop contiguous for each orientation; accumulates in the
 * array's own precision (float64 for the gradient checks).
 */
export function matmul(C: Buf, A: Buf, B: Buf, M: number, N: number, K: number,
  transA: boolean, transB: boolean, accumulate: boolean, bias?: Buf): void {
  if (bias !== undefined) fillRows(C, bias, M, N);
  else if (!accumulate) C.fill(0, 0, M * N);
  if (!transB) {
    // B (K,N): C[i,:] += a_ik · B[k,:]
    for (let i = 0; i < M; i++) {
      const ci = i * N;
      for (let k = 0; k < K; k++) {
        const a = transA ? A[k * M + i] : A[i * K + k];
        if (a === 0) continue;
        const bk = k * N;
        for (let j = 0; j < N; j++) C[ci + j] += a * B[bk + j];
      }
    }
  } else {
    // B (N,K): C[i,j] += Σ_k a_ik · B[j,k]
    for (let i = 0; i < M; i++) {
      const ci = i * N;
      for (let j = 0; j < N; j++) {
        const bj = j * K;
        let s = 0;
        if (transA) for (let k = 0; k < K; k++) s += A[k * M + i] * B[bj + k];
        else { const ai = i * K; for (let k = 0; k < K; k++) s += A[ai + k] * B[bj + k]; }
        C[ci + j] += s;
      }
    }
  }
}

/**
 * The bf16 mixed-precision matmul's spec: the same product on operands rounded to bf16 (round
 * to nearest even, denormals to zero, as VCVTNEPS2BF16), accumulated in C's precision. Float64
 * operands (the gradient checks) are left exact.
 */
export function matmulBf16(C: Buf, A: Buf, B: Buf, M: number, N: number, K: number,
  transA: boolean, transB: boolean, accumulate: boolean, bias?: Buf): void {
  const a = A instanceof Float32Array ? roundToBf16(A.subarray(0, M * K)) : A;   // (M,K) or (K,M)
  const b = B instanceof Float32Array ? roundToBf16(B.subarray(0, K * N)) : B;   // (K,N) or (N,K)
  matmul(C, a, b, M, N, K, transA, transB, accumulate, bias);
}

/** C (M, N) = bias (N) in every row: one copy, then the rows filled by doubling. */
function fillRows(C: Buf, bias: Buf, M: number, N: number): void {
  if (M === 0) return;
  C.set(bias.subarray(0, N), 0);
  for (let have = 1; have < M; have *= 2) C.copyWithin(have * N, 0, Math.min(have, M - have) * N);
}
