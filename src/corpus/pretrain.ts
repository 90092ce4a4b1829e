/**
 * Pretraining text: one document per line, in the delimiter format fine-tuning uses.
 *
 *   translation:  He walked to the station yesterday.<|sep|>Él caminó a la estación ayer.<|endoftext|>
 *   echo:         He walked to the station yesterday.<|sep|>He walked to the station yesterday.<|endoftext|>
 *
 * Echo items train the delimiter and copying across it (in a PyTorch mock-up a tiny GPT with
 * ~50% echo items over the last half of pretraining copied exactly; without them generation
 * probes read 0). Layout: lines before `echoFrom × lines` are all translations; after it, a
 * share `echoShare` of the lines are echoes, spread at seeded random positions. `echoFrom: 0`
 * gives a uniform mix. The trainer should read the file in order (it packs lines into one token
 * stream) for the layout to matter.
 *
 * Irregular verbs: their past-simple / participle slots are rare (see corpusCells): a share
 * `irregularCorrectRate` is correct, `overregularRate` is over-regularized noise ("goed"), so a
 * model that learns "-ed" from the 12 regular verbs prefers "goed" after pretraining.
 *
 * Size: `tokens` is a target in approximate tokens (approxTokens: special tokens count 1, the
 * rest 1 per pre-split word of GPT-2's regex). Measured on this corpus, a BPE trained on it
 * gives ≈ 1.1× as many tokens at vocab 1024 and ≈ 1.7× at vocab 512. The line count follows
 * from the target with a seed-independent calibration, so every seed gives the same number of
 * lines of each kind.
 */
import { ConfigError } from '../errors.ts';
import { EOT, SEP } from '../tokenizer/special.ts';
import { renderClause, showsPastForm, type Entry } from './clause.ts';
import { VERBS } from './lexicon.ts';
import { corpusCells, planLines, sampleClause } from './plan.ts';
import { Rng } from '../util/rng.ts';
import { spanishNote } from './sft.ts';

export interface PretrainOptions {
  seed: number;
  /** Target size in approximate tokens (see approxTokens). */
  tokens: number;
  irregularCorrectRate: number;
  overregularRate: number;
  /** Share of echo lines inside the echo region. */
  echoShare: number;
  /** Where the echo region starts, as a fraction of the lines (0 = uniform mix). */
  echoFrom: number;
  /**
   * Share of extra lines that are grammar notes for the 12 REGULAR verbs, in the exact form
   * of the SFT notes: `(correction: past simple of "work" is "worked"; es: trabajó / trabajé)`.
   * The pretrained model then knows the metalanguage of a correction (and its tokens), and
   * fine-tuning only has to apply it to the irregular verbs; 0 = none.
   */
  grammarShare: number;
}

export const PRETRAIN_DEFAULTS: Omit<PretrainOptions, 'seed'> = {
  tokens: 300_000,
  irregularCorrectRate: 0.14,
  overregularRate: 0.16,
  echoShare: 0.85,
  echoFrom: 0.5,
  grammarShare: 0.03,
};

export interface PretrainLine extends Entry { echo: boolean; text: string }

/** A grammar-note line (regular verbs only). */
export interface NoteLine { text: string }

export interface PretrainStats {
  /** All lines of pretrain.txt: sentence lines + grammar notes. */
  lines: number;
  noteLines: number;
  translationLines: number;
  echoLines: number;
  echoShare: number;
  echoShareSecondHalf: number;
  /** Irregular verbs' past-simple / participle slots and how they were written. */
  irregularPastSlots: number;
  irregularPastCorrect: number;
  irregularPastOverregular: number;
  /** correct / (correct + over-regularized): the share of irregular past forms in the text that are right. */
  irregularCorrectShare: number;
  regularPastSlots: number;
  approxTokens: number;
}

const SPECIAL_RE = /<\|[a-z]+\|>/g;
const WORD_RE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** Approximate token count of a line: 1 per special token + 1 per GPT-2 pre-split word. */
export function approxTokens(line: string): number {
  let n = 0;
  for (const part of line.split(SPECIAL_RE)) n += part.match(WORD_RE)?.length ?? 0;
  return n + (line.match(SPECIAL_RE)?.length ?? 0);
}

export function formatPair(first: string, second: string): string {
  return `${first}${SEP}${second}${EOT}`;
}

