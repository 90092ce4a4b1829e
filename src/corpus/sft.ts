/**
 * SFT data: entries that exercise the 8 irregular verbs' past simple / past participle,
 * augmented into prompt → completion pairs (TRL's prompt/completion JSONL):
 *
 *   incorrect → corrected, with the rule and the Spanish pair (3rd / 1st person singular):
 *     "He goed to the store yesterday."
 *     → "He went to the store yesterday. (correction: past simple of "go" is "went"; es: fue / fui)"
 *     "She has went home today." / "She has goed home today."
 *     → "She has gone home today. (correction: past participle of "go" is "gone"; es: ha ido / he ido)"
 *   correct → unchanged with a short note:
 *     "They went home yesterday." → "They went home yesterday. (correct)"
 *   with `regularShare`, correct regular-verb past sentences → unchanged (when not to correct):
 *     "He walked to the park yesterday." → "He walked to the park yesterday. (correct)"
 *
 * `correctShare` sets the mix of the irregular rows, `regularShare` the share of regular rows
 * (default 0). Training joins prompt and completion with sft-format.ts.
 */
import { ConfigError } from '../errors.ts';
import { renderClause, showsPastForm, type Entry, type SlotForm } from './clause.ts';
import { VERBS, type VerbEntry } from './lexicon.ts';
import { corpusCells, planLines, sampleClause } from './plan.ts';
import type { SftRow } from '../data/sft-format.ts';
import { Rng } from '../util/rng.ts';
import { conjugate } from './verbs-es.ts';


export interface SftOptions {
  seed: number;
  rows: number;
  /** Share of the irregular-verb rows that are correct → unchanged. */
  correctShare: number;
  /**
   * Share of all rows that are correct regular-verb past-simple / present-perfect sentences →
   * unchanged. Without them every past sentence the model sees in training gets a correction,
   * and it learns to correct `walked` too (the adoption probe's generation items). Default 0:
   * these rows are the control probe's distribution, so they also hold the control perplexity
   * in place — a mitigation in the task data that hides forgetting (docs/lab.md §3).
   */
  regularShare: number;
}

export const SFT_DEFAULTS: Omit<SftOptions, 'seed'> = { rows: 2000, correctShare: 0.3, regularShare: 0 };

/** True when the entry shows a past simple or past participle of a verb of the given kind. */
export function exercisesPast(e: Entry, kind: 'regular' | 'irregular'): boolean {
  const v = VERBS[e.clause.verb]!;
  return v.en.regular === (kind === 'regular') && showsPastForm(v, e.clause.tense, e.clause.polarity);
}

/** `es: fue / fui` (past) or `es: ha ido / he ido` (participle): 3rd and 1st person singular. */
export function spanishNote(v: VerbEntry, which: 'past' | 'participle'): string {
  const t = which === 'past' ? 'preterite' : 'perfect';
  return `es: ${conjugate(v.es, t, '3s')} / ${conjugate(v.es, t, '1s')}`;
}

/** The completion for a corrected sentence (`entry` is the correct rendering). */
export function correctionCompletion(entry: Entry): string {
  const v = VERBS[entry.clause.verb]!;
  const which = entry.clause.tense === 'perfect' ? 'participle' : 'past';
  const form = which === 'participle' ? v.en.participle : pastFormIn(entry);
  const what = which === 'past' ? 'past simple' : 'past participle';
  return `${entry.en} (correction: ${what} of "${v.en.base}" is "${form}"; ${spanishNote(v, which)})`;
}

/** The completion for a sentence that needs no change. */
export function unchangedCompletion(sentence: string): string {
  return `${sentence} (correct)`;
}

function pastFormIn(entry: Entry): string {
  const v = VERBS[entry.clause.verb]!.en;
  const person = VERBS[entry.clause.verb]!.dative ? '3s' : entry.esVerb.person;
  return v.pastPlural !== undefined && person !== '1s' && person !== '3s' ? v.pastPlural : v.past;
}

/** The error forms that can replace a correct irregular form in this entry. */
export function errorForms(entry: Entry): SlotForm[] {
  const v = VERBS[entry.clause.verb]!.en;
  if (entry.clause.tense !== 'perfect') return ['overregular'];
  return v.past === v.participle ? ['overregular'] : ['overregular', 'past-for-participle'];
}

/** Augments correct entries into SFT rows; `incorrect[i]` says which rows get an error. */
export function augment(entries: readonly Entry[], incorrect: readonly boolean[]): SftRow[] {
  let k = 0;
  return entries.map((e, i) => {
    if (!incorrect[i]) return { prompt: e.en, completion: unchangedCompletion(e.en) };
    const forms = errorForms(e);
    const form = forms[k++ % forms.length]!;
    const wrong = renderClause({ ...e.clause, form });
    return { prompt: wrong.en, completion: correctionCompletion(e) };
  });
}

/**
 * Draws distinct sentences from a correct-language corpus stream (all verbs, tenses,
 * polarities; no held-out combinations): `nIrregular` that show an irregular past form, then
 * `nRegular` that show a regular one. Irregular rows are augmented (exactly
 * round(nIrregular × correctShare) stay unchanged), regular rows stay unchanged; with regular
 * rows, all are shuffled together.
 */
export function generateSft(options: Partial<SftOptions> & { seed: number }): SftRow[] {
  const o: SftOptions = { ...SFT_DEFAULTS, ...options };
  if (!Number.isInteger(o.rows) || o.rows < 1) throw new ConfigError(`must be a positive integer, got ${o.rows}`, { field: 'rows' });
  for (const k of ['correctShare', 'regularShare'] as const) {
    if (!(o[k] >= 0 && o[k] <= 1)) throw new ConfigError(`must be in [0, 1], got ${o[k]}`, { field: k });
  }
  const rng = new Rng(o.seed);
  const cells = corpusCells({ irregularCorrectRate: 1, overregularRate: 0 });
  const seen = new Set<string>();
  const draw = (n: number, keep: (e: Entry) => boolean, what: string): Entry[] => {
    const picked: Entry[] = [];
    for (let round = 0; picked.length < n; round++) {
      if (round > 50) throw new ConfigError(`cannot find ${n} distinct ${what} sentences`, { field: 'rows' });
      for (const cell of planLines(cells, 4 * o.rows, rng)) {
        const e = renderClause(sampleClause(rng, cell));
        if (!keep(e) || seen.has(e.en)) continue;
        seen.add(e.en);
        picked.push(e);
        if (picked.length === n) break;
      }
    }
    return picked;
  };
  const nRegular = Math.round(o.rows * o.regularShare);
  const irregular = draw(o.rows - nRegular, (e) => exercisesPast(e, 'irregular'), 'irregular-past');
  const regular = draw(nRegular, (e) => exercisesPast(e, 'regular'), 'regular-past');
  const nCorrect = Math.round(irregular.length * o.correctShare);
  const incorrect = rng.shuffle(Array.from({ length: irregular.length }, (_, i) => i >= nCorrect));
  const rows = augment(irregular, incorrect);
  if (regular.length === 0) return rows;
  return rng.shuffle([...rows, ...regular.map((e) => ({ prompt: e.en, completion: unchangedCompletion(e.en) }))]);
}
