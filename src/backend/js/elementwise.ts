import type { Buf } from '../backend.ts';

/** out = a + b (the spec of native/elementwise.cc). */
export function addBuffers(out: Buf, a: Buf, b: Buf, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
}

/** out (C) += Σ_i inp[i, :], each column in row order (the spec of native/elementwise.cc). */
export function addColumnSums(out: Buf, inp: Buf, N: number, C: number): void {
  for (let i = 0; i < N; i++) { const r = i * C; for (let j = 0; j < C; j++) out[j] += inp[r + j]; }
}

/** out[j] += Σ_k op(B)[k][j] in k order, op(B) (K, N) being B, or Bᵀ of a B stored (N, K) when transB: matmul's colSumsB. */
export function columnSumsOf(out: Buf, B: Buf, K: number, N: number, transB: boolean): void {
  if (!transB) { addColumnSums(out, B, K, N); return; }
  for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) out[j] += B[j * K + k];
}
