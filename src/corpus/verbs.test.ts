/**
 * The verb tables checked against reference data written by others:
 * - English: WithEnglishWeCan/generated-english-irregular-verbs (irregular.verbs.build.json);
 * - Spanish: Fred Jehle's conjugation database (CC BY-NC-SA: read here for testing only,
 *   never copied into the package).
 * Both live in ../shared/data/external relative to the repository root; the checks skip,
 * saying so, when it is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { showsPastForm } from './clause.ts';
import { buildCorpus } from './corpus.ts';
import { generatePretrain } from './pretrain.ts';
import { VERBS } from './lexicon.ts';
import { doublesFinalConsonant, enLure, ingForm, regularPast, thirdPerson } from './spelling.ts';
import { IRREGULAR_VERBS, REGULAR_VERBS } from './verbs-en.ts';
import { conjugate, PERSONS, SPANISH_VERBS, type Person, type SpanishTense } from './verbs-es.ts';
import { spanishNote } from './sft.ts';

const EXTERNAL = fileURLToPath(new URL('../../../shared/data/external/', import.meta.url));
const IRREGULAR_JSON = `${EXTERNAL}english-irregular-verbs/irregular.verbs.build.json`;
const JEHLE_CSV = `${EXTERNAL}jehle-spanish-verbs/jehle_verb_database.csv`;

describe('English spelling rules', () => {
  it('regular past: -ed, -d after e, consonant+y → ied, CVC doubling in one syllable', () => {
    expect(['work', 'play', 'study', 'like', 'stop', 'plan', 'visit', 'open', 'fix', 'row', 'watch'].map(regularPast))
      .toEqual(['worked', 'played', 'studied', 'liked', 'stopped', 'planned', 'visited', 'opened', 'fixed', 'rowed', 'watched']);
    expect(doublesFinalConsonant('work')).toBe(false);
    expect(['watch', 'finish', 'study', 'play', 'go', 'fix'].map(thirdPerson)).toEqual(['watches', 'finishes', 'studies', 'plays', 'goes', 'fixes']);
    expect(['study', 'like', 'stop', 'see', 'be', 'lie'].map(ingForm)).toEqual(['studying', 'liking', 'stopping', 'seeing', 'being', 'lying']);
    expect(['work', 'like'].map(enLure)).toEqual(['worken', 'liken']);
  });

  it('the regular verb table spells every form by the rules', () => {
    for (const v of REGULAR_VERBS) {
      expect([v.third, v.past, v.participle, v.ing]).toEqual([thirdPerson(v.base), regularPast(v.base), regularPast(v.base), ingForm(v.base)]);
    }
  });

  it('over-regularized forms are the regular rule applied to an irregular verb', () => {
    for (const v of IRREGULAR_VERBS) {
      if (v.base === 'be') expect(v.overregular).toBe('beed'); // "bed" would be a real word
      else expect(v.overregular).toBe(regularPast(v.base));
      expect(v.ing).toBe(ingForm(v.base));
      if (v.base !== 'be' && v.base !== 'have' && v.base !== 'do') expect(v.third).toBe(thirdPerson(v.base));
    }
  });
});

const haveIrregular = existsSync(IRREGULAR_JSON);
describe.skipIf(!haveIrregular)('English forms vs irregular.verbs.build.json', () => {
  type Sense = { '2': string[]; '3': string[] };
  const table = haveIrregular ? (JSON.parse(readFileSync(IRREGULAR_JSON, 'utf8')) as Record<string, Sense[]>) : {};
  const pasts = (base: string) => (table[base] ?? []).flatMap((s) => s['2']);
  const participles = (base: string) => (table[base] ?? []).flatMap((s) => s['3']);

  it('the 8 irregular verbs: past simple and past participle are listed; the distractors are not', () => {
    expect(IRREGULAR_VERBS.map((v) => v.base)).toEqual(['be', 'have', 'do', 'go', 'come', 'see', 'eat', 'write']);
    for (const v of IRREGULAR_VERBS) {
      expect(pasts(v.base), v.base).toContain(v.past);
      if (v.pastPlural) expect(pasts(v.base)).toContain(v.pastPlural);
      expect(participles(v.base), v.base).toContain(v.participle);
      expect(pasts(v.base)).not.toContain(v.overregular);
      expect(participles(v.base)).not.toContain(v.overregular);
    }
  });

  it('the 12 regular verbs are not irregular (or list the regular form)', () => {
    for (const v of REGULAR_VERBS) {
      if (table[v.base]) expect(pasts(v.base)).toContain(v.past);
    }
  });

  it('every past / participle the generator writes matches the tables', () => {
    const { lines } = generatePretrain({ seed: 3, tokens: 60_000, irregularCorrectRate: 0.5, overregularRate: 0.3 });
    let checked = 0;
    for (const l of lines) {
      const v = VERBS[l.clause.verb]!.en;
      if (!showsPastForm(VERBS[l.clause.verb]!, l.clause.tense, l.clause.polarity)) continue;
      const words = l.en.replace(/[.?]$/, '').split(' ');
      const expected = l.clause.form === 'overregular' ? [v.overregular!]
        : l.clause.tense === 'perfect' ? [v.participle] : [v.past, v.pastPlural ?? v.past];
      expect(words.some((w) => expected.includes(w)), l.en).toBe(true);
      if (l.clause.form === 'correct' && !v.regular) {
        const listed = l.clause.tense === 'perfect' ? participles(v.base) : pasts(v.base);
        expect(words.some((w) => listed.includes(w)), l.en).toBe(true);
      }
      if (v.regular) expect(words, l.en).toContain(regularPast(v.base));
      checked++;
    }
    expect(checked).toBeGreaterThan(500);
  });
});
if (!haveIrregular) describe.skip(`irregular-verb checks skipped: ${IRREGULAR_JSON} not found`, () => { it('skipped', () => {}); });

/** Jehle's CSV: every field double-quoted except empty ones; CRLF line ends. */
function readJehle(file: string): Map<string, Record<string, string>> {
  const rows = new Map<string, Record<string, string>>();
  const lines = readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l !== '');
  const parse = (line: string): string[] => {
    const out: string[] = [];
    const re = /"((?:[^"]|"")*)"|([^,]*)/y;
    for (let i = 0; i <= line.length;) {
      re.lastIndex = i;
      const m = re.exec(line)!;
      out.push(m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]!);
      i = re.lastIndex + 1;
    }
    return out;
  };
  const header = parse(lines[0]!);
  for (const line of lines.slice(1)) {
    const f = parse(line);
    const row = Object.fromEntries(header.map((h, i) => [h, f[i] ?? '']));
    rows.set(`${row['infinitive']}|${row['mood_english']}|${row['tense_english']}`, row);
  }
  return rows;
}

