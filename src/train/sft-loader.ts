import type { SftSequence } from '../data/sft-data.ts';
import { Rng, type RngState } from '../util/rng.ts';
import { IGNORE_INDEX } from '../tensor/ops/loss.ts';
import type { Batch, BatchSource } from './batch.ts';

/**
 * SFT batches: epochs of shuffled rows, each batch right-padded to its longest row (padding
 * and prompt positions are IGNORE_INDEX targets). With replay, a share `replay` of the rows
 * of every batch (accumulated exactly over steps) are windows of pretraining-distribution
 * tokens, scored on every token. Position = (rng state, epoch order, cursor, batches made).
 */
export class SftLoader implements BatchSource {
  #rng: Rng;
  #order: number[] = [];
  #cursor = 0;
  #made = 0;
  /** Rows of the last batch that are replay (they come last). */
  lastReplayRows = 0;

  constructor(readonly rows: SftSequence[], readonly B: number, readonly padId: number, seed: number,
    readonly replay = 0, readonly replayTokens: Int32Array | null = null, readonly replayLen = 64) {
    this.#rng = new Rng(seed);
    if (replay > 0 && (replayTokens === null || replayTokens.length < replayLen + 2)) throw new RangeError('replay needs a token stream longer than one window');
  }

  #nextRow(): SftSequence {
    if (this.#cursor >= this.#order.length) {
      this.#order = this.#rng.shuffle(this.rows.map((_, i) => i));
      this.#cursor = 0;
    }
    return this.rows[this.#order[this.#cursor++]];
  }

  next(): Batch {
    const k = this.#made++;
    const nReplay = Math.floor((k + 1) * this.B * this.replay) - Math.floor(k * this.B * this.replay);
    const nSft = Math.max(1, this.B - nReplay);
    const rows = Array.from({ length: nSft }, () => this.#nextRow());
    const T = Math.max(...rows.map((r) => r.ids.length - 1), nReplay > 0 ? this.replayLen : 1);
    const B = nSft + nReplay;
    const ids = new Int32Array(B * T).fill(this.padId), targets = new Int32Array(B * T).fill(IGNORE_INDEX);
    rows.forEach((r, b) => {
      for (let t = 0; t < r.ids.length - 1; t++) {
        ids[b * T + t] = r.ids[t];
        if (r.mask[t + 1]) targets[b * T + t] = r.ids[t + 1];
      }
    });
    for (let j = 0; j < nReplay; j++) {
      const s = this.replayTokens!;
      const o = this.#rng.int(s.length - T - 1);
      const b = nSft + j;
      ids.set(s.subarray(o, o + T), b * T);
      targets.set(s.subarray(o + 1, o + T + 1), b * T);
    }
    this.lastReplayRows = nReplay;
    return { ids, targets, B, T };
  }

  state(): { rng: RngState; order: number[]; cursor: number; made: number } {
    return { rng: this.#rng.state(), order: this.#order.slice(), cursor: this.#cursor, made: this.#made };
  }

  restore(state: unknown): void {
    const s = state as ReturnType<SftLoader['state']>;
    this.#rng = Rng.fromState(s.rng);
    this.#order = s.order.slice();
    this.#cursor = s.cursor;
    this.#made = s.made;
  }
}
