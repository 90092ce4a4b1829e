import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createJsBackend } from '../backend/js/index.ts';
import { loadModel, saveModel } from '../model/checkpoint.ts';
import { GPT } from '../model/gpt.ts';
import { readModelConfig } from '../model/checkpoint.ts';
import { readSafetensors } from '../model/safetensors.ts';
import { crossEntropy } from '../tensor/ops/loss.ts';
import { noGrad } from '../tensor/tensor.ts';
import { Rng } from '../util/rng.ts';
import { relErr } from '../../test/util.ts';
import { LORA_DEFAULTS, resolveTargets } from './config.ts';
import { adapterParameters, applyLora, mergeAll, setLoraDisabled } from './inject.ts';
import { loadAdapter, saveAdapter } from './peft.ts';
import { loraParamCounts } from './params.ts';

const ARCH = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'arch');
const be = createJsBackend();
const tmp = mkdtempSync(join(tmpdir(), 'fmn-lora-arch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('LoRA on the llama fixture against the PyTorch reference (r 4 on q_proj, v_proj)', () => {
  const ref = readSafetensors(join(ARCH, 'llama-lora', 'reference.safetensors')).tensors;
  const ids = Int32Array.from(ref.get('ids')!.data), targets = Int32Array.from(ref.get('targets')!.data);
  const [B, T] = ref.get('ids')!.shape;

  it('adapter-on logits, loss and the gradient of every lora_A / lora_B; one SGD step written by saveAdapter reproduces the reference', () => {
    const model = loadModel(join(ARCH, 'llama'), be);
    const { adapters, config } = loadAdapter(join(ARCH, 'llama-lora'), model, new Rng(1), () => {});
    expect(config).toMatchObject({ rank: 4, alpha: 8, targets: ['q_proj', 'v_proj'] });
    expect([...adapters.keys()]).toEqual(['model.layers.0.self_attn.q_proj', 'model.layers.0.self_attn.v_proj', 'model.layers.1.self_attn.q_proj', 'model.layers.1.self_attn.v_proj']);
    const logits = model.forward(ids, B, T);
    const logitsErr = relErr(logits.data, ref.get('logits')!.data);
    const loss = crossEntropy(logits, targets);
    expect(Math.abs(loss.item() - ref.get('loss')!.data[0]) / ref.get('loss')!.data[0]).toBeLessThan(1e-5);
    loss.backward();
    let gradErr = 0;
    for (const [name, p] of adapterParameters(adapters)) {
      const e = relErr(p.grad!, ref.get(`grad.${name}`)!.data);
      gradErr = Math.max(gradErr, e);
      expect(e, name).toBeLessThan(1e-4);
    }
    // one plain SGD step with our gradients, then the adapter as the finetune recipe writes it
    const lr = ref.get('lr')!.data[0];
    for (const [, p] of adapterParameters(adapters)) for (let i = 0; i < p.size; i++) p.data[i] -= lr * p.grad![i];
    const out = join(tmp, 'stepped');
    saveAdapter(out, model, adapters, config, '../llama');
    const written = readSafetensors(join(out, 'adapter_model.safetensors')).tensors;
    const theirs = readSafetensors(join(ARCH, 'llama-lora', 'adapter_model.safetensors')).tensors;
    // PEFT's keys and shapes, exactly
    expect([...written.keys()].sort()).toEqual([...theirs.keys()].sort());
    expect([...written.keys()]).toContain('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
    for (const [k, t] of theirs) expect(written.get(k)!.shape, k).toEqual(t.shape);
    for (const [k, t] of written) {
      const name = k.replace(/^base_model\.model\./, '');
      expect(relErr(t.data, ref.get(`after.${name}`)!.data), k).toBeLessThan(1e-5);
    }
    const cfg = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'));
    expect(cfg).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 8, fan_in_fan_out: false, bias: 'none', base_model_name_or_path: '../llama' });
    expect([...cfg.target_modules].sort()).toEqual(['q_proj', 'v_proj']);
    // the torch reference, applying these values, gives what our written adapter gives
    const fresh = loadModel(join(ARCH, 'llama'), be);
    loadAdapter(out, fresh, new Rng(2), () => {});
    const after = noGrad(() => fresh.forward(ids, B, T).data);
    const afterErr = relErr(after, ref.get('logits_after')!.data);
    console.log(`llama LoRA: logits rel err ${logitsErr.toExponential(2)}, gradients max rel err ${gradErr.toExponential(2)}, after one step ${afterErr.toExponential(2)}`);
    expect(logitsErr).toBeLessThan(1e-4);
    expect(afterErr).toBeLessThan(1e-4);
    // and the adapter matters: without it the logits are far from the reference
    const base = noGrad(() => loadModel(join(ARCH, 'llama'), be).forward(ids, B, T).data);
    expect(relErr(base, ref.get('logits_after')!.data)).toBeGreaterThan(1e-2);
  });

  it('fan_in_fan_out that does not fit the architecture is warned about and corrected, as PEFT does', () => {
    const dir = join(tmp, 'fifo');
    cpSync(join(ARCH, 'llama-lora'), dir, { recursive: true });
    const cfg = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ ...cfg, fan_in_fan_out: true }));
    const warnings: string[] = [];
    const model = loadModel(join(ARCH, 'llama'), be);
    loadAdapter(dir, model, new Rng(1), (w) => warnings.push(w));
    expect(warnings.join('\n')).toMatch(/fan_in_fan_out true does not fit llama's nn\.Linear \(out, in\) weights; set to false/);
    const ref = readSafetensors(join(ARCH, 'llama-lora', 'reference.safetensors')).tensors;
    expect(relErr(noGrad(() => model.forward(ids, B, T).data), ref.get('logits')!.data)).toBeLessThan(1e-4);
  });
});

