import type { ProbeItem, ProbeRole, ProbeSplit } from '../data/probes.ts';
import { inPhase } from '../backend/profile.ts';
import { argmax, decodeBatch } from '../model/generate.ts';
import type { GPT } from '../model/gpt.ts';
import type { Tokenizer } from '../tokenizer/bpe.ts';
import { encodeGenerationPrompt, sequenceTokens } from '../data/sft-format.ts';
import { meanStderr } from '../util/stats.ts';
import { rollingWindows, scoreSequences, type ScoreRequest } from './score.ts';

/** Scores of one probe group (`task`, `control`, `adoption`, a BLiMP file, …) or of one role. */
export interface ProbeResult {
  /** Items in the group. */
  n: number;
  role?: ProbeRole;
  split?: ProbeSplit;
  /** Pair and choice accuracy: the correct sentence / choice has the highest log-likelihood (a tie counts as wrong). */
  acc?: number;
  /** Standard error of acc, as lm-eval's acc_stderr: sample sd (ddof 1) / √n. */
  se?: number;
  /** Choice accuracy with log-likelihood divided by the choice's length in characters (lm-eval's acc_norm). */
  acc_norm?: number;
  acc_norm_se?: number;
  /** Token-weighted perplexity over the text items, exp(Σ nll / Σ tokens), every token scored (rolling windows). */
  ppl?: number;
  /** Bits per UTF-8 byte over the text items: Σ nll / (ln 2 · Σ bytes). */
  bpb?: number;
  /** lm-eval's word and byte perplexities: exp(Σ nll / Σ words), exp(Σ nll / Σ bytes). */
  word_ppl?: number;
  byte_ppl?: number;
  /** Scored tokens of the text items. */
  tokens?: number;
  /** Greedy generation exact match (after trimming whitespace), and its standard error. */
  gen_em?: number;
  gen_em_se?: number;
  /** Per-tag breakdown, keyed `tag=value` (e.g. `verb=go`, `form=past`). */
  by_tag?: Record<string, { n: number; acc?: number; gen_em?: number }>;
}

/** One item's scores: what paired comparisons, intervals and `--log-samples` read. */
export interface ItemScore {
  probe: string;
  role?: ProbeRole;
  split: ProbeSplit;
  kind: ProbeItem['kind'];
  source: { file: string; line: number };
  tags: Record<string, string>;
  /** pair / choice: the right answer has the highest log-likelihood. */
  correct?: boolean;
  correct_norm?: boolean;
  /** pair / choice: the log-likelihood of each candidate (good first for pairs). */
  logprobs?: number[];
  /** text: Σ nll over every token, the tokens, UTF-8 bytes and words scored. */
  nll?: number; tokens?: number; bytes?: number; words?: number;
  /** generate: exact match, and the greedy output. */
  gen_ok?: boolean;
  output?: string;
}

export interface EvalOptions {
  /** Longest generation, in tokens (default: the longest expected answer + 4). */
  maxNewTokens?: number;
}

export interface EvalResult {
  /** By probe group name. */
  probes: Record<string, ProbeResult>;
  /** By role, over every group of that role (what the gate and the verdict read). */
  roles: Partial<Record<ProbeRole, ProbeResult>>;
  /** Per item, in input order. */
  items: ItemScore[];
}

/**
 * A multiple-choice context and one continuation as lm-eval encodes them (`_encode_pair`): the
 * context's trailing whitespace moves to the continuation, the two are encoded as one text and
 * the continuation is what follows the context's own encoding — so a tokenizer that prepends "▁"
 * to every text (Llama-2) or merges across the boundary scores the tokens the model would see.
 */
export function encodePair(tok: Tokenizer, context: string, continuation: string): { context: number[]; continuation: number[] } {
  const n = context.length - context.trimEnd().length;
  if (n > 0) { continuation = context.slice(-n) + continuation; context = context.slice(0, -n); }
  const ctx = tok.encode(context), whole = tok.encode(context + continuation);
  const cont = whole.slice(ctx.length);
  return cont.length > 0 ? { context: ctx, continuation: cont } : { context: ctx, continuation: tok.encode(continuation) };
}

