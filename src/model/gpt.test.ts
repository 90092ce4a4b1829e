import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createJsBackend } from '../backend/js/index.ts';
import type { Backend } from '../backend/backend.ts';
import { loadNativeBackend } from '../backend/native/index.ts';
import { crossEntropy, IGNORE_INDEX } from '../tensor/ops/loss.ts';
import { relErr, testRng } from '../../test/util.ts';
import { loadModel, saveModel, stateDict } from './checkpoint.ts';
import { GPT, lmLoss } from './gpt.ts';
import type { GPTConfig } from './config.ts';
import { micro, nanoLlama } from './presets.ts';
import { readSafetensors } from './safetensors.ts';
import { AdamW } from '../optim/adamw.ts';
import { parameter } from '../tensor/tensor.ts';

const fixtures = join(import.meta.dirname, '..', '..', 'test', 'fixtures');
const backends: [string, () => Backend | null][] = [
  ['js', () => createJsBackend()],
  ['native', () => { try { return loadNativeBackend(); } catch { return null; } }],
];

describe.each(backends)('PyTorch reference (%s backend)', (bname, make) => {
  const be = make();
  for (const name of ['tiny-gpt2', 'tiny-llama']) {
    it.skipIf(be === null)(`${name}: logits, loss and every gradient match PyTorch`, () => {
      const dir = join(fixtures, name);
      const model = loadModel(dir, be!);
      const ref = readSafetensors(join(dir, 'reference.safetensors')).tensors;
      const ids = Int32Array.from(ref.get('ids')!.data);
      const targets = Int32Array.from(ref.get('targets')!.data);
      const [B, T] = ref.get('ids')!.shape;
      const logits = model.forward(ids, B, T);
      // float32 forward through 2 layers: relative error ≤ 1e-4 (issue bound)
      expect(relErr(logits.data, ref.get('logits')!.data)).toBeLessThan(1e-4);
      const loss = crossEntropy(logits, targets);
      expect(Math.abs(loss.item() - ref.get('loss')!.data[0]) / ref.get('loss')!.data[0]).toBeLessThan(1e-5);
      loss.backward();
      const grads = stateDict(model, 'grad');
      for (const [k, g] of grads) {
        const r = ref.get(`grad.${k}`);
        expect(r, k).toBeDefined();
        expect(relErr(g.data, r!.data), `${bname} grad ${k}`).toBeLessThan(1e-3);
      }
    });
  }
});

describe.each(backends)('zeroGrad (%s backend)', (_bname, make) => {
  const be = make();
  const rngOf = (seed: number) => { const r = testRng(seed); return { next: r }; };
  const bits = (b: ArrayLike<number> | null) => Buffer.from(Float32Array.from(b as ArrayLike<number>).buffer);

  // zeroGrad leaves the buffers as they are: the next backward's first contribution overwrites
  // them (a weight gradient's GEMM starting from zero instead of reading C) and any other first
  // use sees zeros. Either way the gradients must be the bits of a first backward.
  it.skipIf(be === null)('the next backward gives the bits of a first one; a gradient nothing writes reads zeros', () => {
    const V = 37, B = 2, T = 9;
    const r = testRng(11);
    const batch = () => [Int32Array.from({ length: B * T }, () => Math.floor(r() * V)), Int32Array.from({ length: B * T }, () => Math.floor(r() * V))];
    const [x, tx] = batch(), [y, ty] = batch();
    const grads = (m: GPT) => m.namedParameters().map(([n, t]) => [n, bits(t.grad)] as const);
    const differing = (a: (readonly [string, Buffer])[], b: (readonly [string, Buffer])[]) => a.filter(([n, g], i) => b[i][0] !== n || !g.equals(b[i][1])).map(([n]) => n);
    const step = (m: GPT, ids: Int32Array, tg: Int32Array) => { const l = crossEntropy(m.forward(ids, B, T), tg); l.backward(); l.releaseGraph(); };

    const first = new GPT(be!, micro(V)); first.initWeights(rngOf(4));   // tied embeddings: the head's and the embedding's contributions
    step(first, x, tx);
    const want = grads(first);
    step(first, y, ty);                                                   // accumulated: x's then y's
    const wantBoth = grads(first);

    const m = new GPT(be!, micro(V)); m.initWeights(rngOf(4));
    const unused = parameter(be!, Float32Array.from([1, 2, 3]), [3]);
    const opt = new AdamW([...m.namedParameters(), ['unused', unused]]);
    unused.ensureGrad().fill(5);
    step(m, y, ty);                                                       // stale values in every buffer
    opt.zeroGrad();
    step(m, x, tx);
    expect(differing(grads(m), want)).toEqual([]);
    expect(Array.from(unused.grad!)).toEqual([0, 0, 0]);
    step(m, y, ty);
    expect(differing(grads(m), wantBoth)).toEqual([]);
    opt.zeroGrad();
    expect(Array.from(m.namedParameters()[0][1].grad!).every((v) => v === 0)).toBe(true);
  });
});

