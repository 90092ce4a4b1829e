import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createJsBackend } from '../backend/js/index.ts';
import { Rng } from '../util/rng.ts';
import { loadModel } from '../model/checkpoint.ts';
import { GPT } from '../model/gpt.ts';
import { micro, nanoLlama } from '../model/presets.ts';
import { readSafetensors } from '../model/safetensors.ts';
import { AdamW } from '../optim/adamw.ts';
import { add, scale } from '../tensor/ops/elementwise.ts';
import { crossEntropy } from '../tensor/ops/loss.ts';
import { noGrad, type Tensor } from '../tensor/tensor.ts';
import { gradCheck, randTensor, relErr, testRng } from '../../test/util.ts';
import { LORA_DEFAULTS } from './config.ts';
import { adapterParameters, applyLora, mergeAll, setLoraDisabled, unmergeAll } from './inject.ts';
import { loadAdapter, saveAdapter } from './peft.ts';
import { loraDeltaSqNorm, sqDistance } from './regularizer.ts';

const be = createJsBackend();
const V = 53;
const fixtures = join(import.meta.dirname, '..', '..', 'test', 'fixtures');

function model(kind: 'gpt2' | 'llama', seed = 1): GPT {
  const cfg = kind === 'gpt2' ? micro(V) : { ...nanoLlama(V), nCtx: 32, nEmbd: 24, nLayer: 2, nHead: 4, nKvHead: 2, intermediateSize: 40 };
  const m = new GPT(be, cfg);
  m.initWeights(new Rng(seed));
  return m;
}
const ids = Int32Array.from({ length: 2 * 9 }, (_, i) => (i * 17 + 3) % V);
const logitsOf = (m: GPT): Float32Array => noGrad(() => m.forward(ids, 2, 9).data.slice() as Float32Array);
const bitEqual = (a: Float32Array, b: Float32Array) => Buffer.compare(Buffer.from(a.buffer), Buffer.from(b.buffer)) === 0;
const randomizeB = (m: GPT, seed: number) => {
  const r = new Rng(seed);
  for (const [n, p] of m.namedParameters()) if (n.endsWith('lora_B.weight')) for (let i = 0; i < p.size; i++) p.data[i] = r.normal() * 0.1;
};

describe.each(['gpt2', 'llama'] as const)('LoRA invariants (%s)', (kind) => {
  it('a fresh adapter changes no logit (bit for bit)', () => {
    const m = model(kind);
    const before = logitsOf(m);
    applyLora(m, { ...LORA_DEFAULTS, rank: 4, targets: ['all-linear'] }, new Rng(2));
    expect(bitEqual(logitsOf(m), before)).toBe(true);
  });

  it('adapter disabled == base bit for bit; merge / unmerge agree within 1e-5', () => {
    const m = model(kind);
    const base = logitsOf(m);
    const ad = applyLora(m, { ...LORA_DEFAULTS, rank: 4, targets: ['all-linear'] }, new Rng(2));
    randomizeB(m, 3);
    const on = logitsOf(m);
    expect(relErr(on, base)).toBeGreaterThan(1e-3);     // the adapter does something
    setLoraDisabled(ad, true);
    expect(bitEqual(logitsOf(m), base)).toBe(true);
    setLoraDisabled(ad, false);
    mergeAll(ad);
    expect(relErr(logitsOf(m), on)).toBeLessThan(1e-5);
    unmergeAll(ad);
    expect(relErr(logitsOf(m), on)).toBeLessThan(1e-5);
    expect(relErr(logitsOf(m), on)).toBeLessThan(1e-5);
  });

  it('four ways: merge, disable (unmerges first, as PEFT: the base output, not the merged one), unmerge, re-enable', () => {
    const m = model(kind);
    const base = logitsOf(m);
    const ad = applyLora(m, { ...LORA_DEFAULTS, rank: 4, targets: ['all-linear'] }, new Rng(2));
    randomizeB(m, 3);
    const on = logitsOf(m);
    mergeAll(ad);
    expect(relErr(logitsOf(m), on)).toBeLessThan(1e-5);               // merged = adapter on
    setLoraDisabled(ad, true);
    expect(relErr(logitsOf(m), base)).toBeLessThan(1e-6);             // merged + disabled = the base
    for (const a of ad.values()) expect(a.merged).toBe(false);
    unmergeAll(ad);                                                    // already unmerged: a no-op
    expect(relErr(logitsOf(m), base)).toBeLessThan(1e-6);
    setLoraDisabled(ad, false);
    expect(relErr(logitsOf(m), on)).toBeLessThan(1e-5);               // re-enabled = adapter on again
    // base weights are back where they were (within float32 rounding of W + ΔW − ΔW)
    setLoraDisabled(ad, true);
    expect(relErr(logitsOf(m), base)).toBeLessThan(1e-6);
  });

  it('every adapter is in the forward path: perturbing any one of them moves the logits', () => {
    const m = model(kind);
    const ad = applyLora(m, { ...LORA_DEFAULTS, rank: 2, targets: ['all-linear'] }, new Rng(2));
    randomizeB(m, 3);
    const ref = logitsOf(m);
    expect(ad.size).toBe(kind === 'gpt2' ? 2 * 4 : 2 * 7);
    const r = new Rng(4);
    for (const [path, a] of ad) {
      const saved = a.loraB.data.slice();
      // a random perturbation (a uniform shift across output channels would vanish in the next LayerNorm)
      for (let i = 0; i < a.loraB.size; i++) a.loraB.data[i] += 0.5 * r.normal();
      expect(relErr(logitsOf(m), ref), path).toBeGreaterThan(1e-4);
      a.loraB.data.set(saved);
      expect(bitEqual(logitsOf(m), ref), path).toBe(true);
    }
  });

  it('training changes only A and B: every base weight bitwise unchanged; save → load reproduces logits', () => {
    const m = model(kind);
    const frozen = m.namedParameters().map(([n, p]) => [n, p.data.slice()] as const);
    const ad = applyLora(m, { ...LORA_DEFAULTS, rank: 4 }, new Rng(2));
    const params = adapterParameters(ad);
    const opt = new AdamW(params);
    for (let s = 0; s < 5; s++) {
      opt.zeroGrad();
      const loss = crossEntropy(m.forward(ids, 2, 9), Int32Array.from(ids, (x) => (x + 1) % V));
      loss.backward();
      loss.releaseGraph();
      opt.update(1e-2);
    }
    const after = new Map(m.namedParameters().map(([n, p]) => [n.replace('.base_layer.', '.'), p.data]));
    for (const [n, d] of frozen) expect(bitEqual(after.get(n) as Float32Array, d as Float32Array), n).toBe(true);
    const tuned = logitsOf(m);
    const dir = mkdtempSync(join(tmpdir(), 'fmn-lora-'));
    try {
      saveAdapter(dir, m, ad, { ...LORA_DEFAULTS, rank: 4 }, 'base');
      const fresh = model(kind);
      loadAdapter(dir, fresh, new Rng(99), () => {});
      expect(bitEqual(logitsOf(fresh), tuned)).toBe(true);
    } finally { rmSync(dir, { recursive: true }); }
  });
});

