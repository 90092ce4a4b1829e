/**
 * Probe sets for the verb lab, built only from held-out combinations (heldout.ts), so no probe
 * sentence occurs in the pretraining or SFT text — and written twice, from the two disjoint
 * halves of those combinations: `dev` (what selection reads) and `test` (what is reported).
 *
 * - task:     irregular past simple / past participle minimal pairs
 *             ("He went …" vs "He goed …"; "She has eaten …" vs "has eated", "has ate"),
 *             and generate items in the SFT format (incorrect sentence → correction). Role task.
 * - control:  regular verbs in past simple: text items (perplexity) and pairs against
 *             "-en" and bare forms ("worked" vs "worken", "work"). Role control.
 * - adoption: regular verbs pulled toward irregular-looking forms ("walked" vs "walken",
 *             "has walked" vs "has walken"), and correct regular sentences in the SFT format
 *             that must come back unchanged ("… (correct)"). Role adoption.
 * - generalization: the task's verbs in arrangements the generator never writes for training —
 *             a fronted time adverbial ("Yesterday, he went …"), a subordinate clause before the
 *             verb ("After my sister worked at home, he went …"), a coordinated subject ("Tom and
 *             Maria went …"), and "Did … ?" questions, where the base form is right ("Did he go …?"
 *             vs "Did he went / goed …?"); pairs, and generate items for the first two. No role:
 *             reported beside the task probe, read by no verdict.
 * - echo:     `sentence<|sep|>` → sentence, the copying skill pretraining installs.
 */
import { cap, englishParts, join, renderClause, type Clause, type Entry, type Polarity, type SlotForm } from './clause.ts';
import type { Pool } from './heldout.ts';
import { ADVERBIALS, SUBJECTS, TENSES, VERBS, type Tense } from './lexicon.ts';
import { polarityWeights, sampleClause } from './plan.ts';
import type { ProbeRecord, ProbeSplit } from '../data/probes.ts';
import { Rng } from '../util/rng.ts';
import { sftPrompt } from '../data/sft-format.ts';
import { correctionCompletion, errorForms, unchangedCompletion } from './sft.ts';

export interface ProbeOptions {
  seed: number;
  /** Per irregular verb and form (past, participle), per split. */
  taskPairs: number;
  taskGenerate: number;
  /** Per regular verb, per split. */
  controlText: number;
  controlPairs: number;
  adoptionPairs: number;
  adoptionGenerate: number;
  /** Per irregular verb and arrangement, per split. */
  generalizationPairs: number;
  /** Per irregular verb, per split. */
  generalizationGenerate: number;
  /** Total echo items, per split. */
  echo: number;
}

export const PROBE_DEFAULTS: Omit<ProbeOptions, 'seed'> = {
  taskPairs: 12, taskGenerate: 4, controlText: 10, controlPairs: 5, adoptionPairs: 4, adoptionGenerate: 2,
  generalizationPairs: 3, generalizationGenerate: 2, echo: 100,
};

export const PROBE_GROUPS = ['task', 'control', 'adoption', 'generalization', 'echo'] as const;
export type ProbeGroup = (typeof PROBE_GROUPS)[number];
export type ProbeSet = Record<ProbeGroup, ProbeRecord[]>;
export type ProbeSets = Record<ProbeSplit, ProbeSet>;

const POLARITIES: readonly Polarity[] = ['affirmative', 'negative', 'question'];
const irregular = VERBS.flatMap((v, i) => (v.en.regular ? [] : [i]));
const regular = VERBS.flatMap((v, i) => (v.en.regular ? [i] : []));