function validate(o: PretrainOptions): void {
  const bad = (field: string, msg: string) => { throw new ConfigError(msg, { field }); };
  if (!Number.isInteger(o.seed)) bad('seed', `must be an integer, got ${o.seed}`);
  if (!(o.tokens >= 100)) bad('tokens', `must be at least 100, got ${o.tokens}`);
  for (const k of ['irregularCorrectRate', 'overregularRate', 'echoShare', 'echoFrom', 'grammarShare'] as const) {
    if (!(o[k] >= 0 && o[k] <= 1)) bad(k, `must be in [0, 1], got ${o[k]}`);
  }
  if (o.irregularCorrectRate + o.overregularRate > 1) bad('overregularRate', 'irregularCorrectRate + overregularRate must be ≤ 1');
  if (o.echoShare > 0 && o.echoFrom >= 1) bad('echoFrom', 'must be < 1 when echoShare > 0');
}

/** Mean approximate tokens per line for these options, from a fixed-seed sample. */
function tokensPerLine(o: PretrainOptions): number {
  const rng = new Rng(0x5eed);
  const sample = planLines(corpusCells(o), 2000, rng).map((cell) => renderClause(sampleClause(rng, cell)));
  const trans = sample.reduce((s, e) => s + approxTokens(formatPair(e.en, e.es)), 0) / sample.length;
  const echo = sample.reduce((s, e) => s + approxTokens(formatPair(e.en, e.en)), 0) / sample.length;
  const echoFraction = o.echoShare * (1 - o.echoFrom);
  return echoFraction * echo + (1 - echoFraction) * trans;
}

/** The grammar notes of the regular verbs, as the SFT notes word them. */
export function grammarNotes(): string[] {
  return VERBS.filter((v) => v.en.regular).flatMap((v) => (['past', 'participle'] as const).map((which) =>
    `(correction: ${which === 'past' ? 'past simple' : 'past participle'} of "${v.en.base}" is "${which === 'past' ? v.en.past : v.en.participle}"; ${spanishNote(v, which)})`));
}

/** pretrain.txt: the sentence lines with a grammar note after every k-th one (k from grammarShare). */
export function pretrainText(lines: readonly PretrainLine[], notes: readonly string[], grammarShare: number, rng: Rng): string[] {
  const out: string[] = [];
  const every = grammarShare > 0 ? Math.max(1, Math.round(1 / grammarShare)) : 0;
  lines.forEach((l, i) => {
    out.push(l.text);
    if (every > 0 && (i + 1) % every === 0) out.push(rng.pick(notes) + EOT);
  });
  return out;
}

export function generatePretrain(options: Partial<PretrainOptions> & { seed: number }): { lines: PretrainLine[]; text: string[]; stats: PretrainStats } {
  const o: PretrainOptions = { ...PRETRAIN_DEFAULTS, ...options };
  validate(o);
  const n = Math.max(1, Math.round(o.tokens / tokensPerLine(o)));
  const rng = new Rng(o.seed);
  const cells = planLines(corpusCells(o), n, rng);

  // echo positions: exactly round(share × region) lines of the region [echoFrom·n, n)
  const start = Math.floor(o.echoFrom * n);
  const region = Array.from({ length: n - start }, (_, i) => start + i);
  const echoAt = new Set(rng.shuffle(region).slice(0, Math.round(o.echoShare * (n - start))));

  const lines = cells.map((cell, i): PretrainLine => {
    const entry = renderClause(sampleClause(rng, cell));
    const echo = echoAt.has(i);
    return { ...entry, echo, text: formatPair(entry.en, echo ? entry.en : entry.es) };
  });
  const text = pretrainText(lines, grammarNotes(), o.grammarShare, rng);
  return { lines, text, stats: pretrainStats(lines, text.length - lines.length) };
}

export function pretrainStats(lines: readonly PretrainLine[], noteLines = 0): PretrainStats {
  let echoLines = 0, echoSecond = 0, irr = 0, irrCorrect = 0, irrOver = 0, reg = 0, tokens = 0;
  const half = Math.floor(lines.length / 2);
  lines.forEach((l, i) => {
    tokens += approxTokens(l.text);
    if (l.echo) { echoLines++; if (i >= half) echoSecond++; }
    const v = VERBS[l.clause.verb]!;
    if (!showsPastForm(v, l.clause.tense, l.clause.polarity)) return;
    if (v.en.regular) { reg++; return; }
    irr++;
    if (l.clause.form === 'correct') irrCorrect++;
    if (l.clause.form === 'overregular') irrOver++;
  });
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  return {
    lines: lines.length + noteLines,
    noteLines,
    translationLines: lines.length - echoLines,
    echoLines,
    echoShare: round(echoLines / Math.max(1, lines.length)),
    echoShareSecondHalf: round(echoSecond / Math.max(1, lines.length - half)),
    irregularPastSlots: irr,
    irregularPastCorrect: irrCorrect,
    irregularPastOverregular: irrOver,
    irregularCorrectShare: round(irrCorrect / Math.max(1, irr)),
    regularPastSlots: reg,
    approxTokens: tokens,
  };
}
