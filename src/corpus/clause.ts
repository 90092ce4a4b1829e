/**
 * A clause (verb, subject, complement, adverbial, tense, polarity, and which form fills the
 * past-simple / past-participle slot) and its rendering into an English sentence and its Spanish
 * translation.
 *
 *   {go, he, "to the store", "yesterday", past, affirmative, correct}
 *     → "He went to the store yesterday."  /  "Él fue a la tienda ayer."
 *   same with form "overregular" → "He goed to the store yesterday."  (Spanish unchanged)
 */
import { ADVERBIALS, SUBJECTS, VERBS, type Complement, type Subject, type Tense, type VerbEntry } from './lexicon.ts';
import { enLure } from './spelling.ts';
import type { EnglishVerb } from './verbs-en.ts';
import { conjugate, type Person, type SpanishTense } from './verbs-es.ts';

export type Polarity = 'affirmative' | 'negative' | 'question';

/**
 * What fills the past simple (past tense) or past participle (perfect tense) slot:
 * the correct form, the over-regularized one ("goed"), the past simple used as participle
 * ("has went"), an "-en" lure ("worken"), or the bare base form ("She work …").
 */
export type SlotForm = 'correct' | 'overregular' | 'past-for-participle' | 'en-lure' | 'base';

export interface Clause {
  verb: number;       // index into VERBS
  subject: number;    // index into SUBJECTS
  complement: number; // index into VERBS[verb].complements
  adverbial: number;  // index into ADVERBIALS[tense]
  tense: Tense;
  polarity: Polarity;
  form: SlotForm;
}

export interface Entry {
  clause: Clause;
  en: string;
  es: string;
  /** The conjugated Spanish verb in `es`, for checks against a conjugation table. */
  esVerb: { infinitive: string; tense: SpanishTense; person: Person; form: string };
}

const SPANISH_TENSE: Record<Tense, SpanishTense> = { present: 'present', past: 'preterite', perfect: 'perfect', future: 'future' };
const DATIVE_CLITIC: Record<Person, string> = { '1s': 'me', '2s': 'te', '3s': 'le', '1p': 'nos', '3p': 'les' };

export const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
export const join = (words: string[]): string => words.filter((w) => w !== '').join(' ');

/** True when the clause shows a past simple or past participle form in English. */
export function showsPastForm(verb: VerbEntry, tense: Tense, polarity: Polarity): boolean {
  if (tense === 'perfect') return true;
  return tense === 'past' && (polarity === 'affirmative' || verb.en.base === 'be');
}

function pastSimple(e: EnglishVerb, person: Person): string {
  return e.pastPlural !== undefined && person !== '1s' && person !== '3s' ? e.pastPlural : e.past;
}

function slot(e: EnglishVerb, person: Person, which: 'past' | 'participle', form: SlotForm): string {
  switch (form) {
    case 'correct': return which === 'past' ? pastSimple(e, person) : e.participle;
    case 'overregular': return e.overregular ?? e.past;
    case 'past-for-participle': return pastSimple(e, person);
    case 'en-lure': return enLure(e.base);
    case 'base': return e.base;
  }
}

/** English verb group: `front` is the word moved before the subject in a question. */
function englishVerb(e: EnglishVerb, person: Person, tense: Tense, polarity: Polarity, form: SlotForm): { front: string; verb: string } {
  const third = person === '3s';
  const isBe = e.base === 'be';
  const q = polarity === 'question';
  const neg = polarity === 'negative';
  switch (tense) {
    case 'present': {
      if (isBe) {
        const fin = person === '1s' ? e.present1s! : third ? e.third : e.presentPlural!;
        if (q) return { front: fin, verb: '' };
        return { front: '', verb: neg ? (person === '1s' ? `${fin} not` : `${fin}n't`) : fin };
      }
      const aux = third ? 'does' : 'do';
      if (q) return { front: aux, verb: e.base };
      return { front: '', verb: neg ? `${aux}n't ${e.base}` : third ? e.third : e.base };
    }
    case 'past': {
      const past = slot(e, person, 'past', form);
      if (isBe) return q ? { front: past, verb: '' } : { front: '', verb: neg ? `${past}n't` : past };
      if (q) return { front: 'did', verb: e.base };
      return { front: '', verb: neg ? `didn't ${e.base}` : past };
    }
    case 'perfect': {
      const aux = third ? 'has' : 'have';
      const part = slot(e, person, 'participle', form);
      if (q) return { front: aux, verb: part };
      return { front: '', verb: neg ? `${aux}n't ${part}` : `${aux} ${part}` };
    }
    case 'future':
      if (q) return { front: 'will', verb: e.base };
      return { front: '', verb: neg ? `won't ${e.base}` : `will ${e.base}` };
  }
}

function spanishComplement(c: Complement, subj: Subject): string {
  if (!c.esAgree) return c.es;
  const plural = subj.person === '1p' || subj.person === '3p';
  return c.esAgree[(plural ? 2 : 0) + (subj.gender === 'f' ? 1 : 0)]!;
}

/** "A mi hermano", "Al médico", "A él"; none for me/te/nos (the clitic is enough). */
function dativePhrase(subj: Subject): string {
  if (subj.pronoun && subj.person !== '3s' && subj.person !== '3p') return '';
  return subj.es.startsWith('el ') ? `al ${subj.es.slice(3)}` : `a ${subj.es}`;
}

/**
 * The English pieces of a clause, for arrangements other than the template's (subject, verb,
 * complement, adverbial): `front` is the word moved before the subject in a question. `person`
 * overrides the subject's (a coordinated subject "Tom and Maria" is 3rd plural).
 */
export function englishParts(clause: Clause, person?: Person): { front: string; subject: string; verb: string; complement: string; adverbial: string } {
  const verb = VERBS[clause.verb]!;
  const subj = SUBJECTS[clause.subject]!;
  const { front, verb: vg } = englishVerb(verb.en, person ?? subj.person, clause.tense, clause.polarity, clause.form);
  return { front, subject: subj.en, verb: vg, complement: verb.complements[clause.complement]!.en, adverbial: ADVERBIALS[clause.tense][clause.adverbial]!.en };
}

export function renderClause(clause: Clause): Entry {
  const verb = VERBS[clause.verb]!;
  const subj = SUBJECTS[clause.subject]!;
  const comp = verb.complements[clause.complement]!;
  const adv = ADVERBIALS[clause.tense][clause.adverbial]!;
  const q = clause.polarity === 'question';

  // English
  const p = englishParts(clause);
  const en = q
    ? `${cap(p.front)} ${join([p.subject, p.verb, p.complement, p.adverbial])}?`
    : `${cap(join([p.subject, p.verb, p.complement, p.adverbial]))}.`;

  // Spanish
  const person: Person = verb.dative ? (comp.number === 'p' ? '3p' : '3s') : subj.person;
  const tense = SPANISH_TENSE[clause.tense];
  const form = conjugate(verb.es, tense, person);
  const no = clause.polarity === 'negative' ? 'no' : '';
  const words = verb.dative
    ? [dativePhrase(subj), no, DATIVE_CLITIC[subj.person], form, spanishComplement(comp, subj), adv.es]
    : [subj.es, no, form, spanishComplement(comp, subj), adv.es];
  const body = cap(join(words));
  const es = q ? `¿${body}?` : `${body}.`;

  return { clause, en, es, esVerb: { infinitive: verb.es.infinitive, tense, person, form } };
}
