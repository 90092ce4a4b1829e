import type { Buf } from '../backend/backend.ts';
import type { Tensor } from '../tensor/tensor.ts';

export interface AdamWOptions { beta1: number; beta2: number; eps: number; weightDecay: number }
export const ADAMW_DEFAULTS: AdamWOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

/**
 * AdamW (decoupled weight decay) over named parameters. Decay applies only to tensors with ≥ 2
 * dims (matrices, embeddings); biases and norm weights are not decayed. The update itself is
 * the backend's `adamwStep` kernel, one call for every parameter.
 */
export class AdamW {
  readonly params: [string, Tensor][];
  readonly m: Float32Array[];
  readonly v: Float32Array[];
  /** Updates done so far (bias correction uses t = step + 1). */
  step = 0;

  constructor(params: [string, Tensor][], readonly opts: AdamWOptions = ADAMW_DEFAULTS) {
    this.params = params;
    this.m = params.map(([, p]) => new Float32Array(p.size));
    this.v = params.map(([, p]) => new Float32Array(p.size));
  }

  /**
   * One update with learning rate `lr`, every parameter in one backend call; parameters without a
   * gradient are skipped. `gradScale` (clipping's, from clipScale) first scales every gradient in
   * place, in the same call.
   */
  update(lr: number, gradScale = 1): void {
    const t = this.step + 1;
    const { beta1, beta2, eps, weightDecay } = this.opts;
    const ps: Buf[] = [], gs: Buf[] = [], ms: Buf[] = [], vs: Buf[] = [], wds: number[] = [];
    this.params.forEach(([, p], i) => {
      if (p.grad === null) return;
      ps.push(p.data); gs.push(p.grad); ms.push(this.m[i]); vs.push(this.v[i]);
      wds.push(p.ndim >= 2 ? weightDecay : 0);
    });
    if (ps.length > 0) this.params[0][1].backend.adamwStep(ps, gs, ms, vs, wds, lr, beta1, beta2, eps, t, gradScale);
    this.step = t;
  }

  zeroGrad(): void { for (const [, p] of this.params) p.zeroGrad(); }
}

/**
 * Global L2 norm of all gradients, and the factor that brings it down to `maxNorm` (1 when it is
 * not above it, or maxNorm is 0): what AdamW.update(lr, scale) applies in its own pass.
 */
export function clipScale(params: Tensor[], maxNorm: number): { norm: number; scale: number } {
  let ss = 0;
  for (const p of params) if (p.grad !== null) ss = p.backend.sumSquares(p.grad, p.grad.length, ss);   // one chain over every gradient in order
  const norm = Math.sqrt(ss);
  return { norm, scale: maxNorm > 0 && norm > maxNorm ? maxNorm / (norm + 1e-6) : 1 };
}

/** Global L2 norm of all gradients; scales them down to `maxNorm` when above it. Returns the norm before clipping. */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  const { norm, scale } = clipScale(params, maxNorm);
  if (scale !== 1) for (const p of params) if (p.grad !== null) p.backend.scaleInPlace(p.grad, p.grad.length, scale);
  return norm;
}
