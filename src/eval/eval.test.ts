import { describe, expect, it } from 'vitest';
import { createJsBackend } from '../backend/js/index.ts';
import { parseProbes, loadProbes } from '../data/probes.ts';
import { Rng } from '../data/rng.ts';
import { GPT } from '../model/gpt.ts';
import { micro } from '../model/presets.ts';
import { applyLora } from '../lora/inject.ts';
import { LORA_DEFAULTS } from '../lora/config.ts';
import { trainBpe } from '../tokenizer/train.ts';
import { sharedDir } from '../../test/util.ts';
import { evaluateProbes } from './evaluate.ts';
import { drift, verdict } from './verdict.ts';

const be = createJsBackend();
const tok = trainBpe(['the cat sat on the mat.', 'she worked at home yesterday.', 'he went to school.'], { vocabSize: 300 });

function uniformModel(): GPT {
  const m = new GPT(be, { ...micro(tok.vocabSize), nCtx: 64 });
  for (const p of m.parameters()) p.data.fill(0);    // every logit 0 ⇒ p = 1/V everywhere
  return m;
}

function trainedLikeModel(): GPT {
  const m = new GPT(be, { ...micro(tok.vocabSize), nCtx: 64 });
  m.initWeights(new Rng(3));
  return m;
}

describe('evaluateProbes on constructed cases', () => {
  it('a uniform model has perplexity V and bits per byte = ln V · tokens / (ln 2 · bytes)', () => {
    const items = parseProbes('{"kind":"text","text":"she worked at home yesterday.","probe":"control"}\n{"kind":"text","text":"the cat sat.","probe":"control"}');
    const r = evaluateProbes(uniformModel(), tok, items).probes.control;
    expect(r.ppl).toBeCloseTo(tok.vocabSize, 3);
    const bytes = Buffer.byteLength('she worked at home yesterday.') + Buffer.byteLength('the cat sat.');
    expect(r.bpb).toBeCloseTo((Math.log(tok.vocabSize) * r.tokens!) / (Math.LN2 * bytes), 6);
  });

  it('pairs with known answers: under a uniform model the sentence with fewer tokens wins', () => {
    // log p = −n ln V: the shorter sentence has the higher likelihood
    const items = parseProbes([
      '{"kind":"pair","good":"the cat.","bad":["the cat sat on the mat."],"probe":"p","tags":{"verb":"a"}}',
      '{"kind":"pair","good":"the cat sat on the mat.","bad":["the cat."],"probe":"p","tags":{"verb":"b"}}',
      '{"kind":"pair","good":"he went.","bad":["he went to school.","the cat sat on the mat."],"probe":"p","tags":{"verb":"a"}}',
    ].join('\n'));
    const r = evaluateProbes(uniformModel(), tok, items).probes.p;
    expect(r.acc).toBeCloseTo(2 / 3, 12);
    expect(r.by_tag!['verb=a']).toEqual({ n: 2, acc: 1 });
    expect(r.by_tag!['verb=b']).toEqual({ n: 1, acc: 0 });
  });

  it('choice items: acc by total log-likelihood, acc_norm by log-likelihood per character', () => {
    // uniform model: acc picks the choice with fewest tokens; acc_norm the one with the best
    // −n ln V / chars, i.e. most characters per token
    const items = parseProbes('{"kind":"choice","context":"the cat","choices":[" sat."," sat on the mat."],"label":1,"probe":"c"}');
    const r = evaluateProbes(uniformModel(), tok, items).probes.c;
    const n = [' sat.', ' sat on the mat.'].map((s) => tok.encode(s).length);
    const norm = [' sat.', ' sat on the mat.'].map((s, i) => -n[i] / s.length);
    expect(r.acc).toBe(n[1] < n[0] ? 1 : 0);
    expect(r.acc_norm).toBe(norm[1] > norm[0] ? 1 : 0);
  });

  it('a zero-update fine-tune (fresh LoRA adapter) has drift exactly 0', () => {
    const items = parseProbes('{"kind":"text","text":"she worked at home yesterday.","probe":"control"}\n{"kind":"pair","good":"he went to school.","bad":["he goed to school."],"probe":"task"}');
    const m = trainedLikeModel();
    const before = evaluateProbes(m, tok, items);
    applyLora(m, { ...LORA_DEFAULTS, targets: ['all-linear'] }, new Rng(1));
    const after = evaluateProbes(m, tok, items);
    const v = verdict(before, after);
    expect(v.drift).toBe(0);
    expect(v.pass).toBe(false);                       // and task accuracy did not rise
    expect(v.reasons.join()).toContain('did not rise');
    expect(drift(2, 2.1)).toBeCloseTo(0.05, 12);
  });

  it('generation exact match is scored on the greedy completion', () => {
    const items = parseProbes('{"kind":"generate","prompt":"the cat<|sep|>","expected":"zzz","probe":"g"}');
    const r = evaluateProbes(trainedLikeModel(), tok, items, { maxNewTokens: 4, keepGenerations: true });
    expect(r.probes.g.gen_em).toBe(0);
    expect(r.generations![0].prompt).toBe('the cat<|sep|>');
  });

  const blimp = sharedDir('data', 'external', 'blimp-irregular', 'irregular_past_participle_verbs.jsonl');
  it.skipIf(blimp === null)('BLiMP rows from ../shared/data/external are read as pairs and scored (skipped when ../shared is absent)', () => {
    const items = loadProbes(blimp!).slice(0, 20);
    expect(items.every((i) => i.kind === 'pair')).toBe(true);
    const r = evaluateProbes(uniformModel(), tok, items);
    const group = Object.values(r.probes)[0];
    expect(group.n).toBe(20);
    expect(group.acc).toBeGreaterThanOrEqual(0);
    expect(group.acc).toBeLessThanOrEqual(1);
  });
});
