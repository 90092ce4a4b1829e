import type { Buf } from '../backend.ts';

/** out (N, C) = weight[ids] row by row (the spec of native/embedding.cc). */
export function embeddingForward(out: Buf, weight: Buf, ids: Int32Array, N: number, C: number, V: number): void {
  checkIds('embeddingForward', ids, N, V);
  for (let i = 0; i < N; i++) out.set(weight.subarray(ids[i] * C, (ids[i] + 1) * C), i * C);
}

/** dweight[ids[i], :] += dout[i, :] for i = 0 … N−1 in order (the spec of native/embedding.cc). */
export function embeddingBackward(dweight: Buf, dout: Buf, ids: Int32Array, N: number, C: number, V: number): void {
  checkIds('embeddingBackward', ids, N, V);
  for (let i = 0; i < N; i++) {
    const r = ids[i] * C, s = i * C;
    for (let c = 0; c < C; c++) dweight[r + c] += dout[s + c];
  }
}

/** Every id in [0, V) before a row is read or written, as the addon checks. */
function checkIds(fn: string, ids: Int32Array, N: number, V: number): void {
  for (let i = 0; i < N; i++) if (!(ids[i] >= 0 && ids[i] < V)) throw new RangeError(`${fn}: ids[${i}] = ${ids[i]} is outside [0, V)`);
}
