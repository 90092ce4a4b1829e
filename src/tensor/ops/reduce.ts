import { empty, record, type Tensor } from '../tensor.ts';

/** Sum of all elements → shape [1]. */
export function sum(a: Tensor): Tensor {
  const out = empty(a.backend, [1], a.dtype);
  let s = 0;
  for (let i = 0; i < a.size; i++) s += a.data[i];
  out.data[0] = s;
  return record(out, [a], () => {
    const g = out.grad![0], d = a.ensureGrad();
    for (let i = 0; i < a.size; i++) d[i] += g;
  });
}

/** Mean of all elements → shape [1]. */
export function mean(a: Tensor): Tensor {
  const out = empty(a.backend, [1], a.dtype);
  let s = 0;
  for (let i = 0; i < a.size; i++) s += a.data[i];
  out.data[0] = s / a.size;
  return record(out, [a], () => {
    const g = out.grad![0] / a.size, d = a.ensureGrad();
    for (let i = 0; i < a.size; i++) d[i] += g;
  });
}

/** Sum over the last dimension: (..., C) → (...). */
export function sumLast(a: Tensor): Tensor {
  const C = a.shape[a.ndim - 1];
  const N = a.size / C;
  const out = empty(a.backend, a.ndim > 1 ? a.shape.slice(0, -1) : [1], a.dtype);
  for (let i = 0; i < N; i++) { let s = 0; for (let c = 0; c < C; c++) s += a.data[i * C + c]; out.data[i] = s; }
  return record(out, [a], () => {
    const g = out.grad!, d = a.ensureGrad();
    for (let i = 0; i < N; i++) for (let c = 0; c < C; c++) d[i * C + c] += g[i];
  });
}
