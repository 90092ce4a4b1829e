import type { Buf } from '../backend.ts';

/** start + Σ g[i]², one double add per element in index order. */
export function sumSquares(g: Buf, n: number, start: number): number {
  let s = start;
  for (let i = 0; i < n; i++) s += g[i] * g[i];
  return s;
}

/** g[i] = g[i] · s. */
export function scaleInPlace(g: Buf, n: number, s: number): void {
  for (let i = 0; i < n; i++) g[i] *= s;
}

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
