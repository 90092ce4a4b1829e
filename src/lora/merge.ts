import { Rng } from '../util/rng.ts';
import { CheckpointError } from '../errors.ts';
import type { GPT } from '../model/gpt.ts';
import { noGrad, releasing } from '../tensor/tensor.ts';
import { mergeAll, type Adapters } from './inject.ts';

/**
 * Merges every adapter into its base weight and verifies the result: the largest |Δlogit|
 * between adapter-on and merged over `sequences` (token ids). Throws CheckpointError above
 * `tolerance`. Returns the measured difference.
 */
export function mergeAndVerify(model: GPT, adapters: Adapters, sequences: number[][], tolerance: number): { maxAbsDiff: number; maxAbsLogit: number } {
  const logits = (): Float32Array[] => noGrad(() => sequences.map((s) => {
    const ids = Int32Array.from(s.slice(0, model.config.nCtx));
    return releasing(model.backend, () => model.forward(ids, 1, ids.length).data.slice() as Float32Array);
  }));
  const before = logits();
  mergeAll(adapters);
  const after = logits();
  let maxAbsDiff = 0, maxAbsLogit = 0;
  before.forEach((b, k) => {
    for (let i = 0; i < b.length; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(b[i] - after[k][i]));
      maxAbsLogit = Math.max(maxAbsLogit, Math.abs(b[i]));
    }
  });
  if (!(maxAbsDiff <= tolerance)) {
    throw new CheckpointError(`merged model differs from adapter-on by max |Δlogit| ${maxAbsDiff.toExponential(2)} > tolerance ${tolerance}`);
  }
  return { maxAbsDiff, maxAbsLogit };
}

/** Deterministic token sequences for the check when no probe text is given. */
export function randomSequences(vocab: number, n: number, len: number, seed = 0): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => Array.from({ length: len }, () => rng.int(vocab)));
}
