import { Rng, type RngState } from '../util/rng.ts';
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
 * An annealing phase: from batch `fromBatch` on, windows come only from the stream's tail,
 * starting at token `fromToken` (e.g. the part of a corpus written for the end of training).
 */
export interface TailPhase { fromBatch: number; fromToken: number }

/**
 * Random windows of T + 1 tokens from one packed token stream (documents joined with their
 * end-of-text tokens): ids = w[0..T), targets = w[1..T]. Offsets come from a seeded Rng; the
 * position is the Rng state and the number of batches made.
 */
export class PackedLoader implements BatchSource {
  #rng: Rng;
  #made = 0;
  constructor(readonly tokens: Int32Array, readonly B: number, readonly T: number, seed: number, readonly tail: TailPhase | null = null) {
    if (tokens.length < T + 2) throw new RangeError(`token stream of ${tokens.length} is shorter than one window of ${T + 1}`);
    if (tail !== null && tokens.length - tail.fromToken < T + 2) throw new RangeError('the tail phase needs at least one window of tokens');
    this.#rng = new Rng(seed);
  }
  next(): Batch {
    const { B, T, tokens } = this;
    const start = this.tail !== null && this.#made >= this.tail.fromBatch ? this.tail.fromToken : 0;
    this.#made++;
    const ids = new Int32Array(B * T), targets = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const o = start + this.#rng.int(tokens.length - start - T);
      ids.set(tokens.subarray(o, o + T), b * T);
      targets.set(tokens.subarray(o + 1, o + T + 1), b * T);
    }
    return { ids, targets, B, T };
  }
  state(): { rng: RngState; made: number } { return { rng: this.#rng.state(), made: this.#made }; }
  restore(state: unknown): void {
    const s = state as { rng: RngState; made: number };
    this.#rng = Rng.fromState(s.rng);
    this.#made = s.made;
  }
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