/**
 * Evaluates probe items on a model. Sentences and texts are scored as the start of a document
 * (after the start token — end-of-text for ours, as every pretraining line starts; bos for a
 * Llama — see sequenceTokens), whole: a text longer than the context is scored in rolling
 * windows. Generate prompts are encoded as encodeGenerationPrompt does (special tokens allowed;
 * ours end with the `<|sep|>` delimiter) and decoded greedily up to the end token.
 */
export function evaluateProbes(model: GPT, tok: Tokenizer, items: readonly ProbeItem[], o: EvalOptions = {}): EvalResult {
  const { start: eot, end } = sequenceTokens(tok);
  const nCtx = model.config.nCtx;
  const enc = (s: string) => tok.encode(s);

  // 1. every log-likelihood request, in one batched pass; a candidate may span several windows
  const reqs: ScoreRequest[] = [];
  const spans: { first: number; count: number }[][] = [];           // per item, per candidate
  const whole = (s: string) => { const w = rollingWindows(enc(s), eot, nCtx); const first = reqs.length; reqs.push(...w); return { first, count: w.length }; };
  for (const it of items) {
    if (it.kind === 'pair') spans.push([it.good, ...it.bad].map(whole));
    else if (it.kind === 'text') spans.push([whole(it.text)]);
    else if (it.kind === 'choice') {
      spans.push(it.choices.map((c) => {
        const { context, continuation } = encodePair(tok, it.context, c);
        reqs.push({ ids: [eot, ...context, ...continuation], scoreFrom: 1 + context.length });
        return { first: reqs.length - 1, count: 1 };
      }));
    } else spans.push([]);
  }
  const scores = inPhase('eval: scoring', () => scoreSequences(model, reqs));
  const sum = (s: { first: number; count: number }) => {
    let logprob = 0, tokens = 0;
    for (let j = s.first; j < s.first + s.count; j++) { logprob += scores[j].logprob; tokens += scores[j].tokens; }
    return { logprob, tokens };
  };

  // 2. generations, batched
  const gens = items.filter((it) => it.kind === 'generate');
  // an output longer than the longest expected answer cannot match: stop there (+4 tokens of slack
  // for a non-canonical tokenization), unless a cap is given; never past what the context holds
  // after the shortest prompt (an answer that does not fit cannot be generated whole, so cannot match)
  const prompts = gens.map((g) => encodeGenerationPrompt(tok, g.prompt));
  const room = Math.max(1, model.config.nCtx - Math.min(model.config.nCtx - 1, ...prompts.map((p) => p.length)));
  const need = Math.min(room, Math.max(0, ...gens.map((g) => tok.encode(g.expected).length)) + 4);
  const decoded = inPhase('eval: generation', () => decodeBatch(model, prompts, { maxNewTokens: o.maxNewTokens ?? need, stopIds: [end] }));
  const genText = new Map<ProbeItem, string>();
  gens.forEach((g, i) => genText.set(g, tok.decode(decoded[i].ids)));

  // 3. per item
  const scored: ItemScore[] = items.map((it, k) => {
    const s: ItemScore = { probe: it.probe, role: it.role, split: it.split, kind: it.kind, source: it.source, tags: it.tags };
    if (it.kind === 'pair') {
      s.logprobs = spans[k].map((x) => sum(x).logprob);
      s.correct = pairCorrect(s.logprobs);
    } else if (it.kind === 'text') {
      const t = sum(spans[k][0]);
      Object.assign(s, { nll: -t.logprob, tokens: t.tokens, bytes: Buffer.byteLength(it.text, 'utf8'), words: countWords(it.text) });
    } else if (it.kind === 'choice') {
      s.logprobs = spans[k].map((x) => sum(x).logprob);
      const norm = it.choices.map((c, j) => s.logprobs![j] / Math.max(1, c.length));
      s.correct = argmax(s.logprobs) === it.label;
      s.correct_norm = argmax(norm) === it.label;
    } else {
      s.output = genText.get(it) ?? '';
      s.gen_ok = s.output.trim() === it.expected.trim();
    }
    return s;
  });

  return summarize(scored);
}