describe('GPT sanity (js backend)', () => {
  const be = createJsBackend();
  const V = 61;
  const rngOf = (seed: number) => { const r = testRng(seed); return { next: r }; };

  it('initial loss ≈ ln V', () => {
    const model = new GPT(be, micro(V));
    model.initWeights(rngOf(1));
    const r = testRng(2);
    const ids = Int32Array.from({ length: 4 * 16 }, () => Math.floor(r() * V));
    const tg = Int32Array.from({ length: 4 * 16 }, () => Math.floor(r() * V));
    const loss = crossEntropy(model.forward(ids, 4, 16), tg).item();
    expect(Math.abs(loss - Math.log(V))).toBeLessThan(0.1);
  });

  it('one batch overfits to < 0.05', () => {
    const model = new GPT(be, micro(V));
    model.initWeights(rngOf(3));
    const r = testRng(4);
    const ids = Int32Array.from({ length: 2 * 12 }, () => Math.floor(r() * V));
    const tg = Int32Array.from({ length: 2 * 12 }, () => Math.floor(r() * V));
    const opt = new AdamW(model.namedParameters(), { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
    let loss = Infinity;
    for (let s = 0; s < 150 && loss >= 0.05; s++) {
      opt.zeroGrad();
      const l = crossEntropy(model.forward(ids, 2, 12), tg);
      loss = l.item();
      l.backward();
      l.releaseGraph();
      opt.update(3e-3);
    }
    expect(loss).toBeLessThan(0.05);
  });

  it('save → load round-trips exactly (gpt2 and llama)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fmn-model-'));
    try {
      for (const cfg of [micro(V), { ...nanoLlama(V), nLayer: 1, nEmbd: 24, nHead: 4, nKvHead: 2, intermediateSize: 40 }]) {
        const m = new GPT(be, cfg);
        m.initWeights(rngOf(5));
        saveModel(m, dir);
        const back = loadModel(dir, be);
        expect(back.config).toMatchObject({ ...cfg, bosTokenId: undefined, eosTokenId: undefined });
        const a = m.namedParameters(), b = back.namedParameters();
        expect(b.map(([n]) => n)).toEqual(a.map(([n]) => n));
        a.forEach(([, t], i) => expect(Buffer.compare(Buffer.from(t.data.buffer), Buffer.from(b[i][1].data.buffer))).toBe(0));
      }
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});

describe('config sizes, checked before anything is built', () => {
  it('configParams counts what the model builds, for every preset and both architectures', async () => {
    const { configParams } = await import('./config.ts');
    const { PRESETS } = await import('./presets.ts');
    const { createJsBackend } = await import('../backend/js/index.ts');
    for (const [name, make] of Object.entries(PRESETS)) {
      const c = make(97);
      expect(configParams(c), name).toBe(new GPT(createJsBackend(), c).numParams());
    }
    const untied = { ...PRESETS['nano-llama'](50), tieWordEmbeddings: false, nKvHead: 2 };
    expect(configParams(untied)).toBe(new GPT(createJsBackend(), untied).numParams());
  });

  it('a config.json describing more than its weights file holds is refused, naming the key as written', async () => {
    const { mkdtempSync, writeFileSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { loadModel, saveModel } = await import('./checkpoint.ts');
    const { createJsBackend } = await import('../backend/js/index.ts');
    const { PRESETS } = await import('./presets.ts');
    const be = createJsBackend();
    const dir = mkdtempSync(join(tmpdir(), 'fmn-cfg-'));
    saveModel(new GPT(be, PRESETS.micro(60)), dir);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, n_layer: 100000 }));
    expect(() => loadModel(dir, be)).toThrow(/config\.json: config\.json describes [\d,]+ parameters, more than the [\d,]+-byte weights file can hold/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, n_embd: 1e9 }));
    expect(() => loadModel(dir, be)).toThrow(/field "n_embd"|parameters/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, n_head: 7 }));
    expect(() => loadModel(dir, be)).toThrow(/field "n_head": n_embd 48 is not a multiple of n_head 7/);
  });
});

