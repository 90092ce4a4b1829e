import { describe, expect, it } from 'vitest';
import { createJsBackend } from '../backend/js/index.ts';
import { parseProbes, loadProbes } from '../data/probes.ts';
import { Rng } from '../util/rng.ts';
import { GPT } from '../model/gpt.ts';
import { micro } from '../model/presets.ts';
import { applyLora } from '../lora/inject.ts';
import { LORA_DEFAULTS } from '../lora/config.ts';
import { trainBpe } from '../tokenizer/train.ts';
import { sharedDir } from '../../test/util.ts';
import { noGrad, poolOf } from '../tensor/tensor.ts';
import { encodePair, evaluateProbes, pairCorrect } from './evaluate.ts';
import { loadTokenizer } from '../tokenizer/hf-json.ts';
import { join } from 'node:path';
import { rollingWindows, scoreSequences } from './score.ts';
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

  it('choice continuations are encoded as lm-eval does: with the context, trailing spaces moved over', () => {
    // byte-level: the same ids as encoding the continuation alone
    expect(encodePair(tok, 'the cat', ' sat.')).toEqual({ context: tok.encode('the cat'), continuation: tok.encode(' sat.') });
    expect(encodePair(tok, 'the cat ', 'sat.')).toEqual({ context: tok.encode('the cat'), continuation: tok.encode(' sat.') });
    // SentencePiece (Llama-2): encoding " Paris" alone would prepend a second "▁"
    const dir = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'tokenizers', 'llama2');
    const llama = loadTokenizer(dir);
    const p = encodePair(llama, 'The capital of France is', ' Paris');
    expect([...p.context, ...p.continuation]).toEqual(llama.encode('The capital of France is Paris'));
    expect(llama.decode(p.continuation)).toBe('Paris');                  // decode strips the one leading space
    expect(llama.encode(' Paris').length).toBeGreaterThanOrEqual(p.continuation.length);
  });

  it('a zero-update fine-tune (fresh LoRA adapter) has drift exactly 0, with a zero-width interval, and FAILs (no gain)', () => {
    const items = parseProbes('{"kind":"text","text":"she worked at home yesterday.","probe":"control","role":"control"}\n{"kind":"pair","good":"he went to school.","bad":["he goed to school."],"probe":"task","role":"task"}');
    const m = trainedLikeModel();
    const before = evaluateProbes(m, tok, items);
    applyLora(m, { ...LORA_DEFAULTS, targets: ['all-linear'] }, new Rng(1));
    const after = evaluateProbes(m, tok, items);
    const v = verdict(before, after);
    expect(v.drift).toBe(0);
    expect(v.drift_ci).toEqual([0, 0]);
    expect(v.verdict).toBe('FAIL');                   // task accuracy did not rise
    expect(v.reasons.join()).toContain('did not rise');
    expect(drift(2, 2.1)).toBeCloseTo(0.05, 12);
  });

  it('roles, not names: custom group names with role fields are what the verdict reads; a group without a role is reported but never read', () => {
    const items = parseProbes([
      '{"kind":"text","text":"she worked at home yesterday.","probe":"kept-skill","role":"control"}',
      '{"kind":"text","text":"the cat sat on the mat.","probe":"kept-skill","role":"control"}',
      '{"kind":"pair","good":"he went to school.","bad":["he goed to school."],"probe":"irregulars","role":"task"}',
      '{"kind":"text","text":"he went to school.","probe":"task"}',
    ].join('\n'));
    const m = trainedLikeModel();
    const r = evaluateProbes(m, tok, items);
    expect(Object.keys(r.probes).sort()).toEqual(['irregulars', 'kept-skill', 'task']);
    expect(r.roles.control!.ppl).toBe(r.probes['kept-skill']!.ppl);
    expect(r.roles.task!.n).toBe(1);
    expect(r.probes.task!.role).toBeUndefined();
    // a model whose control perplexity rises past the bound: the verdict sees it through the role
    const m2 = trainedLikeModel();
    for (const p of m2.parameters()) for (let i = 0; i < p.size; i++) p.data[i] *= 1.8;
    const v = verdict(r, evaluateProbes(m2, tok, items), { bound: 0.05 });
    expect(v.drift).not.toBeNull();
    expect(v.drift_ci![0]).toBeLessThanOrEqual(v.drift!);
    const none = verdict(evaluateProbes(m, tok, items.filter((i) => i.role !== 'control')), evaluateProbes(m2, tok, items.filter((i) => i.role !== 'control')));
    expect(none.drift).toBeNull();
    expect(none.verdict).toBe('FAIL');
    expect(none.reasons.join()).toContain('no control probe');
  });

  it('a 2,000-token text is scored whole in rolling windows: the sum of every token\'s log-probability, computed by hand', () => {
    const m = new GPT(be, { ...micro(tok.vocabSize), nCtx: 64 });
    m.initWeights(new Rng(5));
    const words = ['the', 'cat', 'sat', 'on', 'mat', 'she', 'worked', 'at', 'home', 'he', 'went', 'to', 'school'];
    const r = new Rng(9);
    let text = '';
    while (tok.encode(text).length < 2000) text += `${words[r.int(words.length)]} `;
    const ids = tok.encode(text);
    const eot = tok.specialId('<|endoftext|>');
    // by hand: lm-eval's windows (context_len 1) over [<|endoftext|>, ...ids] — the first predicts
    // ids[0..64) from <|endoftext|> on; each later one predicts the next 64 (the last: what is left)
    // from the 64 tokens before each; every token's log-softmax summed here, not by the evaluator
    const seq = [eot, ...ids];
    let byHand = 0;
    noGrad(() => {
      for (let p = 0; p < ids.length;) {
        const e = Math.min(p + 64, ids.length), from = Math.max(0, e - 64);   // predicts seq (p, e] from seq[from, e)
        const window = seq.slice(from, e);
        const logits = m.forward(Int32Array.from(window), 1, window.length).data;       // (1, T, V)
        for (let k = p + 1; k <= e; k++) {
          const row = logits.subarray((k - 1 - from) * tok.vocabSize, (k - from) * tok.vocabSize);
          let mx = -Infinity; for (const x of row) mx = Math.max(mx, x);
          let z = 0; for (const x of row) z += Math.exp(x - mx);
          byHand += row[seq[k]] - mx - Math.log(z);
        }
        p = e;
      }
    });
    const res = evaluateProbes(m, tok, parseProbes(JSON.stringify({ kind: 'text', text, probe: 'long', role: 'control' })));
    expect(ids.length).toBeGreaterThanOrEqual(2000);
    expect(res.probes.long!.tokens).toBe(ids.length);                      // every token scored, none cut
    expect(res.items[0].nll! / -byHand).toBeCloseTo(1, 5);
    expect(res.probes.long!.bpb).toBeCloseTo(-byHand / (Math.LN2 * Buffer.byteLength(text)), 4);
    expect(Math.log(res.probes.long!.word_ppl!) / (-byHand / text.split(/\s+/).length)).toBeCloseTo(1, 5);
  });

  it('rolling windows cover every token exactly once, each window within the context', () => {
    for (const [n, ctx] of [[1, 8], [8, 8], [9, 8], [17, 8], [100, 7]] as const) {
      const tokens = Array.from({ length: n }, (_, i) => 100 + i);
      const w = rollingWindows(tokens, 0, ctx);
      const scored = w.flatMap((q) => q.ids.slice(q.scoreFrom));
      expect(scored).toEqual(tokens);
      for (const q of w) expect(q.ids.length).toBeLessThanOrEqual(ctx + 1);
    }
  });

  it('a pair tie counts as wrong', () => {
    expect(pairCorrect([-1, -1])).toBe(false);
    expect(pairCorrect([-1, -1.5, -2])).toBe(true);
  });

  it('generation exact match is scored on the greedy completion', () => {
    const items = parseProbes('{"kind":"generate","prompt":"the cat<|sep|>","expected":"zzz","probe":"g"}');
    const r = evaluateProbes(trainedLikeModel(), tok, items, { maxNewTokens: 4 });
    expect(r.probes.g.gen_em).toBe(0);
    expect(r.items[0].gen_ok).toBe(false);
    expect(typeof r.items[0].output).toBe('string');
  });

  it('an expected answer longer than the context costs at most the context: generation stops where the context is full', () => {
    const long = 'the cat sat on the mat. '.repeat(400);                  // ~10 KB, far past nCtx 64
    const items = parseProbes(JSON.stringify({ kind: 'generate', prompt: 'the cat<|sep|>', expected: long, probe: 'g' }));
    const r = evaluateProbes(trainedLikeModel(), tok, items);
    const prompt = tok.encode('the cat<|sep|>', { allowSpecial: true }).length;
    expect(tok.encode(r.items[0].output!, { allowSpecial: true }).length).toBeLessThanOrEqual(64 - prompt);
    expect(r.items[0].gen_ok).toBe(false);
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

describe('scoring reuses its memory', () => {
  it('a second pass over the same requests takes every buffer from the pool (no graph records a noGrad pass; the scope gives its buffers back)', () => {
    const m = trainedLikeModel();
    const reqs = ['the cat sat on the mat.', 'she worked at home yesterday.', 'he went to school.']
      .map((t) => ({ ids: [0, ...tok.encode(t)], scoreFrom: 1 }));
    const first = scoreSequences(m, reqs, 2);
    const pool = poolOf(be), made = pool.created;
    const second = scoreSequences(m, reqs, 2);
    expect(pool.created).toBe(made);
    expect(second).toEqual(first);
  });
});
