import type { Buf } from '../backend.ts';

const GELU_K = Math.sqrt(2 / Math.PI);

/** GELU, tanh form: 0.5 x (1 + tanh(u)), u = √(2/π)(x + 0.044715 x³). */
export function geluForward(out: Buf, inp: Buf, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    out[i] = 0.5 * x * (1 + Math.tanh(GELU_K * (x + 0.044715 * x * x * x)));
  }
}

/** d gelu: 0.5 (1 + tanh u) + 0.5 x (1 − tanh² u) · √(2/π)(1 + 3·0.044715 x²). Adds into dinp, or writes it. */
export function geluBackward(dinp: Buf, inp: Buf, dout: Buf, n: number, accumulate: boolean): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    const th = Math.tanh(GELU_K * (x + 0.044715 * x * x * x));
    const du = GELU_K * (1 + 3 * 0.044715 * x * x);
    const d = dout[i] * (0.5 * (1 + th) + 0.5 * x * (1 - th * th) * du);
    dinp[i] = accumulate ? dinp[i] + d : d + 0;   // + 0: −0 → +0, as added into zeros
  }
}

/** SiLU: x σ(x). */
export function siluForward(out: Buf, inp: Buf, n: number): void {
  for (let i = 0; i < n; i++) { const x = inp[i]; out[i] = x / (1 + Math.exp(-x)); }
}

/** d silu: σ(x) (1 + x (1 − σ(x))). Adds into dinp, or writes it. */
export function siluBackward(dinp: Buf, inp: Buf, dout: Buf, n: number, accumulate: boolean): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    const s = 1 / (1 + Math.exp(-x));
    const d = dout[i] * s * (1 + x * (1 - s));
    dinp[i] = accumulate ? dinp[i] + d : d + 0;   // + 0: −0 → +0, as added into zeros
  }
}

/** Row softmax (max-subtracted). */
export function softmaxForward(out: Buf, inp: Buf, N: number, C: number): void {
  for (let i = 0; i < N; i++) {
    const r = i * C;
    let mx = -Infinity;
    for (let c = 0; c < C; c++) if (inp[r + c] > mx) mx = inp[r + c];
    let sum = 0;
    for (let c = 0; c < C; c++) { const e = Math.exp(inp[r + c] - mx); out[r + c] = e; sum += e; }
    const inv = 1 / sum;
    for (let c = 0; c < C; c++) out[r + c] *= inv;
  }
}

/** d softmax: dinp += y ⊙ (g − Σ g·y). */
export function softmaxBackward(dinp: Buf, out: Buf, dout: Buf, N: number, C: number): void {
  for (let i = 0; i < N; i++) {
    const r = i * C;
    let dot = 0;
    for (let c = 0; c < C; c++) dot += dout[r + c] * out[r + c];
    for (let c = 0; c < C; c++) dinp[r + c] += out[r + c] * (dout[r + c] - dot);
  }
}
