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

/** Every tensor's update (the spec of native adamwStep): scaled first when gradScale ≠ 1. */
export function adamwStep(params: Buf[], grads: Buf[], m: Buf[], v: Buf[], weightDecay: number[], lr: number, beta1: number,
  beta2: number, eps: number, t: number, gradScale: number): void {
  for (const [what, xs] of [['grads', grads], ['m', m], ['v', v], ['weightDecay', weightDecay]] as const) {
    if (xs.length !== params.length) throw new RangeError(`adamwStep: ${what} has ${xs.length} entries, params ${params.length}`);
  }
  params.forEach((p, i) => {
    for (const [what, b] of [['grads', grads[i]], ['m', m[i]], ['v', v[i]]] as const) {
      if (b.length !== p.length) throw new RangeError(`adamwStep: ${what}[${i}] has ${b.length} elements, params[${i}] ${p.length}`);
    }
  });
  params.forEach((p, i) => {
    if (gradScale !== 1) scaleInPlace(grads[i], p.length, gradScale);
    adamwUpdate(p, grads[i], m[i], v[i], p.length, lr, beta1, beta2, eps, weightDecay[i], t);
  });
}

/** AdamW on one tensor, as torch.optim.AdamW: decoupled decay first, then the bias-corrected Adam step. */
function adamwUpdate(param: Buf, grad: Buf, m: Buf, v: Buf, n: number, lr: number, beta1: number,
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
