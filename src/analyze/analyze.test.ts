import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createJsBackend } from '../backend/js/index.ts';
import { evaluateProbes } from '../eval/evaluate.ts';
import { NO_PROBES } from '../eval/probe-files.ts';
import { loadModel, saveModel } from '../model/checkpoint.ts';
import { GPT } from '../model/gpt.ts';
import { micro } from '../model/presets.ts';
import { loadProbes } from '../data/probes.ts';
import { toHfJson } from '../tokenizer/hf-json.ts';
import { trainBpe } from '../tokenizer/train.ts';
import { Rng } from '../util/rng.ts';
import { svd } from '../util/linalg.ts';
import { groupSpectrumSpecs } from '../report/update-plots.ts';
import { specToSvg } from '../report/render.ts';
import { ablate, diffUpdate, interpolate, Scorer, truncate } from './analyze.ts';
import { groupOf } from './groups.ts';
import { countIntruders, spectrumStats, truncateRank } from './spectrum.ts';
import { loadUpdate } from './update.ts';

const be = createJsBackend();
const ctx = { backend: be, log: () => {} };

/** Q (n × r) with orthonormal columns, from a random Gaussian matrix. */
function orthonormal(n: number, r: number, rng: Rng): Float64Array {
  const a = Float64Array.from({ length: n * r }, () => rng.normal());
  const s = svd(a, n, r);
  return s.u;                                                    // n × r
}
/** Σ σ_q u_q v_qᵀ (rows × cols). */
function fromFactors(u: Float64Array, sig: number[], v: Float64Array, rows: number, cols: number): Float64Array {
  const r = sig.length, out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) { let x = 0; for (let q = 0; q < r; q++) x += u[i * r + q] * sig[q] * v[j * r + q]; out[i * cols + j] = x; }
  return out;
}

describe('spectra of constructed updates', () => {
  const rng = new Rng(11);
  it('a rank-r update with equal singular values has effective rank r; any rank-r update has r90 ≤ r', () => {
    for (const r of [1, 3, 6]) {
      const eq = fromFactors(orthonormal(40, r, rng), Array(r).fill(2.5), orthonormal(30, r, rng), 40, 30);
      const s = spectrumStats(svd(eq, 40, 30).s);
      expect(s.erank).toBeCloseTo(r, 6);
      expect(s.r90).toBe(r);
      expect(s.stableRank).toBeCloseTo(r, 6);
      const skew = fromFactors(orthonormal(40, r, rng), Array.from({ length: r }, (_, q) => 10 ** -q), orthonormal(30, r, rng), 40, 30);
      expect(spectrumStats(svd(skew, 40, 30).s).r90).toBeLessThanOrEqual(r);
    }
    expect(spectrumStats([0, 0, 0])).toEqual({ erank: 0, r90: 0, stableRank: 0 });
  });

  it('an update inside W₀\'s top singular directions has no intruders; one large direction outside them has one', () => {
    const rows = 48, cols = 32;
    const U = orthonormal(rows, cols, rng), V = orthonormal(cols, cols, rng);
    const sig = Array.from({ length: cols }, (_, q) => 8 / (1 + q));
    const w0 = fromFactors(U, sig, V, rows, cols);
    const basis = svd(w0, rows, cols);
    // inside: scale W₀'s own top-5 directions
    const top5 = (src: Float64Array) => { const o = new Float64Array(rows * 5); for (let i = 0; i < rows; i++) for (let q = 0; q < 5; q++) o[i * 5 + q] = src[i * cols + q]; return o; };
    const vTop = new Float64Array(cols * 5); for (let j = 0; j < cols; j++) for (let q = 0; q < 5; q++) vTop[j * 5 + q] = V[j * cols + q];
    const inside = fromFactors(top5(U), [3, 2, 1.5, 1, 0.5], vTop, rows, cols);
    const sum = (a: Float64Array, b: Float64Array) => a.map((x, i) => x + b[i]);
    expect(countIntruders(basis, sum(w0, inside), rows, cols, 10, 0.5)).toBe(0);
    // outside: a direction spread over the 16 smallest singular directions of the input space (|cos| ≤ 1/4 with each)
    const x = new Float64Array(rows);
    for (let q = cols - 16; q < cols; q++) for (let i = 0; i < rows; i++) x[i] += U[i * cols + q] / 4;
    const y = orthonormal(cols, 1, rng);
    const out = fromFactors(x, [20], y, rows, cols);
    expect(countIntruders(basis, sum(w0, out), rows, cols, 10, 0.5)).toBe(1);
  });

  it('truncateRank is the best rank-r approximation (Eckart–Young: the error is the dropped singular values)', () => {
    const a = Float64Array.from({ length: 20 * 12 }, () => rng.normal());
    const s = svd(a, 20, 12).s;
    const t = truncateRank(a, 20, 12, 4);
    let err = 0; for (let i = 0; i < a.length; i++) err += (a[i] - t[i]) ** 2;
    expect(Math.sqrt(err)).toBeCloseTo(Math.sqrt(Array.from(s).slice(4).reduce((x, v) => x + v * v, 0)), 4);
  });

  it('groups by Hugging Face name', () => {
    expect(['transformer.wte.weight', 'transformer.h.0.attn.c_attn.weight', 'transformer.h.0.attn.c_proj.bias', 'transformer.h.1.mlp.c_fc.weight', 'transformer.h.1.mlp.c_proj.weight', 'transformer.ln_f.weight',
      'model.layers.0.self_attn.k_proj.weight', 'model.layers.0.mlp.down_proj.weight', 'model.layers.2.input_layernorm.weight', 'model.norm.weight', 'lm_head.weight'].map(groupOf))
      .toEqual(['embeddings/head', 'attention qkv', 'attention out', 'mlp up', 'mlp down', 'norms', 'attention qkv', 'mlp down', 'norms', 'norms', 'embeddings/head']);
  });
});

