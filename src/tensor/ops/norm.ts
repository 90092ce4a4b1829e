import { assertShape, empty, gradTarget, poolOf, record, type Tensor } from '../tensor.ts';

/** LayerNorm over the last dim: x (..., C), weight (C), bias (C). */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  const C = x.shape[x.ndim - 1];
  assertShape(weight.size === C && bias.size === C, () => `layerNorm: x [${x.shape}], weight [${weight.shape}], bias [${bias.shape}]`);
  const N = x.size / C;
  const be = x.backend, pool = poolOf(be), f64 = x.dtype === 'f64';
  const out = empty(be, x.shape.slice(), x.dtype);           // (..., C)
  const mean = pool.take(N, f64), rstd = pool.take(N, f64);  // (N), (N)
  be.layernormForward(out.data, mean, rstd, x.data, weight.data, bias.data, N, C, eps);
  const r = record(out, [x, weight, bias], () => {
    const dx = gradTarget(x), dw = gradTarget(weight), db = gradTarget(bias);
    be.layernormBackward(dx.buf, dw.buf, db.buf, out.grad!, x.data, weight.data, mean, rstd, N, C);
    dx.done(); dw.done(); db.done();
    pool.give(mean); pool.give(rstd);
  });
  if (r.backwardFn === null) { pool.give(mean); pool.give(rstd); }
  return r;
}

/** RMSNorm over the last dim: x (..., C), weight (C). */
export function rmsNorm(x: Tensor, weight: Tensor, eps = 1e-5): Tensor {
  const C = x.shape[x.ndim - 1];
  assertShape(weight.size === C, () => `rmsNorm: x [${x.shape}], weight [${weight.shape}]`);
  const N = x.size / C;
  const be = x.backend, pool = poolOf(be);
  const out = empty(be, x.shape.slice(), x.dtype);           // (..., C)
  const rstd = pool.take(N, x.dtype === 'f64');              // (N)
  be.rmsnormForward(out.data, rstd, x.data, weight.data, N, C, eps);
  const r = record(out, [x, weight], () => {
    const dx = gradTarget(x), dw = gradTarget(weight);
    be.rmsnormBackward(dx.buf, dw.buf, out.grad!, x.data, weight.data, rstd, N, C);
    dx.done(); dw.done();
    pool.give(rstd);
  });
  if (r.backwardFn === null) pool.give(rstd);
  return r;
}