/** Draws distinct held-out entries (by English sentence) of one pool for one verb / tense / polarity. */
class Drawer {
  #seen = new Set<string>();
  constructor(readonly rng: Rng, readonly pool: Pool) {}
  draw(verb: number, tense: Tense, polarity: Polarity): Entry {
    for (let attempt = 0; ; attempt++) {
      const e = renderClause(sampleClause(this.rng, { verb, tense, polarity, form: 'correct' }, this.pool));
      if (!this.#seen.has(e.en) || attempt > 200) { this.#seen.add(e.en); return e; }
    }
  }
}

const withForm = (c: Clause, form: SlotForm): string => renderClause({ ...c, form }).en;

/** The arrangements of the generalization probe. */
export const ARRANGEMENTS = ['fronted-adverbial', 'subordinate-first', 'coordinated-subject', 'did-question'] as const;
type Arrangement = (typeof ARRANGEMENTS)[number];

/** A sentence of `c` (with its slot filled by `form`) in a non-template arrangement; `ctx` supplies the other clause's words. */
function arrange(c: Clause, form: SlotForm, how: Arrangement, ctx: Context): string {
  const cl = { ...c, form };
  if (how === 'fronted-adverbial') {
    const p = englishParts(cl);
    return `${cap(p.adverbial)}, ${join([p.subject, p.verb, p.complement])}.`;
  }
  if (how === 'subordinate-first') {
    const p = englishParts(cl), s = englishParts(ctx.sub);
    const conj = c.tense === 'perfect' ? 'Because' : 'After';
    return `${conj} ${join([s.subject, s.verb, s.complement])}, ${join([p.subject, p.verb, p.complement, p.adverbial])}.`;
  }
  if (how === 'coordinated-subject') {
    const p = englishParts(cl, '3p');
    // two noun subjects ("my sister and Tom"); a pronoun subject is replaced by a second partner
    const subj = SUBJECTS[c.subject]!;
    const both = `${subj.pronoun ? SUBJECTS[ctx.partner2]!.en : subj.en} and ${SUBJECTS[ctx.partner]!.en}`;
    return `${cap(join([both, p.verb, p.complement, p.adverbial]))}.`;
  }
  // "Did … ?": do-support takes the base form; the past (and the over-regularized form) are the errors
  const p = englishParts({ ...c, polarity: 'question', form: 'correct' });
  const v = VERBS[c.verb]!.en;
  const main = form === 'correct' ? v.base : form === 'overregular' ? (v.overregular ?? v.past) : v.past;
  return `Did ${join([p.subject, main, p.complement, p.adverbial])}?`;
}

/** The probe sets of one split, drawn from its half of the held-out combinations. */
function probesOf(o: ProbeOptions, split: ProbeSplit, rng: Rng): ProbeSet {
  const set: ProbeSet = { task: [], control: [], adoption: [], generalization: [], echo: [] };
  const meta = (role?: 'task' | 'control' | 'adoption') => ({ ...(role ? { role } : {}), split });

  // task
  const taskDraw = new Drawer(rng, split);
  for (const verb of irregular) {
    const base = VERBS[verb]!.en.base;
    for (const form of ['past', 'participle'] as const) {
      const tags = { verb: base, form };
      const draw = (k: number) => form === 'past'
        ? taskDraw.draw(verb, 'past', 'affirmative')
        : taskDraw.draw(verb, 'perfect', POLARITIES[k % 3]!);
      for (let k = 0; k < o.taskPairs; k++) {
        const e = draw(k);
        set.task.push({ kind: 'pair', good: e.en, bad: errorForms(e).map((f) => withForm(e.clause, f)), probe: 'task', ...meta('task'), tags });
      }
      for (let k = 0; k < o.taskGenerate; k++) {
        const e = draw(k);
        const forms = errorForms(e);
        const wrong = withForm(e.clause, forms[k % forms.length]!);
        set.task.push({ kind: 'generate', prompt: sftPrompt(wrong), expected: correctionCompletion(e), probe: 'task', ...meta('task'), tags });
      }
    }
  }

  // control
  const controlDraw = new Drawer(rng, split);
  for (const verb of regular) {
    const tags = { verb: VERBS[verb]!.en.base, form: 'past' };
    for (let k = 0; k < o.controlText; k++) {
      set.control.push({ kind: 'text', text: controlDraw.draw(verb, 'past', 'affirmative').en, probe: 'control', ...meta('control'), tags });
    }
    for (let k = 0; k < o.controlPairs; k++) {
      const e = controlDraw.draw(verb, 'past', 'affirmative');
      set.control.push({ kind: 'pair', good: e.en, bad: [withForm(e.clause, 'en-lure'), withForm(e.clause, 'base')], probe: 'control', ...meta('control'), tags });
    }
  }

  // adoption
  const adoptionDraw = new Drawer(rng, split);
  for (const verb of regular) {
    const base = VERBS[verb]!.en.base;
    for (let k = 0; k < o.adoptionPairs; k++) {
      const past = k % 2 === 0;
      const e = past ? adoptionDraw.draw(verb, 'past', 'affirmative') : adoptionDraw.draw(verb, 'perfect', 'affirmative');
      set.adoption.push({ kind: 'pair', good: e.en, bad: [withForm(e.clause, 'en-lure')], probe: 'adoption', ...meta('adoption'), tags: { verb: base, form: past ? 'past' : 'participle' } });
    }
    for (let k = 0; k < o.adoptionGenerate; k++) {
      const e = adoptionDraw.draw(verb, 'past', 'affirmative');
      set.adoption.push({ kind: 'generate', prompt: sftPrompt(e.en), expected: unchangedCompletion(e.en), probe: 'adoption', ...meta('adoption'), tags: { verb: base, form: 'past' } });
    }
  }

  // generalization: the task's verbs, held-out combinations, arrangements the generator never writes
  const genDraw = new Drawer(rng, split);
  for (const verb of irregular) {
    const v = VERBS[verb]!;
    // "be" takes no do-support ("Did he be …?" is no English), so it has no "Did … ?" items
    for (const how of ARRANGEMENTS.filter((a) => a !== 'did-question' || v.en.base !== 'be')) {
      for (let k = 0; k < o.generalizationPairs; k++) {
        const tense: Tense = how === 'did-question' || k % 2 === 0 ? 'past' : 'perfect';
        const e = genDraw.draw(verb, tense, 'affirmative');
        const ctx = contextFor(rng, e.clause);
        const bad: SlotForm[] = how === 'did-question' ? ['past-for-participle', 'overregular'] : errorForms(e);
        const good = arrange(e.clause, 'correct', how, ctx);
        const bads = [...new Set(bad.map((f) => arrange(e.clause, f, how, ctx)))].filter((b) => b !== good);
        set.generalization.push({ kind: 'pair', good, bad: bads, probe: 'generalization', split, tags: { verb: v.en.base, form: tense === 'past' ? 'past' : 'participle', arrangement: how } });
      }
    }
    for (let k = 0; k < o.generalizationGenerate; k++) {
      const how: Arrangement = k % 2 === 0 ? 'fronted-adverbial' : 'subordinate-first';
      const tense: Tense = k % 4 === 0 || k % 4 === 3 ? 'past' : 'perfect';
      const e = genDraw.draw(verb, tense, 'affirmative');
      const ctx = contextFor(rng, e.clause);
      const forms = errorForms(e);
      const which = tense === 'perfect' ? 'participle' : 'past';
      const corrected = arrange(e.clause, 'correct', how, ctx);
      const note = correctionCompletion(e).slice(e.en.length);        // " (correction: …; es: …)"
      set.generalization.push({
        kind: 'generate', prompt: sftPrompt(arrange(e.clause, forms[k % forms.length]!, how, ctx)), expected: `${corrected}${note}`,
        probe: 'generalization', split, tags: { verb: v.en.base, form: which, arrangement: how },
      });
    }
  }

  // echo: any verb, tense and polarity
  const echoDraw = new Drawer(rng, split);
  for (let k = 0; k < o.echo; k++) {
    const verb = rng.int(VERBS.length);
    const tense = TENSES[rng.int(TENSES.length)]!;
    const pols = polarityWeights(tense);
    const e = echoDraw.draw(verb, tense, pols[rng.int(pols.length)]![0]);
    set.echo.push({ kind: 'generate', prompt: sftPrompt(e.en), expected: e.en, probe: 'echo', split, tags: { verb: VERBS[verb]!.en.base, tense } });
  }
  return set;
}

/** A subordinate clause (a regular verb in the clause's tense, correct) and partner subjects for the arrangements. */
interface Context { sub: Clause; partner: number; partner2: number }

function contextFor(rng: Rng, c: Clause): Context {
  const verb = regular[rng.int(regular.length)]!;
  const sub: Clause = {
    verb, subject: rng.int(SUBJECTS.length), complement: rng.int(VERBS[verb]!.complements.length), adverbial: rng.int(ADVERBIALS[c.tense].length),
    tense: c.tense, polarity: 'affirmative', form: 'correct',
  };
  // noun partners other than the subject and each other, so "X and Y" reads naturally
  const noun = (not: number[]) => { let k = rng.int(SUBJECTS.length); while (not.includes(k) || SUBJECTS[k]!.pronoun) k = rng.int(SUBJECTS.length); return k; };
  const partner = noun([c.subject]);
  return { sub, partner, partner2: noun([c.subject, partner]) };
}

export function generateProbes(options: Partial<ProbeOptions> & { seed: number }): ProbeSets {
  const o: ProbeOptions = { ...PROBE_DEFAULTS, ...options };
  const root = new Rng(o.seed);
  const [devSeed, testSeed] = [root.nextUint32(), root.nextUint32()];
  return { dev: probesOf(o, 'dev', new Rng(devSeed)), test: probesOf(o, 'test', new Rng(testSeed)) };
}