describe.each(['qwen2', 'gpt_neox', 'gpt_neox-seq', 'llama-untied'])('LoRA on %s', (name) => {
  const V = 97;
  const ids = Int32Array.from({ length: 2 * 8 }, (_, i) => (i * 29 + 5) % V);
  const logitsOf = (m: GPT) => noGrad(() => m.forward(ids, 2, 8).data.slice() as Float32Array);
  const neox = name.startsWith('gpt_neox');

  it('module names as PEFT uses them, PEFT keys, fan_in_fan_out false, and save → load → merge agree', () => {
    const model = loadModel(join(ARCH, name), be);
    const base = logitsOf(model);
    const cfg = { ...LORA_DEFAULTS, rank: 4, alpha: 8, targets: ['all-linear'] };
    expect(resolveTargets(cfg, model.config)).toEqual(neox ? ['query_key_value', 'dense', 'dense_h_to_4h', 'dense_4h_to_h'] : ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']);
    expect(resolveTargets({ ...cfg, targets: ['default'] }, model.config)).toEqual(neox ? ['query_key_value', 'dense'] : ['q_proj', 'k_proj', 'v_proj', 'o_proj']);
    const ad = applyLora(model, cfg, new Rng(3));
    expect(ad.size).toBe(model.config.nLayer * (neox ? 4 : 7));
    expect(loraParamCounts(model.config, cfg).rows.map((r) => r.layer)).toEqual([...ad.keys()]);
    expect(Buffer.from(logitsOf(model).buffer).equals(Buffer.from(base.buffer))).toBe(true);   // B = 0: a no-op
    const r = new Rng(4);
    for (const [, p] of adapterParameters(ad)) if (p.shape[1] === 4) for (let i = 0; i < p.size; i++) p.data[i] = 0.1 * r.normal();
    const on = logitsOf(model);
    expect(relErr(on, base)).toBeGreaterThan(1e-3);
    const out = join(tmp, `ad-${name}`);
    saveAdapter(out, model, ad, cfg, name);
    const keys = [...readSafetensors(join(out, 'adapter_model.safetensors')).tensors.keys()];
    const pre = neox ? 'base_model.model.gpt_neox.layers.0.' : 'base_model.model.model.layers.0.';
    for (const m of neox ? ['attention.query_key_value', 'attention.dense', 'mlp.dense_h_to_4h', 'mlp.dense_4h_to_h'] : ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj']) {
      expect(keys).toContain(`${pre}${m}.lora_A.weight`);
      expect(keys).toContain(`${pre}${m}.lora_B.weight`);
    }
    const written = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'));
    expect(written.fan_in_fan_out).toBe(false);
    expect([...written.target_modules].sort()).toEqual([...resolveTargets(cfg, model.config)].sort());
    const fresh = loadModel(join(ARCH, name), be);
    loadAdapter(out, fresh, new Rng(9), () => {});
    expect(Buffer.from(logitsOf(fresh).buffer).equals(Buffer.from(on.buffer))).toBe(true);
    // merged into the base weights (kept in HF order: NeoX's per-head fused rows included), saved, reloaded without the adapter
    mergeAll(ad);
    expect(relErr(logitsOf(model), on)).toBeLessThan(1e-5);
    const merged = join(tmp, `merged-${name}`);
    saveModel(model, merged);
    expect(relErr(logitsOf(loadModel(merged, be)), on)).toBeLessThan(1e-5);
    setLoraDisabled(ad, true);   // unmerges: W + ΔW − ΔW, within float32 rounding
    expect(relErr(logitsOf(model), base)).toBeLessThan(1e-5);
  });

  it('one training step moves the loss down through the adapters', () => {
    const model = new GPT(be, readModelConfig(join(ARCH, name)));
    model.initWeights(new Rng(5));
    const ad = applyLora(model, { ...LORA_DEFAULTS, rank: 2, targets: ['all-linear'] }, new Rng(6));
    const tg = Int32Array.from(ids, (x) => (x + 1) % V);
    const l0 = crossEntropy(model.forward(ids, 2, 8), tg);
    l0.backward();
    // B starts at 0: every B has a gradient, no A has one yet (as in PEFT)
    for (const [n, p] of adapterParameters(ad)) expect(p.grad!.some((g) => g !== 0), n).toBe(n.endsWith('lora_B.weight'));
    for (const [, p] of adapterParameters(ad)) for (let i = 0; i < p.size; i++) p.data[i] -= 0.5 * p.grad![i];
    expect(noGrad(() => crossEntropy(model.forward(ids, 2, 8), tg).item())).toBeLessThan(l0.item());
  });
});