describe('linearShapes', () => {
  it('names and sizes every replaceable Linear the built model has, for every preset but the 124M one', async () => {
    const { linearShapes } = await import('./config.ts');
    const { PRESETS } = await import('./presets.ts');
    const { createJsBackend } = await import('../backend/js/index.ts');
    const { targetLinears } = await import('../lora/inject.ts');
    for (const [name, make] of Object.entries(PRESETS)) {
      if (name === 'gpt2') continue;
      const c = make(61);
      const built = targetLinears(new GPT(createJsBackend(), c), new Set(['all-linear'].flatMap(() => ['c_attn', 'c_proj', 'c_fc', 'q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'])))
        .map((l) => ({ path: l.path, in: l.linear.inFeatures, out: l.linear.outFeatures }));
      expect(linearShapes(c), name).toEqual(built);
    }
  });
});

describe('incremental decoding with a key/value cache', () => {
  it('step() gives the same logits as a full forward at every position, gpt2 and llama (GQA), with LoRA wrapped layers', async () => {
    const { createJsBackend } = await import('../backend/js/index.ts');
    const { nanoLlama } = await import('./presets.ts');
    const { applyLora } = await import('../lora/inject.ts');
    const { LORA_DEFAULTS } = await import('../lora/config.ts');
    const { Rng } = await import('../util/rng.ts');
    const { noGrad } = await import('../tensor/tensor.ts');
    const be = createJsBackend();
    for (const cfg of [{ ...micro(37), nCtx: 16 }, { ...nanoLlama(37), nCtx: 16, nEmbd: 24, nLayer: 2, nHead: 4, nKvHead: 2, intermediateSize: 40 }]) {
      const m = new GPT(be, cfg);
      m.initWeights(new Rng(3));
      applyLora(m, { ...LORA_DEFAULTS, rank: 2, targets: ['all-linear'] }, new Rng(4));
      for (const [n, p] of m.namedParameters()) if (n.includes('lora_B')) for (let i = 0; i < p.size; i++) p.data[i] = 0.05 * ((i * 7) % 11 - 5);
      const B = 3, T = 9, ids = Int32Array.from({ length: B * T }, (_, i) => (i * 13 + 5) % 37);
      noGrad(() => {
        const full = m.forward(ids, B, T).data;                       // (B, T, V)
        // the first 4 positions at once (a prompt), then one at a time
        const cache = m.newCache(B, T);
        const first = m.step(Int32Array.from({ length: B * 4 }, (_, i) => ids[Math.floor(i / 4) * T + (i % 4)]), cache, 4);
        for (let b = 0; b < B; b++) for (let v = 0; v < 37; v++) expect(Math.abs(first[b * 37 + v] - full[(b * T + 3) * 37 + v])).toBeLessThan(2e-5);
        for (let t = 4; t < T; t++) {
          const got = m.step(Int32Array.from({ length: B }, (_, b) => ids[b * T + t]), cache);
          for (let b = 0; b < B; b++) for (let v = 0; v < 37; v++) {
            expect(Math.abs(got[b * 37 + v] - full[(b * T + t) * 37 + v]), `${cfg.modelType} t ${t}`).toBeLessThan(2e-5);
          }
        }
      });
    }
  });

  it('decodeBatch gives the same greedy outputs with the cache as by recomputing (prompts past the context take the recompute path)', async () => {
    const { createJsBackend } = await import('../backend/js/index.ts');
    const { Rng } = await import('../util/rng.ts');
    const { decodeBatch } = await import('./generate.ts');
    const m = new GPT(createJsBackend(), { ...micro(41), nCtx: 24 });
    m.initWeights(new Rng(5));
    const prompts = [[1, 2, 3], [4, 5, 6], [7, 8, 9, 10, 11], [12], Array.from({ length: 22 }, (_, i) => i + 1)];
    const cached = decodeBatch(m, prompts, { maxNewTokens: 6, stopIds: [40] });
    // the reference: one prompt at a time, recomputing the whole sequence for every token
    for (const [k, p] of prompts.entries()) {
      const seq = p.slice(), ref: number[] = [];
      for (let i = 0; i < 6; i++) {
        const T = Math.min(seq.length, 24), ids = Int32Array.from(seq.slice(-T));
        const row = m.forward(ids, 1, T).data.subarray((T - 1) * 41, T * 41);
        let best = 0; for (let v = 1; v < 41; v++) if (row[v] > row[best]) best = v;
        if (best === 40) break;
        ref.push(best); seq.push(best);
      }
      expect(cached[k].ids, `prompt ${k}`).toEqual(ref);
    }
  });
});