/** An evaluation from its items' scores: per group and per role. */
function summarize(scored: ItemScore[]): EvalResult {
  const probes: Record<string, ProbeResult> = {};
  for (const name of new Set(scored.map((s) => s.probe))) probes[name] = aggregate(scored.filter((s) => s.probe === name));
  const roles: EvalResult['roles'] = {};
  for (const role of ['task', 'control', 'adoption'] as const) {
    const of = scored.filter((s) => s.role === role);
    if (of.length > 0) roles[role] = aggregate(of);
  }
  return { probes, roles, items: scored };
}

/**
 * The evaluation of a subset of its items, as evaluateProbes would give it on that subset alone
 * (every item is scored on its own: likelihoods of one item never depend on another's).
 */
export function subsetResult(r: EvalResult, keep: (i: ItemScore) => boolean): EvalResult {
  return summarize(r.items.filter(keep));
}

/** lm-eval's word count: pieces of the text split on runs of whitespace. */
export const countWords = (text: string): number => text.split(/\s+/).length;

/** A group's numbers from its items' scores. */
export function aggregate(items: readonly ItemScore[]): ProbeResult {
  const r: ProbeResult = { n: items.length };
  const roles = new Set(items.map((i) => i.role)), splits = new Set(items.map((i) => i.split));
  if (roles.size === 1 && items[0].role !== undefined) r.role = items[0].role;
  if (splits.size === 1) r.split = items[0].split;
  const bin = (xs: (boolean | undefined)[]): number[] => xs.filter((x): x is boolean => x !== undefined).map((x) => (x ? 1 : 0));
  const acc = bin(items.map((i) => i.correct));
  if (acc.length > 0) { const m = meanStderr(acc); r.acc = m.mean; r.se = m.se; }
  const norm = bin(items.map((i) => i.correct_norm));
  if (norm.length > 0) { const m = meanStderr(norm); r.acc_norm = m.mean; r.acc_norm_se = m.se; }
  const texts = items.filter((i) => i.nll !== undefined);
  if (texts.length > 0) {
    const nll = texts.reduce((a, i) => a + i.nll!, 0), tokens = texts.reduce((a, i) => a + i.tokens!, 0);
    const bytes = texts.reduce((a, i) => a + i.bytes!, 0), words = texts.reduce((a, i) => a + i.words!, 0);
    if (tokens > 0) Object.assign(r, { ppl: Math.exp(nll / tokens), bpb: nll / (Math.LN2 * bytes), word_ppl: Math.exp(nll / words), byte_ppl: Math.exp(nll / bytes), tokens });
  }
  const gen = bin(items.map((i) => i.gen_ok));
  if (gen.length > 0) { const m = meanStderr(gen); r.gen_em = m.mean; r.gen_em_se = m.se; }
  const byTag: NonNullable<ProbeResult['by_tag']> = {};
  for (const key of new Set(items.flatMap((i) => Object.entries(i.tags).map(([k, v]) => `${k}=${v}`)))) {
    const [k, v] = [key.slice(0, key.indexOf('=')), key.slice(key.indexOf('=') + 1)];
    const of = items.filter((i) => i.tags[k] === v);
    const e: { n: number; acc?: number; gen_em?: number } = { n: of.length };
    const a = bin(of.map((i) => i.correct)), g = bin(of.map((i) => i.gen_ok));
    if (a.length > 0) e.acc = a.reduce((x, y) => x + y, 0) / a.length;
    if (g.length > 0) e.gen_em = g.reduce((x, y) => x + y, 0) / g.length;
    byTag[key] = e;
  }
  if (Object.keys(byTag).length > 0) r.by_tag = byTag;
  return r;
}

/** A pair is right when its good sentence (logprobs[0]) beats every distractor strictly: a tie is wrong. */
export function pairCorrect(logprobs: readonly number[]): boolean {
  for (let j = 1; j < logprobs.length; j++) if (!(logprobs[0] > logprobs[j])) return false;
  return true;
}
