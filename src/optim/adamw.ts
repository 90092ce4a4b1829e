import type { Tensor } from '../tensor/tensor.ts';

export interface AdamWOptions { beta1: number; beta2: number; eps: number; weightDecay: number }
export const ADAMW_DEFAULTS: AdamWOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

/**
 * AdamW (decoupled weight decay) over named parameters. Decay applies only to tensors with ≥ 2
 * dims (matrices, embeddings); biases and norm weights are not decayed. The update itself is
 * the backend's `adamwUpdate` kernel.
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

  /** One update with learning rate `lr`; parameters without a gradient are skipped. */
  update(lr: number): void {
    const t = this.step + 1;
    const { beta1, beta2, eps, weightDecay } = this.opts;
    this.params.forEach(([, p], i) => {
      if (p.grad === null) return;
      const wd = p.ndim >= 2 ? weightDecay : 0;
      p.backend.adamwUpdate(p.data, p.grad, this.m[i], this.v[i], p.size, lr, beta1, beta2, eps, wd, t);
    });
    this.step = t;
  }

  zeroGrad(): void { for (const [, p] of this.params) p.zeroGrad(); }
}

/** Global L2 norm of all gradients; scales them down to `maxNorm` when above it. Returns the norm before clipping. */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  let ss = 0;
  for (const p of params) if (p.grad !== null) ss = p.backend.sumSquares(p.grad, p.grad.length, ss);   // one chain over every gradient in order
  const norm = Math.sqrt(ss);
  if (maxNorm > 0 && norm > maxNorm) {
    const s = maxNorm / (norm + 1e-6);
    for (const p of params) if (p.grad !== null) p.backend.scaleInPlace(p.grad, p.grad.length, s);
  }
  return norm;
}
