/**
 * Probe sets for the verb lab, built only from held-out combinations (heldout.ts), so no probe
 * sentence occurs in the pretraining or SFT text.
 *
 * - task:     irregular past simple / past participle minimal pairs
 *             ("He went …" vs "He goed …"; "She has eaten …" vs "has eated", "has ate"),
 *             and generate items in the SFT format (incorrect sentence → correction).
 * - control:  regular verbs in past simple: text items (perplexity) and pairs against
 *             "-en" and bare forms ("worked" vs "worken", "work").
 * - adoption: regular verbs pulled toward irregular-looking forms ("walked" vs "walken",
 *             "has walked" vs "has walken"), and correct regular sentences in the SFT format
 *             that must come back unchanged ("… (correct)").
 * - echo:     `sentence<|sep|>` → sentence, the copying skill pretraining installs.
 */
import { renderClause, type Clause, type Entry, type Polarity, type SlotForm } from './clause.ts';
import { TENSES, VERBS, type Tense } from './lexicon.ts';
import { polarityWeights, sampleClause } from './plan.ts';
import type { ProbeRecord } from './probes.ts';
import { Rng } from './rng.ts';
import { sftPrompt } from './sft-format.ts';
import { correctionCompletion, errorForms, unchangedCompletion } from './sft.ts';

export interface ProbeOptions {
  seed: number;
  /** Per irregular verb and form (past, participle). */
  taskPairs: number;
  taskGenerate: number;
  /** Per regular verb. */
  controlText: number;
  controlPairs: number;
  adoptionPairs: number;
  adoptionGenerate: number;
  /** Total echo items. */
  echo: number;
}

export const PROBE_DEFAULTS: Omit<ProbeOptions, 'seed'> = {
  taskPairs: 12, taskGenerate: 4, controlText: 10, controlPairs: 5, adoptionPairs: 4, adoptionGenerate: 2, echo: 100,
};

export interface ProbeSets { task: ProbeRecord[]; control: ProbeRecord[]; adoption: ProbeRecord[]; echo: ProbeRecord[] }

const POLARITIES: readonly Polarity[] = ['affirmative', 'negative', 'question'];
const irregular = VERBS.flatMap((v, i) => (v.en.regular ? [] : [i]));
const regular = VERBS.flatMap((v, i) => (v.en.regular ? [i] : []));

/** Draws distinct held-out entries (by English sentence) for one verb / tense / polarity. */
class Drawer {
  #seen = new Set<string>();
  constructor(readonly rng: Rng) {}
  draw(verb: number, tense: Tense, polarity: Polarity): Entry {
    for (let attempt = 0; ; attempt++) {
      const e = renderClause(sampleClause(this.rng, { verb, tense, polarity, form: 'correct' }, true));
      if (!this.#seen.has(e.en) || attempt > 200) { this.#seen.add(e.en); return e; }
    }
  }
}

const withForm = (c: Clause, form: SlotForm): string => renderClause({ ...c, form }).en;

export function generateProbes(options: Partial<ProbeOptions> & { seed: number }): ProbeSets {
  const o: ProbeOptions = { ...PROBE_DEFAULTS, ...options };
  const rng = new Rng(o.seed);
  const task: ProbeRecord[] = [], control: ProbeRecord[] = [], adoption: ProbeRecord[] = [], echo: ProbeRecord[] = [];

  // task
  const taskDraw = new Drawer(rng);
  for (const verb of irregular) {
    const base = VERBS[verb]!.en.base;
    for (const form of ['past', 'participle'] as const) {
      const tags = { verb: base, form };
      const draw = (k: number) => form === 'past'
        ? taskDraw.draw(verb, 'past', 'affirmative')
        : taskDraw.draw(verb, 'perfect', POLARITIES[k % 3]!);
      for (let k = 0; k < o.taskPairs; k++) {
        const e = draw(k);
        task.push({ kind: 'pair', good: e.en, bad: errorForms(e).map((f) => withForm(e.clause, f)), probe: 'task', tags });
      }
      for (let k = 0; k < o.taskGenerate; k++) {
        const e = draw(k);
        const forms = errorForms(e);
        const wrong = withForm(e.clause, forms[k % forms.length]!);
        task.push({ kind: 'generate', prompt: sftPrompt(wrong), expected: correctionCompletion(e), probe: 'task', tags });
      }
    }
  }

  // control
  const controlDraw = new Drawer(rng);
  for (const verb of regular) {
    const tags = { verb: VERBS[verb]!.en.base, form: 'past' };
    for (let k = 0; k < o.controlText; k++) {
      control.push({ kind: 'text', text: controlDraw.draw(verb, 'past', 'affirmative').en, probe: 'control', tags });
    }
    for (let k = 0; k < o.controlPairs; k++) {
      const e = controlDraw.draw(verb, 'past', 'affirmative');
      control.push({ kind: 'pair', good: e.en, bad: [withForm(e.clause, 'en-lure'), withForm(e.clause, 'base')], probe: 'control', tags });
    }
  }

  // adoption
  const adoptionDraw = new Drawer(rng);
  for (const verb of regular) {
    const base = VERBS[verb]!.en.base;
    for (let k = 0; k < o.adoptionPairs; k++) {
      const past = k % 2 === 0;
      const e = past ? adoptionDraw.draw(verb, 'past', 'affirmative') : adoptionDraw.draw(verb, 'perfect', 'affirmative');
      adoption.push({ kind: 'pair', good: e.en, bad: [withForm(e.clause, 'en-lure')], probe: 'adoption', tags: { verb: base, form: past ? 'past' : 'participle' } });
    }
    for (let k = 0; k < o.adoptionGenerate; k++) {
      const e = adoptionDraw.draw(verb, 'past', 'affirmative');
      adoption.push({ kind: 'generate', prompt: sftPrompt(e.en), expected: unchangedCompletion(e.en), probe: 'adoption', tags: { verb: base, form: 'past' } });
    }
  }

  // echo: any verb, tense and polarity
  const echoDraw = new Drawer(rng);
  for (let k = 0; k < o.echo; k++) {
    const verb = rng.int(VERBS.length);
    const tense = TENSES[rng.int(TENSES.length)]!;
    const pols = polarityWeights(tense);
    const e = echoDraw.draw(verb, tense, pols[rng.int(pols.length)]![0]);
    echo.push({ kind: 'generate', prompt: sftPrompt(e.en), expected: e.en, probe: 'echo', tags: { verb: VERBS[verb]!.en.base, tense } });
  }
  return { task, control, adoption, echo };
}
