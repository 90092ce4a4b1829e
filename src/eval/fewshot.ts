import { sftText, type SftRow } from '../data/sft-format.ts';
import type { GenerateProbe, PairProbe } from '../data/probes.ts';
import { decodeBatch } from '../model/generate.ts';
import type { GPT } from '../model/gpt.ts';
import type { Tokenizer } from '../tokenizer/bpe.ts';
import { EOT } from '../tokenizer/special.ts';
import { pairCorrect } from './evaluate.ts';
import { scoreSequences } from './score.ts';

/**
 * The few-shot prompting baseline (no training): k SFT examples in context, formatted as in
 * training (`prompt<|sep|>completion<|endoftext|>` each), then the probe.
 * Pairs: the sentence is scored after the demonstrations; generate items: greedy completion.
 * Demonstrations are the k shortest rows that leave room for the probe in the context.
 */
export function fewShotBaseline(model: GPT, tok: Tokenizer, demos: SftRow[], k: number, pairs: PairProbe[], gens: GenerateProbe[], maxNewTokens = 64): { k: number; task_acc: number; gen_em: number; n: number } {
  const eot = tok.specialId(EOT);
  const budget = model.config.nCtx - maxNewTokens - 24;
  const encoded = demos.map((d) => tok.encode(sftText(d.prompt, d.completion), { allowSpecial: true }));
  const order = encoded.map((_, i) => i).sort((a, b) => encoded[a].length - encoded[b].length || a - b);
  const chosen: number[] = [];
  let used = 1;
  for (const i of order) {
    if (chosen.length >= k || used + encoded[i].length > budget) break;
    chosen.push(i);
    used += encoded[i].length;
  }
  const prefix = [eot, ...chosen.flatMap((i) => encoded[i])];
  let hits = 0;
  const reqs = pairs.flatMap((p) => [p.good, ...p.bad].map((s) => ({ ids: [...prefix, ...tok.encode(s)], scoreFrom: prefix.length })));
  const scores = scoreSequences(model, reqs);
  let at = 0;
  for (const p of pairs) {
    hits += pairCorrect(scores.slice(at, at + 1 + p.bad.length).map((s) => s.logprob)) ? 1 : 0;
    at += 1 + p.bad.length;
  }
  const outs = decodeBatch(model, gens.map((g) => [...prefix, ...tok.encode(g.prompt, { allowSpecial: true })]), { maxNewTokens, stopIds: [eot] });
  const em = gens.filter((g, i) => tok.decode(outs[i].ids).trim() === g.expected.trim()).length;
  return { k: chosen.length, task_acc: pairs.length ? hits / pairs.length : 0, gen_em: gens.length ? em / gens.length : 0, n: pairs.length + gens.length };
}