const haveJehle = existsSync(JEHLE_CSV);
describe.skipIf(!haveJehle)('Spanish forms vs the Jehle database', () => {
  const jehle = haveJehle ? readJehle(JEHLE_CSV) : new Map<string, Record<string, string>>();
  const TENSE: Record<SpanishTense, string> = { present: 'Present', preterite: 'Preterite', perfect: 'Present Perfect', future: 'Future' };
  const reference = (inf: string, tense: SpanishTense, person: Person): string | undefined =>
    jehle.get(`${inf}|Indicative|${TENSE[tense]}`)?.[`form_${person}`];

  it('every table form (verb × tense × person) matches', () => {
    expect(jehle.size).toBeGreaterThan(10000);
    let n = 0;
    for (const verb of Object.values(SPANISH_VERBS)) {
      for (const tense of Object.keys(TENSE) as SpanishTense[]) {
        for (const person of PERSONS) {
          expect(conjugate(verb, tense, person), `${verb.infinitive} ${tense} ${person}`).toBe(reference(verb.infinitive, tense, person));
          n++;
        }
      }
    }
    expect(n).toBe(20 * 4 * 5);
  });

  it('every conjugated form the corpus emits matches, and appears in its sentence', () => {
    const { lines } = generatePretrain({ seed: 5, tokens: 60_000, echoShare: 0 });
    const seen = new Set<string>();
    for (const l of lines) {
      const { infinitive, tense, person, form } = l.esVerb;
      expect(l.es, l.en).toContain(` ${form} `);
      const key = `${infinitive}|${tense}|${person}|${form}`;
      if (seen.has(key)) continue;
      seen.add(key);
      expect(form, key).toBe(reference(infinitive, tense, person));
    }
    expect(seen.size).toBeGreaterThan(250);
  });

  it('the Spanish pairs in correction notes (SFT, task probes) match', () => {
    for (const v of VERBS.filter((x) => !x.en.regular)) {
      for (const [which, tense] of [['past', 'preterite'], ['participle', 'perfect']] as const) {
        expect(spanishNote(v, which)).toBe(`es: ${reference(v.es.infinitive, tense, '3s')} / ${reference(v.es.infinitive, tense, '1s')}`);
      }
    }
    const { files } = buildCorpus({ seed: 2, pretrain: { tokens: 2000 }, sft: { rows: 300 } });
    const notes = new Set(VERBS.flatMap((v) => [spanishNote(v, 'past'), spanishNote(v, 'participle')]));
    const found = [...(files.get('sft.jsonl')! + files.get('probes/task.jsonl')!).matchAll(/es: [^)]*/g)].map((m) => m[0]);
    expect(found.length).toBeGreaterThan(200);
    for (const n of found) expect(notes.has(n), n).toBe(true);
  });
});
if (!haveJehle) describe.skip(`Jehle checks skipped: ${JEHLE_CSV} not found`, () => { it('skipped', () => {}); });
