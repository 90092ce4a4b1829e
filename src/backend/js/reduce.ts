import type { Buf } from '../backend.ts';

/** out (C) += Σ_i inp[i, :], each column in row order (the spec of native/reduce.cc). */
export function addColumnSums(out: Buf, inp: Buf, N: number, C: number): void {
  for (let i = 0; i < N; i++) { const r = i * C; for (let j = 0; j < C; j++) out[j] += inp[r + j]; }
}
