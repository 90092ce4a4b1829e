import { empty, record, type Tensor } from '../tensor.ts';

/** GELU (tanh form, as GPT-2). */
export function gelu(x: Tensor): Tensor {
  const be = x.backend;
  const out = empty(be, x.shape.slice(), x.dtype);
  be.geluForward(out.data, x.data, x.size);
  return record(out, [x], () => { const d = x.gradSlot(); be.geluBackward(d.buf, x.data, out.grad!, x.size, !d.fresh); });
}

/** SiLU: x · σ(x). */
export function silu(x: Tensor): Tensor {
  const be = x.backend;
  const out = empty(be, x.shape.slice(), x.dtype);
  be.siluForward(out.data, x.data, x.size);
  return record(out, [x], () => { const d = x.gradSlot(); be.siluBackward(d.buf, x.data, out.grad!, x.size, !d.fresh); });
}

/** Softmax over the last dim. */
export function softmax(x: Tensor): Tensor {
  const be = x.backend;
  const C = x.shape[x.ndim - 1], N = x.size / C;
  const out = empty(be, x.shape.slice(), x.dtype);
  be.softmaxForward(out.data, x.data, N, C);
  return record(out, [x], () => be.softmaxBackward(x.ensureGrad(), out.data, out.grad!, N, C));
}
