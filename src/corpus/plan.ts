/**
 * The corpus plan: how many lines of each kind (verb × tense × polarity × slot form). Counts
 * come from weights by largest-remainder rounding, independent of the seed, so every seed
 * gives the same statistics; the seed only picks the words and the order.
 */
import { showsPastForm, type Clause, type Polarity, type SlotForm } from './clause.ts';
import { poolOf, type Pool } from './heldout.ts';
import { ADVERBIALS, SUBJECTS, TENSES, VERBS, type Tense } from './lexicon.ts';
import type { Rng } from '../util/rng.ts';

export interface Cell { verb: number; tense: Tense; polarity: Polarity; form: SlotForm; weight: number }

export const POLARITY_WEIGHTS: Readonly<Record<Polarity, number>> = { affirmative: 0.6, negative: 0.2, question: 0.2 };

/**
 * Polarities generated per tense. Past simple is affirmative only: its negatives and
 * questions use "did" (didn't go, did she go), the past simple of "do", which would make that
 * irregular form common.
 */
export function polarityWeights(tense: Tense): [Polarity, number][] {
  return tense === 'past' ? [['affirmative', 1]] : Object.entries(POLARITY_WEIGHTS) as [Polarity, number][];
}

export interface MixOptions {
  /** Of the irregular verbs' past-simple / participle slots, the share written correctly. */
  irregularCorrectRate: number;
  /** … the share written over-regularized ("goed", "has eated"). The rest move to present/future. */
  overregularRate: number;
}

/**
 * Every verb and tense equally likely, polarity by POLARITY_WEIGHTS. For the 8 irregular verbs,
 * the mass of clauses that would show a past form is split: `irregularCorrectRate` correct,
 * `overregularRate` over-regularized, the rest moved to the same verb's present and future.
 */
export function corpusCells(mix: MixOptions): Cell[] {
  const cells: Cell[] = [];
  const w0 = 1 / VERBS.length / TENSES.length;
  VERBS.forEach((v, verb) => {
    const own: Cell[] = [];
    let moved = 0;
    for (const tense of TENSES) {
      for (const [polarity, pw] of polarityWeights(tense)) {
        const weight = w0 * pw;
        if (!v.en.regular && showsPastForm(v, tense, polarity)) {
          own.push({ verb, tense, polarity, form: 'correct', weight: weight * mix.irregularCorrectRate });
          own.push({ verb, tense, polarity, form: 'overregular', weight: weight * mix.overregularRate });
          moved += weight * (1 - mix.irregularCorrectRate - mix.overregularRate);
        } else {
          own.push({ verb, tense, polarity, form: 'correct', weight });
        }
      }
    }
    // moved mass: to present and future, split like their own weights
    const targets = own.filter((c) => c.tense === 'present' || c.tense === 'future');
    const total = targets.reduce((s, c) => s + c.weight, 0);
    for (const c of targets) c.weight += moved * (c.weight / total);
    cells.push(...own.filter((c) => c.weight > 0));
  });
  return cells;
}

/** Largest-remainder rounding of `weights` (any scale) to integers summing to n. */
export function apportion(weights: readonly number[], n: number): number[] {
  const total = weights.reduce((s, w) => s + w, 0);
  const exact = weights.map((w) => (w / total) * n);
  const counts = exact.map(Math.floor);
  let left = n - counts.reduce((s, c) => s + c, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k++, left--) counts[order[k % order.length]![1]]!++;
  return counts;
}

/** The cells of a plan of n lines, in a seeded random order. */
export function planLines(cells: readonly Cell[], n: number, rng: Rng): Cell[] {
  const counts = apportion(cells.map((c) => c.weight), n);
  const lines: Cell[] = [];
  cells.forEach((c, i) => { for (let k = 0; k < counts[i]!; k++) lines.push(c); });
  return rng.shuffle(lines);
}

/**
 * Picks subject, complement and adverbial uniformly among the combinations of one pool: the
 * training text's, or the dev or test half of the held-out probe combinations.
 */
export function sampleClause(rng: Rng, cell: Omit<Cell, 'weight'>, pool: Pool = 'train'): Clause {
  const nComp = VERBS[cell.verb]!.complements.length;
  const nAdv = ADVERBIALS[cell.tense].length;
  for (;;) {
    const subject = rng.int(SUBJECTS.length), complement = rng.int(nComp), adverbial = rng.int(nAdv);
    if (poolOf(cell.verb, subject, complement, adverbial) === pool) {
      return { verb: cell.verb, subject, complement, adverbial, tense: cell.tense, polarity: cell.polarity, form: cell.form };
    }
  }
}
