import type { UniformSource } from '../tensor/ops/dropout.ts';

/** Fills `out` with N(0, std²) draws (Box–Muller) from a seeded uniform source. */
export function fillNormal(out: Float32Array, std: number, rng: UniformSource): Float32Array {
  for (let i = 0; i < out.length; i += 2) {
    const u1 = Math.max(rng.next(), 1e-300), u2 = rng.next();
    const r = Math.sqrt(-2 * Math.log(u1)) * std;
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** Fills `out` with U(−bound, bound). */
export function fillUniform(out: Float32Array, bound: number, rng: UniformSource): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = (rng.next() * 2 - 1) * bound;
  return out;
}