describe('LoRA targets (PEFT suffix rule)', () => {
  it('"c_proj" wraps attention and MLP projections; "attn.c_proj" only the attention one', () => {
    const a = applyLora(model('gpt2'), { ...LORA_DEFAULTS, targets: ['c_proj'] }, new Rng(1));
    expect([...a.keys()]).toEqual(['transformer.h.0.attn.c_proj', 'transformer.h.0.mlp.c_proj', 'transformer.h.1.attn.c_proj', 'transformer.h.1.mlp.c_proj']);
    const b = applyLora(model('gpt2'), { ...LORA_DEFAULTS, targets: ['c_attn', 'attn.c_proj'] }, new Rng(1));
    expect([...b.keys()]).toEqual(['transformer.h.0.attn.c_attn', 'transformer.h.0.attn.c_proj', 'transformer.h.1.attn.c_attn', 'transformer.h.1.attn.c_proj']);
    expect(() => applyLora(model('gpt2'), { ...LORA_DEFAULTS, targets: ['q_proj'] }, new Rng(1))).toThrow(/no Linear layer matches q_proj/);
  });
});

describe('LoRA gradients', () => {
  it('‖s·BA‖² and its gradient match the explicit product and finite differences (float64)', () => {
    const rnd = testRng(7);
    const A = randTensor(be, [3, 7], rnd), B = randTensor(be, [5, 3], rnd);
    A.requiresGrad = true; B.requiresGrad = true;
    const s = 2.5;
    // explicit: ΔW = s B A (5, 7)
    let explicit = 0;
    for (let o = 0; o < 5; o++) for (let i = 0; i < 7; i++) {
      let v = 0;
      for (let k = 0; k < 3; k++) v += B.data[o * 3 + k] * A.data[k * 7 + i];
      explicit += (s * v) ** 2;
    }
    expect(loraDeltaSqNorm(A, B, s).item()).toBeCloseTo(explicit, 10);
    expect(gradCheck(([a, b]) => loraDeltaSqNorm(a, b, s), [A, B], rnd)).toBeLessThan(1e-6);
  });

  it('L2-SP ‖θ − θ₀‖² gradient matches finite differences (float64)', () => {
    const rnd = testRng(8);
    const t = randTensor(be, [4, 3], rnd);
    t.requiresGrad = true;
    const t0 = Float64Array.from(t.data, (x) => x + 0.3);
    expect(gradCheck(([x]) => sqDistance(x, t0), [t], rnd)).toBeLessThan(1e-6);
  });

  it('PyTorch fixture: adapter-on loss + λ‖ΔW‖² and the gradients of every A and B', () => {
    const base = loadModel(join(fixtures, 'tiny-gpt2'), be);
    const warnings: string[] = [];
    const { adapters, config } = loadAdapter(join(fixtures, 'tiny-gpt2-lora'), base, new Rng(1), (w) => warnings.push(w));
    expect(warnings.join()).toContain('"lambda"');        // unknown keys warn, never fail
    const ref = readSafetensors(join(fixtures, 'tiny-gpt2-lora', 'reference.safetensors')).tensors;
    const baseRef = readSafetensors(join(fixtures, 'tiny-gpt2', 'reference.safetensors')).tensors;
    const ids2 = Int32Array.from(baseRef.get('ids')!.data), tg = Int32Array.from(baseRef.get('targets')!.data);
    const logits = base.forward(ids2, 2, 7);
    expect(relErr(logits.data, ref.get('logits')!.data)).toBeLessThan(1e-4);
    const ce = crossEntropy(logits, tg);
    const s = config.alpha / config.rank;
    let reg: Tensor | null = null;
    for (const a of adapters.values()) { const r = loraDeltaSqNorm(a.loraA, a.loraB, s); reg = reg === null ? r : add(reg, r); }
    const loss = add(ce, scale(reg!, 0.05));   // λ = 0.05, as in the fixture
    expect(Math.abs(loss.item() - ref.get('total')!.data[0]) / ref.get('total')!.data[0]).toBeLessThan(1e-5);
    loss.backward();
    for (const [name, p] of adapterParameters(adapters)) {
      expect(relErr(p.grad!, ref.get(`grad.${name}`)!.data), name).toBeLessThan(1e-3);
    }
  });
});
