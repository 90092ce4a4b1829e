import { Rng } from '../data/rng.ts';
import { noGrad } from '../tensor/tensor.ts';
import type { GPT } from './gpt.ts';

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 = greedy (argmax). */
  temperature?: number;
  /** Sample only among the k most likely tokens (0 = all). */
  topK?: number;
  /** Stop after producing any of these ids (the id is included in the output). */
  stopIds?: number[];
  /** Seeded sampler (required when temperature > 0). */
  rng?: Rng;
}

/**
 * Autoregressive decoding. Returns only the new ids. The context is cropped to the model's
 * n_ctx (the most recent tokens are kept).
 */
export function generate(model: GPT, prompt: number[], o: GenerateOptions): number[] {
  const temperature = o.temperature ?? 0, topK = o.topK ?? 0;
  if (temperature > 0 && o.rng === undefined) throw new RangeError('sampling with temperature > 0 needs a seeded rng');
  const stop = new Set(o.stopIds ?? []);
  const V = model.config.vocabSize, nCtx = model.config.nCtx;
  const seq = prompt.slice();
  const out: number[] = [];
  return noGrad(() => {
    for (let i = 0; i < o.maxNewTokens; i++) {
      const ctx = seq.slice(-nCtx);
      const T = ctx.length;
      const logits = model.forward(Int32Array.from(ctx), 1, T);       // (1, T, V)
      const last = logits.data.subarray((T - 1) * V, T * V);          // (V)
      const id = temperature === 0 ? argmax(last) : sample(last, temperature, topK, o.rng!);
      logits.releaseGraph();
      out.push(id);
      seq.push(id);
      if (stop.has(id)) break;
    }
    return out;
  });
}

export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

function sample(logits: ArrayLike<number>, temperature: number, topK: number, rng: Rng): number {
  const idx = Array.from({ length: logits.length }, (_, i) => i);
  let pool = idx;
  if (topK > 0 && topK < logits.length) pool = idx.sort((a, b) => logits[b] - logits[a] || a - b).slice(0, topK);
  let mx = -Infinity;
  for (const i of pool) mx = Math.max(mx, logits[i]);
  const w = pool.map((i) => Math.exp((logits[i] - mx) / temperature));
  const total = w.reduce((a, b) => a + b, 0);
  let r = rng.next() * total;
  for (let k = 0; k < pool.length; k++) { r -= w[k]; if (r <= 0) return pool[k]; }
  return pool[pool.length - 1];
}