describe.each(backends)('lmLoss: the head on the scored positions only (%s backend)', (_bname, make) => {
  const be = make();
  const V = 61;
  const neox: GPTConfig = { ...nanoLlama(V), modelType: 'gpt_neox', nLayer: 2, nKvHead: nanoLlama(V).nHead, tieWordEmbeddings: false };   // parallel residual
  for (const [name, cfg] of [['gpt2, tied head', micro(V)], ['llama, own head', { ...nanoLlama(V), nLayer: 2 }], ['gpt_neox, parallel residual', neox]] as const) {
    // 42 rows, and 180 (LayerNorm's parameter gradients sum rows in chunks of 64: dropping rows
    // before a norm would regroup them)
    for (const [B, T] of [[3, 14], [6, 30]] as const) {
      it.skipIf(be === null)(`${name}, ${B}×${T}: the same loss, per-position losses and gradients as the full logits, bit for bit`, () => {
        const r = testRng(11);
        const ids = Int32Array.from({ length: B * T }, () => Math.floor(r() * V));
        // SFT-shaped targets: a prompt of 2..6 positions, a completion, then padding
        const targets = new Int32Array(B * T).fill(IGNORE_INDEX);
        for (let b = 0; b < B; b++) {
          const from = 2 + b * 2, to = T - b * 3;
          for (let t = from; t < to; t++) targets[b * T + t] = Math.floor(r() * V);
        }
        const run = (compact: boolean) => {
          const model = new GPT(be!, cfg);
          const rng = testRng(5);
          model.initWeights({ next: rng });
          const per = new Float32Array(B * T);
          const loss = compact ? lmLoss(model, ids, B, T, targets, per) : crossEntropy(model.forward(ids, B, T), targets, { perToken: per });
          loss.backward();
          return { loss: loss.item(), per, grads: model.namedParameters().map(([k, p]) => [k, p.grad!.slice()] as const) };
        };
        const full = run(false), rows = run(true);
        expect(rows.loss).toBe(full.loss);
        expect(Array.from(rows.per)).toEqual(Array.from(full.per));
        for (let i = 0; i < full.grads.length; i++) {
          const [k, g] = full.grads[i];
          expect(Buffer.from(rows.grads[i][1].buffer).equals(Buffer.from(g.buffer)), `grad ${k}`).toBe(true);
        }
      });
    }
  }
});
