import { Rng } from '../util/rng.ts';
import { noGrad, releasing } from '../tensor/tensor.ts';
import type { GPT } from './gpt.ts';

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 = greedy (argmax). */
  temperature?: number;
  /** Sample only among the k most likely tokens (0 = all). */
  topK?: number;
  /** Stop at any of these ids; the stop id is not part of the output. */
  stopIds?: number[];
  /** Seeded sampler (required when temperature > 0). */
  rng?: Rng;
  /** Prompts decoded together (default 32). */
  batchSize?: number;
}

/** The new ids of one prompt, and whether a stop id ended it (else maxNewTokens did). */
export interface Decoded { ids: number[]; stopped: boolean }

/**
 * The one decoder: autoregressive decoding of many prompts at once (prompts of equal length
 * share a batch; each row stops at its own stop id, which is left out of the output). The
 * context is cropped to the model's n_ctx, keeping the most recent tokens. Sampling draws
 * from `rng` step by step, row by row within a batch.
 */
export function decodeBatch(model: GPT, prompts: readonly number[][], o: GenerateOptions): Decoded[] {
  const temperature = o.temperature ?? 0, topK = o.topK ?? 0, batchSize = o.batchSize ?? 32;
  if (temperature > 0 && o.rng === undefined) throw new RangeError('sampling with temperature > 0 needs a seeded rng');
  const nCtx = model.config.nCtx, V = model.config.vocabSize;
  const stop = new Set(o.stopIds ?? []);
  const out: Decoded[] = prompts.map(() => ({ ids: [], stopped: false }));
  const byLen = new Map<number, number[]>();
  prompts.forEach((p, i) => { const l = Math.min(p.length, nCtx); byLen.set(l, [...(byLen.get(l) ?? []), i]); });
  const pick = (row: ArrayLike<number>, b: number, live: boolean[]) => (!live[b] ? 0 : temperature === 0 ? argmax(row) : sample(row, temperature, topK, o.rng!));
  noGrad(() => {
    for (const group of byLen.values()) {
      for (let s = 0; s < group.length; s += batchSize) {
        const idx = group.slice(s, s + batchSize);
        const seqs = idx.map((i) => prompts[i].slice(-nCtx));
        const live = idx.map(() => true);
        const L = seqs[0].length, B = seqs.length;
        if (L > 0 && L + o.maxNewTokens <= nCtx) {
          // within the context: incremental decoding with a key/value cache, one position per step
          const cache = model.newCache(B, L + o.maxNewTokens);
          let logits: Float32Array<ArrayBufferLike> = new Float32Array(0);
          logits = model.step(Int32Array.from(seqs.flat()), cache, L);                                  // the prompts at once → (B, V)
          for (let step = 0; step < o.maxNewTokens && live.includes(true); step++) {
            const next = new Int32Array(B);
            for (let b = 0; b < B; b++) {
              const id = pick(logits.subarray(b * V, (b + 1) * V), b, live);
              next[b] = id;
              if (!live[b]) continue;
              if (stop.has(id)) { live[b] = false; out[idx[b]].stopped = true; } else out[idx[b]].ids.push(id);
            }
            if (step + 1 < o.maxNewTokens && live.includes(true)) logits = model.step(next, cache);
          }
          continue;
        }
        // past the context: recompute the most recent n_ctx tokens each step
        for (let step = 0; step < o.maxNewTokens && live.includes(true); step++) {
          const T = Math.min(seqs[0].length, nCtx);
          const B = seqs.length;
          const ids = new Int32Array(B * T);
          seqs.forEach((q, b) => ids.set(q.slice(-T), b * T));
          releasing(model.backend, () => {
            const logits = model.forward(ids, B, T);                 // (B, T, V)
            seqs.forEach((q, b) => {
              const id = pick(logits.data.subarray((b * T + T - 1) * V, (b * T + T) * V) as Float32Array, b, live);
              q.push(id);
              if (!live[b]) return;
              if (stop.has(id)) { live[b] = false; out[idx[b]].stopped = true; } else out[idx[b]].ids.push(id);
            });
          });
        }
      }
    }
  });
  return out;
}

/** One prompt: the new ids (stop id excluded). */
export function generate(model: GPT, prompt: number[], o: GenerateOptions): number[] {
  return decodeBatch(model, [prompt], o)[0].ids;
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
