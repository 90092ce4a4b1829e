import type { Buf } from '../backend.ts';

/** Fused softmax cross-entropy: losses (N), probs (N,V) from logits (N,V); ignored rows → 0. */
export function crossEntropyForward(losses: Buf, probs: Buf, logits: Buf, targets: Int32Array,
  N: number, V: number, ignoreIndex: number): void {
  for (let i = 0; i < N; i++) {
    const r = i * V;
    let mx = -Infinity;
    for (let j = 0; j < V; j++) if (logits[r + j] > mx) mx = logits[r + j];
    let sum = 0;
    for (let j = 0; j < V; j++) { const e = Math.exp(logits[r + j] - mx); probs[r + j] = e; sum += e; }
    const inv = 1 / sum;
    for (let j = 0; j < V; j++) probs[r + j] *= inv;
    const t = targets[i];
    // −log p_t computed from logits (log-sum-exp), not from the rounded probability
    losses[i] = t === ignoreIndex ? 0 : Math.log(sum) + mx - logits[r + t];
  }
}

/** dlogits[i,:] (+)= dlosses[i] · (probs[i,:] − onehot(target)); written as 0 + … when not accumulating (dlogits may be probs). */
export function crossEntropyBackward(dlogits: Buf, probs: Buf, targets: Int32Array, dlosses: Buf,
  N: number, V: number, ignoreIndex: number, accumulate: boolean): void {
  for (let i = 0; i < N; i++) {
    const t = targets[i];
    const r = i * V;
    if (t === ignoreIndex) { if (!accumulate) dlogits.fill(0, r, r + V); continue; }
    const dl = dlosses[i];
    if (accumulate) for (let j = 0; j < V; j++) dlogits[r + j] += dl * probs[r + j];
    else for (let j = 0; j < V; j++) dlogits[r + j] = 0 + dl * probs[r + j];
    dlogits[r + t] -= dl;
  }
}
