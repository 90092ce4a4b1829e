import { assertShape, empty, record, type Tensor } from '../tensor.ts';

/** out (..., C) = weight[ids] for weight (V, C); backward is a scatter-add into the rows used. */
export function embedding(weight: Tensor, ids: Int32Array, shape: number[]): Tensor {
  const [V, C] = weight.shape;
  const N = ids.length;
  assertShape(shape.reduce((a, b) => a * b, 1) === N, () => `embedding: ids (${N}) do not fit shape [${shape}]`);
  const out = empty(weight.backend, [...shape, C], weight.dtype);   // (..., C)
  for (let i = 0; i < N; i++) {
    const id = ids[i];
    assertShape(id >= 0 && id < V, () => `embedding: id ${id} out of range [0, ${V})`);
    out.data.set(weight.data.subarray(id * C, (id + 1) * C), i * C);
  }
  return record(out, [weight], () => {
    const g = out.grad!, dw = weight.ensureGrad();
    for (let i = 0; i < N; i++) {
      const r = ids[i] * C, s = i * C;
      for (let c = 0; c < C; c++) dw[r + c] += g[s + c];
    }
  });
}
