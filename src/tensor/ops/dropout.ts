import { empty, record, type Tensor } from '../tensor.ts';

/** Anything with a uniform [0, 1) source: the project's seeded RNG objects. */
export interface UniformSource { next(): number }

/**
 * Inverted dropout: zero each element with probability p, scale the rest by 1/(1−p).
 * The mask comes from the caller's seeded RNG (deterministic). p = 0 returns x itself.
 */
export function dropout(x: Tensor, p: number, rng: UniformSource): Tensor {
  if (p === 0) return x;
  const keep = 1 / (1 - p);
  const mask = new Uint8Array(x.size);
  const out = empty(x.backend, x.shape.slice(), x.dtype);
  for (let i = 0; i < x.size; i++) {
    const k = rng.next() >= p;
    mask[i] = k ? 1 : 0;
    out.data[i] = k ? x.data[i] * keep : 0;
  }
  return record(out, [x], () => {
    const g = out.grad!, d = x.ensureGrad();
    for (let i = 0; i < x.size; i++) if (mask[i]) d[i] += g[i] * keep;
  });
}
