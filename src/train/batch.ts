import { Rng, type RngState } from '../data/rng.ts';
import { IGNORE_INDEX } from '../tensor/ops/loss.ts';

/** One training batch: ids and next-token targets (IGNORE_INDEX where not scored), (B, T). */
export interface Batch { ids: Int32Array; targets: Int32Array; B: number; T: number }

/** A deterministic source of batches whose position can be saved and restored (exact resume). */
export interface BatchSource {
  next(): Batch;
  state(): unknown;
  restore(state: unknown): void;
}

/**
 * Random windows of T + 1 tokens from one packed token stream (documents joined with their
 * end-of-text tokens): ids = w[0..T), targets = w[1..T]. Offsets come from a seeded Rng, so
 * the position is the Rng state.
 */
export class PackedLoader implements BatchSource {
  #rng: Rng;
  constructor(readonly tokens: Int32Array, readonly B: number, readonly T: number, seed: number) {
    if (tokens.length < T + 2) throw new RangeError(`token stream of ${tokens.length} is shorter than one window of ${T + 1}`);
    this.#rng = new Rng(seed);
  }
  next(): Batch {
    const { B, T, tokens } = this;
    const ids = new Int32Array(B * T), targets = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const o = this.#rng.int(tokens.length - T);
      ids.set(tokens.subarray(o, o + T), b * T);
      targets.set(tokens.subarray(o + 1, o + T + 1), b * T);
    }
    return { ids, targets, B, T };
  }
  state(): RngState { return this.#rng.state(); }
  restore(state: unknown): void { this.#rng = Rng.fromState(state as RngState); }
}

/**
 * Fixed held-out windows covering a token stream in order (no randomness): the same
 * evaluation batches every time.
 */
export function heldOutBatches(tokens: Int32Array, B: number, T: number, maxBatches: number): Batch[] {
  const out: Batch[] = [];
  const windows = Math.floor((tokens.length - 1) / T);
  for (let w = 0; w < windows && out.length < maxBatches; w += B) {
    const nb = Math.min(B, windows - w);
    const ids = new Int32Array(nb * T), targets = new Int32Array(nb * T).fill(IGNORE_INDEX);
    for (let b = 0; b < nb; b++) {
      const o = (w + b) * T;
      ids.set(tokens.subarray(o, o + T), b * T);
      targets.set(tokens.subarray(o + 1, o + T + 1), b * T);
    }
    out.push({ ids, targets, B: nb, T });
  }
  return out;
}
