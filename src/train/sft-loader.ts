import type { SftSequence } from '../data/sft-data.ts';
import { Rng, type RngState } from '../util/rng.ts';
import { IGNORE_INDEX } from '../tensor/ops/loss.ts';
import type { Batch, BatchSource } from './batch.ts';

/**
 * SFT batches: epochs of shuffled rows, grouped by length (as TRL's group_by_length): the next
 * 8 batches' worth of rows is sorted by length and cut into batches, served in a shuffled order,
 * so each batch is padded (right, IGNORE_INDEX targets on padding and prompts) to a length close
 * to all of its rows'. With replay, a share `replay` of the rows of every batch (accumulated
 * exactly over steps) are windows of pretraining-distribution tokens as long as the batch,
 * scored on every token. Position = (rng state, epoch order, cursor, queued rows, batches made).
 */
export class SftLoader implements BatchSource {
  #rng: Rng;
  #order: number[] = [];
  #cursor = 0;
  #made = 0;
  /** Rows queued for the next batches, in serving order. */
  #queue: number[] = [];
  /** Rows of the last batch that are replay (they come last). */
  lastReplayRows = 0;

  constructor(readonly rows: SftSequence[], readonly B: number, readonly padId: number, seed: number,
    readonly replay = 0, readonly replayTokens: Int32Array | null = null) {
    this.#rng = new Rng(seed);
    if (replay > 0 && (replayTokens === null || replayTokens.length < SftLoader.longestRow(rows) + 2)) throw new RangeError('replay needs a token stream longer than one window');
  }

  /** The longest input of any row: a replay stream needs at least this + 2 tokens. */
  static longestRow(rows: readonly SftSequence[]): number { return rows.reduce((m, r) => Math.max(m, r.ids.length - 1), 1); }

  #nextRow(): number {
    if (this.#cursor >= this.#order.length) {
      this.#order = this.#rng.shuffle(this.rows.map((_, i) => i));
      this.#cursor = 0;
    }
    return this.#order[this.#cursor++];
  }

  /** The next `n` rows: from the queue, refilled with 8 batches' worth sorted by length and cut into shuffled batch-sized chunks. */
  #take(n: number): SftSequence[] {
    while (this.#queue.length < n) {
      const mega = Array.from({ length: 8 * this.B }, () => this.#nextRow());
      mega.sort((a, b) => this.rows[a].ids.length - this.rows[b].ids.length || a - b);
      const chunks: number[][] = [];
      for (let i = 0; i < mega.length; i += this.B) chunks.push(mega.slice(i, i + this.B));
      for (const c of this.#rng.shuffle(chunks)) this.#queue.push(...c);
    }
    return this.#queue.splice(0, n).map((i) => this.rows[i]);
  }

  next(): Batch {
    const k = this.#made++;
    const nReplay = Math.floor((k + 1) * this.B * this.replay) - Math.floor(k * this.B * this.replay);
    const nSft = Math.max(1, this.B - nReplay);
    const rows = this.#take(nSft);
    // replay windows are as long as the batch's longest row: no padding for them
    const T = Math.max(...rows.map((r) => r.ids.length - 1), 1);
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

  state(): { rng: RngState; order: number[]; cursor: number; made: number; queue: number[] } {
    return { rng: this.#rng.state(), order: this.#order.slice(), cursor: this.#cursor, made: this.#made, queue: this.#queue.slice() };
  }

  restore(state: unknown): void {
    const s = state as ReturnType<SftLoader['state']>;
    this.#rng = Rng.fromState(s.rng);
    this.#order = s.order.slice();
    this.#cursor = s.cursor;
    this.#made = s.made;
    this.#queue = (s.queue ?? []).slice();
  }
}
