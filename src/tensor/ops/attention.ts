import type { Buf } from '../../backend/backend.ts';
import { assertShape, empty, gradSlotFor, poolOf, record, type Tensor } from '../tensor.ts';

/**
 * Fused causal self-attention over heads.
 * q (B, T, nh·hs); k, v (B, T, nkv·hs) with nh a multiple of nkv (grouped-query when
 * nkv < nh). Returns y (B, T, nh·hs). The (B, nh, T, T) probabilities are kept for backward.
 */
export function causalSelfAttention(q: Tensor, k: Tensor, v: Tensor, nh: number, nkv = nh): Tensor {
  const [B, T, Cq] = q.shape;
  const hs = Cq / nh;
  assertShape(q.ndim === 3 && Number.isInteger(hs) && nh % nkv === 0, () => `attention: q [${q.shape}] with ${nh} heads / ${nkv} kv heads`);
  assertShape(k.shape.join() === [B, T, nkv * hs].join() && v.shape.join() === k.shape.join(),
    () => `attention: k [${k.shape}], v [${v.shape}] do not fit q [${q.shape}] with ${nkv} kv heads`);
  const geom = { B, T, nh, nkv, hs, qStride: Cq, kvStride: nkv * hs };
  return attend([q, k, v], [q.data, k.data, v.data], geom, () => {
    const g = [gradSlotFor(q), gradSlotFor(k), gradSlotFor(v)];
    // written when none of the three holds a gradient yet; else the fresh ones are zeroed and all added into
    const accumulate = g.some((x) => !x.fresh);
    if (accumulate) for (const x of g) if (x.fresh) x.buf.fill(0);
    return { bufs: [g[0].buf, g[1].buf, g[2].buf], accumulate, done: () => g.forEach((x) => x.done()) };
  });
}

/**
 * GPT-2 form: qkv (B, T, 3C) packed as [q | k | v] per position; the heads are read in place
 * through strides (no split copies). Returns y (B, T, C).
 */
export function causalSelfAttentionPacked(qkv: Tensor, nh: number): Tensor {
  const [B, T, C3] = qkv.shape;
  const C = C3 / 3, hs = C / nh;
  assertShape(qkv.ndim === 3 && Number.isInteger(C) && Number.isInteger(hs), () => `attention: qkv [${qkv.shape}] with ${nh} heads`);
  const d = qkv.data;
  const geom = { B, T, nh, nkv: nh, hs, qStride: C3, kvStride: C3 };
  return attend([qkv], [d, d.subarray(C), d.subarray(2 * C)], geom, () => {
    const g = gradSlotFor(qkv);
    return { bufs: [g.buf, g.buf.subarray(C), g.buf.subarray(2 * C)], accumulate: !g.fresh, done: g.done };
  });
}

interface Geom { B: number; T: number; nh: number; nkv: number; hs: number; qStride: number; kvStride: number }

function attend(inputs: Tensor[], [q, k, v]: Buf[], g: Geom, grads: () => { bufs: Buf[]; accumulate: boolean; done: () => void }): Tensor {
  const { B, T, nh, nkv, hs, qStride, kvStride } = g;
  const x = inputs[0];
  const be = x.backend, pool = poolOf(be);
  const out = empty(be, [B, T, nh * hs], x.dtype);          // (B, T, nh·hs)
  const att = pool.take(B * nh * T * T, x.dtype === 'f64');  // (B, nh, T, T)
  be.attentionForward(out.data, att, q, k, v, B, T, nh, nkv, hs, qStride, kvStride);
  const r = record(out, inputs, () => {
    const { bufs: [dq, dk, dv], accumulate, done } = grads();
    be.attentionBackward(dq, dk, dv, out.grad!, att, q, k, v, B, T, nh, nkv, hs, qStride, kvStride, accumulate);
    done();
    pool.give(att);
  });
  if (r.backwardFn === null) pool.give(att);
  return r;
}
