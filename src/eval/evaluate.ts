import type { ProbeItem } from '../data/probes.ts';
import { argmax } from '../model/generate.ts';
import type { GPT } from '../model/gpt.ts';
import type { Tokenizer } from '../tokenizer/bpe.ts';
import { EOT } from '../tokenizer/special.ts';
import { greedyBatch, scoreSequences, type ScoreRequest } from './score.ts';

/** Scores of one probe group (`task`, `control`, `adoption`, a BLiMP file, …). */
export interface ProbeResult {
  /** Items in the group. */
  n: number;
  /** Pair and choice accuracy: the correct sentence / choice has the highest log-likelihood. */
  acc?: number;
  /** Choice accuracy with log-likelihood divided by the choice's length in characters (lm-eval's acc_norm). */
  acc_norm?: number;
  /** Token-weighted perplexity over the text items, exp(Σ nll / Σ tokens). */
  ppl?: number;
  /** Bits per UTF-8 byte over the text items: Σ nll / (ln 2 · Σ bytes). */
  bpb?: number;
  /** Scored tokens of the text items. */
  tokens?: number;
  /** Greedy generation exact match (after trimming whitespace). */
  gen_em?: number;
  /** Per-tag breakdown, keyed `tag=value` (e.g. `verb=go`, `form=past`). */
  by_tag?: Record<string, { n: number; acc?: number; gen_em?: number }>;
}

export interface EvalOptions {
  /** Longest generation, in tokens (default: the longest expected answer + 4). */
  maxNewTokens?: number;
  /** Keep each generated text (for reports); default false. */
  keepGenerations?: boolean;
}

export interface EvalResult {
  probes: Record<string, ProbeResult>;
  generations?: { probe: string; prompt: string; expected: string; output: string }[];
}

/**
 * Evaluates probe items on a model. Sentences are scored as the start of a document (after
 * the end-of-text token, as every pretraining line starts); generate prompts are encoded with
 * special tokens allowed (they end with the `<|sep|>` delimiter) and decoded greedily up to
 * end-of-text.
 */
export function evaluateProbes(model: GPT, tok: Tokenizer, items: readonly ProbeItem[], o: EvalOptions = {}): EvalResult {
  const eot = tok.specialId(EOT);
  const enc = (s: string) => tok.encode(s);
  const sentence = (s: string): ScoreRequest => ({ ids: [eot, ...enc(s)], scoreFrom: 1 });

  // 1. every log-likelihood request, in one batched pass
  const reqs: ScoreRequest[] = [];
  const slots: { item: ProbeItem; first: number; count: number }[] = [];
  for (const it of items) {
    const first = reqs.length;
    if (it.kind === 'pair') { reqs.push(sentence(it.good)); for (const b of it.bad) reqs.push(sentence(b)); }
    else if (it.kind === 'text') reqs.push(sentence(it.text));
    else if (it.kind === 'choice') {
      const ctx = [eot, ...enc(it.context)];
      for (const c of it.choices) reqs.push({ ids: [...ctx, ...enc(c)], scoreFrom: ctx.length });
    }
    slots.push({ item: it, first, count: reqs.length - first });
  }
  const scores = scoreSequences(model, reqs);

  // 2. generations, batched
  const gens = items.filter((it) => it.kind === 'generate');
  // an output longer than the longest expected answer cannot match: stop there (+4 tokens of slack
  // for a non-canonical tokenization), unless a cap is given
  const need = Math.max(0, ...gens.map((g) => tok.encode(g.expected).length)) + 4;
  const outputs = greedyBatch(model, gens.map((g) => tok.encode(g.prompt, { allowSpecial: true })), o.maxNewTokens ?? need, [eot]);
  const genText = new Map<ProbeItem, string>();
  gens.forEach((g, i) => genText.set(g, tok.decode(outputs[i])));

  // 3. aggregate per probe group and tag
  const acc = new Map<string, Agg>();
  const agg = (k: string): Agg => { let a = acc.get(k); if (!a) { a = new Agg(); acc.set(k, a); } return a; };
  for (const { item: it, first, count } of slots) {
    const g = agg(it.probe);
    g.n++;
    let correct: boolean | null = null, genOk: boolean | null = null;
    if (it.kind === 'pair') {
      correct = pairCorrect(scores, first, count);
    } else if (it.kind === 'text') {
      g.nll -= scores[first].logprob;
      g.tokens += scores[first].tokens;
      g.bytes += Buffer.byteLength(it.text, 'utf8');
    } else if (it.kind === 'choice') {
      const lp = it.choices.map((_, j) => scores[first + j].logprob);
      const norm = it.choices.map((c, j) => lp[j] / Math.max(1, c.length));
      correct = argmax(lp) === it.label;
      g.normHits += argmax(norm) === it.label ? 1 : 0;
      g.choiceN++;
    } else {
      genOk = (genText.get(it) ?? '').trim() === it.expected.trim();
    }
    const tags = Object.entries(it.tags).map(([k, v]) => agg(`${it.probe}\u0000${k}=${v}`));
    for (const a of [g, ...tags]) {
      if (a !== g) a.n++;
      if (correct !== null) { a.accN++; a.accHits += correct ? 1 : 0; }
      if (genOk !== null) { a.genN++; a.genHits += genOk ? 1 : 0; }
    }
  }
  const probes: Record<string, ProbeResult> = {};
  for (const [k, a] of acc) {
    if (k.includes('\u0000')) continue;
    const r: ProbeResult = { n: a.n };
    if (a.accN > 0) r.acc = a.accHits / a.accN;
    if (a.choiceN > 0) r.acc_norm = a.normHits / a.choiceN;
    if (a.tokens > 0) { r.ppl = Math.exp(a.nll / a.tokens); r.bpb = a.nll / (Math.LN2 * a.bytes); r.tokens = a.tokens; }
    if (a.genN > 0) r.gen_em = a.genHits / a.genN;
    const byTag: NonNullable<ProbeResult['by_tag']> = {};
    for (const [tk, ta] of acc) {
      if (!tk.startsWith(k + '\u0000')) continue;
      const e: { n: number; acc?: number; gen_em?: number } = { n: ta.n };
      if (ta.accN > 0) e.acc = ta.accHits / ta.accN;
      if (ta.genN > 0) e.gen_em = ta.genHits / ta.genN;
      byTag[tk.slice(k.length + 1)] = e;
    }
    if (Object.keys(byTag).length > 0) r.by_tag = byTag;
    probes[k] = r;
  }
  const result: EvalResult = { probes };
  if (o.keepGenerations) result.generations = gens.map((g) => ({ probe: g.probe, prompt: g.prompt, expected: g.expected, output: genText.get(g) ?? '' }));
  return result;
}

class Agg {
  n = 0; accN = 0; accHits = 0; normHits = 0; choiceN = 0; genN = 0; genHits = 0;
  nll = 0; tokens = 0; bytes = 0;
}

/** A pair item is right when its good sentence (scores[first]) beats every distractor after it. */
export function pairCorrect(scores: { logprob: number }[], first: number, count: number): boolean {
  for (let j = 1; j < count; j++) if (!(scores[first].logprob > scores[first + j].logprob)) return false;
  return true;
}
