import type { Buf } from '../backend.ts';

/** LayerNorm over rows: out, mean, rstd: (N,C), (N), (N). Biased variance, as PyTorch. */
export function layernormForward(out: Buf, mean: Buf, rstd: Buf, inp: Buf, weight: Buf, bias: Buf,
  N: number, C: number, eps: number): void {
  for (let i = 0; i < N; i++) {
    const x = i * C;
    // mean
    let m = 0;
    for (let c = 0; c < C; c++) m += inp[x + c];
    m /= C;
    // biased variance, as PyTorch
    let v = 0;
    for (let c = 0; c < C; c++) { const d = inp[x + c] - m; v += d * d; }
    v /= C;
    // rstd
    const s = 1 / Math.sqrt(v + eps);
    for (let c = 0; c < C; c++) out[x + c] = (inp[x + c] - m) * s * weight[c] + bias[c];
    mean[i] = m;
    rstd[i] = s;
  }
}

/**
 * LayerNorm backward (accumulates). With x̂ = (x − mean)·rstd and g = dout ⊙ w:
 * dx = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂)).
 */
export function layernormBackward(dinp: Buf, dweight: Buf, dbias: Buf, dout: Buf, inp: Buf, weight: Buf,
  mean: Buf, rstd: Buf, N: number, C: number): void {
  for (let i = 0; i < N; i++) {
    const x = i * C;
    const m = mean[i], s = rstd[i];
    let gMean = 0, gxMean = 0;
    for (let c = 0; c < C; c++) {
      const xh = (inp[x + c] - m) * s;
      const g = dout[x + c] * weight[c];
      gMean += g;
      gxMean += g * xh;
    }
    gMean /= C;
    gxMean /= C;
    for (let c = 0; c < C; c++) {
      const xh = (inp[x + c] - m) * s;
      const g = dout[x + c] * weight[c];
      dbias[c] += dout[x + c];
      dweight[c] += dout[x + c] * xh;
      dinp[x + c] += s * (g - gMean - xh * gxMean);
    }
  }
}

/** RMSNorm over rows: y = x · rstd · w, rstd = 1/sqrt(mean(x²) + eps). */
export function rmsnormForward(out: Buf, rstd: Buf, inp: Buf, weight: Buf, N: number, C: number, eps: number): void {
  for (let i = 0; i < N; i++) {
    const x = i * C;
    let ss = 0;
    for (let c = 0; c < C; c++) ss += inp[x + c] * inp[x + c];
    const s = 1 / Math.sqrt(ss / C + eps);
    for (let c = 0; c < C; c++) out[x + c] = inp[x + c] * s * weight[c];
    rstd[i] = s;
  }
}

/** RMSNorm backward (accumulates): with g = dout ⊙ w, x̂ = x·rstd: dx = rstd · (g − x̂ · mean(g ⊙ x̂)). */
export function rmsnormBackward(dinp: Buf, dweight: Buf, dout: Buf, inp: Buf, weight: Buf, rstd: Buf,
  N: number, C: number): void {
  for (let i = 0; i < N; i++) {
    const x = i * C;
    const s = rstd[i];
    let gx = 0;
    for (let c = 0; c < C; c++) gx += dout[x + c] * weight[c] * inp[x + c] * s;
    gx /= C;
    for (let c = 0; c < C; c++) {
      const xh = inp[x + c] * s;
      dweight[c] += dout[x + c] * xh;
      dinp[x + c] += s * (dout[x + c] * weight[c] - xh * gx);
    }
  }
}
