import { lmLoss, type GPT } from '../model/gpt.ts';
import { IGNORE_INDEX } from '../tensor/ops/loss.ts';
import { noGrad, releasing } from '../tensor/tensor.ts';

/** A token sequence of which positions [scoreFrom, length) are scored given everything before. */
export interface ScoreRequest { ids: number[]; scoreFrom: number }

/**
 * Sum of log-probabilities (natural log) of the scored tokens of each request, and how many
 * tokens were scored. Requests are batched by length (right-padded, padding not scored). A
 * request longer than n_ctx + 1 keeps its last n_ctx + 1 tokens (its earliest context is
 * dropped, as lm-eval truncates a context on the left); texts that must be scored whole are
 * split with `rollingWindows` first.
 */
export function scoreSequences(model: GPT, reqs: readonly ScoreRequest[], batchSize = 32): { logprob: number; tokens: number }[] {
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
      releasing(model.backend, () => { lmLoss(model, ids, B, T, targets, per); });   // the scored positions only; its buffers back to the pool
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
 * lm-eval's `loglikelihood_rolling` windows (context_len 1): every token of `tokens` is scored
 * exactly once. The first window predicts tokens[0..n) after `prefix`; each later one predicts
 * the next tokens with the window's earlier tokens as context, the last one filled back to a
 * full n_ctx of context. Summing the windows' log-probabilities gives the whole text's.
 */
export function rollingWindows(tokens: readonly number[], prefix: number, nCtx: number): ScoreRequest[] {
  if (tokens.length === 0) return [];
  const first = Math.min(nCtx, tokens.length);
  const out: ScoreRequest[] = [{ ids: [prefix, ...tokens.slice(0, first)], scoreFrom: 1 }];
  for (let predicted = first; predicted < tokens.length;) {
    const len = Math.min(tokens.length - predicted, nCtx);
    const end = predicted + len;
    const ids = tokens.slice(end - nCtx - 1, end);               // n_ctx inputs + the last target
    out.push({ ids, scoreFrom: ids.length - len });
    predicted = end;
  }
  return out;
}