describe('fmn analyze on a real update', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fmn-analyze-'));
  beforeAll(() => {
    const tok = trainBpe(['He went home. She worked at home. They saw a bird.'], { vocabSize: 280 });
    const m = new GPT(be, { ...micro(tok.vocabSize), nCtx: 32 });
    m.initWeights(new Rng(1));
    saveModel(m, join(dir, 'base'), { tokenizerJson: JSON.stringify(toHfJson(tok)) });
    const r = new Rng(2);
    for (const p of m.parameters()) for (let i = 0; i < p.size; i++) p.data[i] += 0.02 * r.normal();
    saveModel(m, join(dir, 'tuned'), { tokenizerJson: JSON.stringify(toHfJson(tok)) });
    writeFileSync(join(dir, 'task.jsonl'), '{"kind":"pair","good":"He went home.","bad":["He goed home."]}\n{"kind":"pair","good":"They saw a bird.","bad":["They seed a bird."]}\n');
    writeFileSync(join(dir, 'control.jsonl'), '{"kind":"text","text":"She worked at home."}\n{"kind":"text","text":"They saw a bird."}\n');
  });
  const probes = () => ({ ...NO_PROBES, devTask: [join(dir, 'task.jsonl')], devControl: [join(dir, 'control.jsonl')] });
  const items = () => [...loadProbes(join(dir, 'task.jsonl'), { role: 'task', split: 'dev' }), ...loadProbes(join(dir, 'control.jsonl'), { role: 'control', split: 'dev' })];

  it('reverting every group gives the base scores exactly, reverting none the tuned scores; α 0 and 1 likewise', () => {
    const u = loadUpdate(join(dir, 'base'), { tuned: join(dir, 'tuned') }, ctx);
    const s = new Scorer(u, probes(), 0.05);
    const ev = (d: string) => { const m = loadModel(join(dir, d), be); return evaluateProbes(m, u.tok, items()); };
    const base = ev('base'), tuned = ev('tuned');
    const rows = ablate(s).rows;
    const none = rows.find((r) => r.mode === 'none')!, all = rows.find((r) => r.mode === 'all')!;
    expect(all.control_ppl).toBe(base.roles.control!.ppl);
    expect(all.task_acc).toBe(base.roles.task!.acc);
    expect(all.drift).toBe(0);
    expect(none.control_ppl).toBe(tuned.roles.control!.ppl);
    expect(none.task_acc).toBe(tuned.roles.task!.acc);
    // each group reverted and each group alone: every group with an update appears both ways
    expect(rows.filter((r) => r.mode === 'revert').map((r) => r.group)).toContain('embeddings/head');
    expect(rows.filter((r) => r.mode === 'only')).toHaveLength(rows.filter((r) => r.mode === 'revert').length);
    const curve = interpolate(s, [0, 1]).rows;
    expect(curve[0].control_ppl).toBe(base.roles.control!.ppl);
    expect(curve[1].control_ppl).toBe(tuned.roles.control!.ppl);
    // a rank cut as large as the matrices is the whole update; its same-size shrink is the update too
    const t = truncate(s, [1000]).rows;
    expect(t[0].control_ppl).toBeCloseTo(tuned.roles.control!.ppl!, 4);
    expect(t[1].control_ppl).toBeCloseTo(tuned.roles.control!.ppl!, 4);
  });

  it('diff: per matrix and group, ‖Δθ‖ the norm of every update, random updates have no more intruders than the null; a plot per group', async () => {
    const u = loadUpdate(join(dir, 'base'), { tuned: join(dir, 'tuned') }, ctx);
    const d = diffUpdate(u, { intruderK: 5, intruderEps: 0.5, nullDraws: 1, seed: 0 });
    expect(d.matrices.length).toBe(u.params.filter((p) => p.shape.length === 2).length);
    const total = Math.sqrt(u.params.reduce((a, p) => a + p.delta.reduce((x, v) => x + v * v, 0), 0));
    expect(d.delta_theta).toBeCloseTo(total, 6);
    expect(d.groups.reduce((a, g) => a + g.share_of_delta_sq, 0)).toBeCloseTo(1, 9);
    for (const m of d.matrices) {
      expect(m.erank).toBeGreaterThan(1); expect(m.r90).toBeLessThanOrEqual(Math.min(...m.shape));
      expect(m.sigma.length).toBe(Math.min(...m.shape));
      expect(Math.sqrt(m.sigma.reduce((a, x) => a + x * x, 0))).toBeCloseTo(m.delta_fro, 4);
    }
    // --plots: one SVG per group with an updated matrix, each curve ending at 100% of the energy
    const specs = groupSpectrumSpecs(d);
    expect(specs.map((p) => p.group).sort()).toEqual([...new Set(d.matrices.map((m) => m.group))].sort());
    const svg = await specToSvg(specs[0].spec);
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain(`Where the ${specs[0].group} update lives`);
  });
});
