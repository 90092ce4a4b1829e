import { assertShape, empty, record, type Tensor } from '../tensor.ts';

/** out (..., C) = weight[ids] for weight (V, C); backward is a scatter-add into the rows used. */
export function embedding(weight: Tensor, ids: Int32Array, shape: number[]): Tensor {
  const [V, C] = weight.shape;
  const N = ids.length;
  assertShape(shape.reduce((a, b) => a * b, 1) === N, () => `embedding: ids (${N}) do not fit shape [${shape}]`);
  for (let i = 0; i < N; i++) {
    const id = ids[i];
    assertShape(id >= 0 && id < V, () => `embedding: id ${id} out of range [0, ${V})`);
  }
  const be = weight.backend;
  const out = empty(be, [...shape, C], weight.dtype);   // (..., C)
  be.embeddingForward(out.data, weight.data, ids, N, C, V);
  return record(out, [weight], () => be.embeddingBackward(weight.ensureGrad(), out.grad!, ids, N, C, V));
}
