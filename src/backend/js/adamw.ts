import type { Buf } from '../backend.ts';

/** AdamW, as torch.optim.AdamW: decoupled decay first, then the bias-corrected Adam step. */
export function adamwUpdate(param: Buf, grad: Buf, m: Buf, v: Buf, n: number, lr: number, beta1: number,
  beta2: number, eps: number, weightDecay: number, t: number): void {
  const bc1 = 1 - Math.pow(beta1, t);
  const bc2 = 1 - Math.pow(beta2, t);
  for (let i = 0; i < n; i++) {
    const g = grad[i];
    param[i] -= lr * weightDecay * param[i];
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    param[i] -= lr * (m[i] / bc1) / (Math.sqrt(v[i] / bc2) + eps);
  }
}
