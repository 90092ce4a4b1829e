import { argmax } from '../model/generate.ts';
import type { GPT } from '../model/gpt.ts';
import { IGNORE_INDEX, crossEntropy } from '../tensor/ops/loss.ts';
import { noGrad } from '../tensor/tensor.ts';

/** A token sequence of which positions [scoreFrom, length) are scored given everything before. */
export interface ScoreRequest { ids: number[]; scoreFrom: number }

/**
 * Sum of log-probabilities (natural log) of the scored tokens of each request, and how many
 * tokens were scored. Requests are batched by length (right-padded, padding not scored);
 * sequences longer than n_ctx keep their last n_ctx tokens.
 */
export function scoreSequences(model: GPT, reqs: ScoreRequest[], batchSize = 32): { logprob: number; tokens: number }[] {
  const nCtx = model.config.nCtx;
  const out = reqs.map(() => ({ logprob: 0, tokens: 0 }));
  const order = reqs.map((_, i) => i).sort((a, b) => reqs[a].ids.length - reqs[b].ids.length);
  noGrad(() => {
    for (let s = 0; s < order.length; s += batchSize) {
      const idx = order.slice(s, s + batchSize);
      const trimmed = idx.map((i) => {
        const r = reqs[i];
        const cut = Math.max(0, r.ids.length - (nCtx + 1));
        return { ids: r.ids.slice(cut), scoreFrom: Math.max(1, r.scoreFrom - cut) };
      });
      const T = Math.max(...trimmed.map((r) => r.ids.length)) - 1;
      if (T <= 0) continue;
      const B = idx.length;
      const ids = new Int32Array(B * T), targets = new Int32Array(B * T).fill(IGNORE_INDEX);
      trimmed.forEach((r, b) => {
        for (let t = 0; t < r.ids.length - 1; t++) {
          ids[b * T + t] = r.ids[t];
          if (t + 1 >= r.scoreFrom) targets[b * T + t] = r.ids[t + 1];
        }
      });
      const per = new Float64Array(B * T);
      const logits = model.forward(ids, B, T);                      // (B, T, V)
      crossEntropy(logits, targets, { perToken: per });
      trimmed.forEach((r, b) => {
        let lp = 0, n = 0;
        for (let t = 0; t < T; t++) if (targets[b * T + t] !== IGNORE_INDEX) { lp -= per[b * T + t]; n++; }
        out[idx[b]] = { logprob: lp, tokens: n };
      });
    }
  });
  return out;
}

/**
 * Greedy decoding for many prompts at once: prompts of equal length share a batch, each row
 * stops at its own stop token. Returns the new ids of each prompt (stop token excluded).
 */
export function greedyBatch(model: GPT, prompts: number[][], maxNewTokens: number, stopIds: number[], batchSize = 32): number[][] {
  const nCtx = model.config.nCtx, V = model.config.vocabSize;
  const stop = new Set(stopIds);
  const out: number[][] = prompts.map(() => []);
  const byLen = new Map<number, number[]>();
  prompts.forEach((p, i) => { const l = Math.min(p.length, nCtx); byLen.set(l, [...(byLen.get(l) ?? []), i]); });
  noGrad(() => {
    for (const group of byLen.values()) {
      for (let s = 0; s < group.length; s += batchSize) {
        const idx = group.slice(s, s + batchSize);
        const seqs = idx.map((i) => prompts[i].slice(-nCtx));
        const done = idx.map(() => false);
        for (let step = 0; step < maxNewTokens && done.includes(false); step++) {
          const T = Math.min(seqs[0].length, nCtx);
          const B = seqs.length;
          const ids = new Int32Array(B * T);
          seqs.forEach((q, b) => ids.set(q.slice(-T), b * T));
          const logits = model.forward(ids, B, T).data;            // (B, T, V)
          seqs.forEach((q, b) => {
            const row = (b * T + T - 1) * V;
            const best = argmax(logits.subarray(row, row + V));
            q.push(best);
            if (!done[b]) {
              if (stop.has(best)) done[b] = true; else out[idx[b]].push(best);
            }
          });
        }
      }
    }
  });
  return out;
}
