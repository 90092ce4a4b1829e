import type { Buf } from '../backend.ts';

/**
 * Causal self-attention, grouped-query. q[b,t,h,d] at (b·T+t)·qStride + h·hs + d; k, v at
 * (b·T+t)·kvStride + g·hs + d with g = floor(h / (nh/nkv)). out (B,T,nh·hs); att (B,nh,T,T).
 */
export function attentionForward(out: Buf, att: Buf, q: Buf, k: Buf, v: Buf,
  B: number, T: number, nh: number, nkv: number, hs: number, qStride: number, kvStride: number): void {
  const scale = 1 / Math.sqrt(hs);
  const C = nh * hs;
  const group = nh / nkv;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < nh; h++) {
      const g = Math.floor(h / group);
      for (let t = 0; t < T; t++) {
        const qo = (b * T + t) * qStride + h * hs;
        const ao = ((b * nh + h) * T + t) * T;
        // scores s_t2 = q·k / √hs for t2 ≤ t, running max
        let mx = -Infinity;
        for (let t2 = 0; t2 <= t; t2++) {
          const ko = (b * T + t2) * kvStride + g * hs;
          let s = 0;
          for (let d = 0; d < hs; d++) s += q[qo + d] * k[ko + d];
          s *= scale;
          att[ao + t2] = s;
          if (s > mx) mx = s;
        }
        // softmax over t2 ≤ t; masked entries are 0
        let sum = 0;
        for (let t2 = 0; t2 <= t; t2++) { const e = Math.exp(att[ao + t2] - mx); att[ao + t2] = e; sum += e; }
        const inv = 1 / sum;
        for (let t2 = 0; t2 <= t; t2++) att[ao + t2] *= inv;
        for (let t2 = t + 1; t2 < T; t2++) att[ao + t2] = 0;
        // out = Σ att · v
        const oo = (b * T + t) * C + h * hs;
        for (let d = 0; d < hs; d++) out[oo + d] = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          const a = att[ao + t2];
          const vo = (b * T + t2) * kvStride + g * hs;
          for (let d = 0; d < hs; d++) out[oo + d] += a * v[vo + d];
        }
      }
    }
  }
}

/** Backward of attentionForward; adds into dq, dk, dv when `accumulate`, else writes their head slices. */
export function attentionBackward(dq: Buf, dk: Buf, dv: Buf, dout: Buf, att: Buf, q: Buf, k: Buf, v: Buf,
  B: number, T: number, nh: number, nkv: number, hs: number, qStride: number, kvStride: number, accumulate: boolean): void {
  const scale = 1 / Math.sqrt(hs);
  const C = nh * hs;
  const group = nh / nkv;
  if (!accumulate) {
    for (let r = 0; r < B * T; r++) {
      dq.fill(0, r * qStride, r * qStride + nh * hs);
      dk.fill(0, r * kvStride, r * kvStride + nkv * hs);
      dv.fill(0, r * kvStride, r * kvStride + nkv * hs);
    }
  }
  const datt = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < nh; h++) {
      const g = Math.floor(h / group);
      for (let t = 0; t < T; t++) {
        const ao = ((b * nh + h) * T + t) * T;
        const oo = (b * T + t) * C + h * hs;
        const qo = (b * T + t) * qStride + h * hs;
        // datt = dout · v ; dv += att · dout
        let dot = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          const vo = (b * T + t2) * kvStride + g * hs;
          let s = 0;
          for (let d = 0; d < hs; d++) {
            s += dout[oo + d] * v[vo + d];
            dv[vo + d] += att[ao + t2] * dout[oo + d];
          }
          datt[t2] = s;
          dot += s * att[ao + t2];
        }
        // d softmax: dscore = att ⊙ (datt − Σ datt·att); then dq, dk through s = q·k·scale
        for (let t2 = 0; t2 <= t; t2++) {
          const ds = att[ao + t2] * (datt[t2] - dot) * scale;
          const ko = (b * T + t2) * kvStride + g * hs;
          for (let d = 0; d < hs; d++) {
            dq[qo + d] += ds * k[ko + d];
            dk[ko + d] += ds * q[qo + d];
          }
        }
      }
    }
  }
}
