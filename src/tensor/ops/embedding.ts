import { assertShape, empty, poolOf, record, type Tensor } from '../tensor.ts';

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

/**
 * The inverse of gathering rows (`embedding` over a (N, C) table): x (n, C) → out (N, C) with
 * x's row j at row rows[j] and zeros in every other row. `rows` ascend, each in [0, N).
 * Backward gathers out's gradient at those rows. The last block's MLP runs on the rows a loss
 * reads (GPT.forward's `rows`) and is scattered back into the residual stream with this.
 */
export function scatterRows(x: Tensor, rows: Int32Array, N: number): Tensor {
  const [n, C] = x.shape;
  assertShape(x.ndim === 2 && rows.length === n, () => `scatterRows: x [${x.shape}] for ${rows.length} rows`);
  for (let j = 1; j < n; j++) assertShape(rows[j] > rows[j - 1], () => `scatterRows: rows must ascend (${rows[j - 1]} then ${rows[j]})`);
  assertShape(n === 0 || (rows[0] >= 0 && rows[n - 1] < N), () => `scatterRows: rows ${rows[0]} … ${rows[n - 1]} fall outside [0, ${N})`);
  const be = x.backend;
  const out = empty(be, [N, C], x.dtype);   // (N, C)
  out.data.fill(0);
  be.embeddingBackward(out.data, x.data, rows, n, C, N);   // out[rows[j]] = 0 + x[j]
  return record(out, [x], () => {
    if (!x.requiresGrad) return;
    const g = out.grad!;
    const s = x.gradSlot();
    if (s.fresh) { be.embeddingForward(s.buf, g, rows, n, C, N); return; }   // the first contribution: written
    const tmp = poolOf(be).take(n * C, x.dtype === 'f64');
    be.embeddingForward(tmp, g, rows, n, C, N);
    be.addBuffers(s.buf, s.buf, tmp, n * C);
    poolOf(be).give(tmp);
  });
}
