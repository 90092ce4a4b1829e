import { spawnSync } from 'node:child_process';
import { existsSync, statSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../backend/backend.ts';
import { createJsBackend } from '../backend/js/index.ts';
import { loadNativeBackend } from '../backend/native/index.ts';
import { Rng } from '../util/rng.ts';
import { saveModel } from '../model/checkpoint.ts';
import { GPT } from '../model/gpt.ts';
import { micro } from '../model/presets.ts';
import { readSafetensors } from '../model/safetensors.ts';
import { LORA_DEFAULTS } from '../lora/config.ts';
import { toHfJson } from '../tokenizer/hf-json.ts';
import { trainBpe } from '../tokenizer/train.ts';
import { probeFileObservers } from '../data/probes.ts';
import { NO_PROBES } from '../eval/probe-files.ts';
import { finetune, FINETUNE_DEFAULTS, type FinetuneConfig } from './finetune.ts';

const root = join(import.meta.dirname, '..', '..');
const be = createJsBackend();
const ctx = { backend: be, log: () => {} };
let dir: string;
const rows = [
  { prompt: 'He goed to the store.', completion: 'He went to the store. (correction)' },
  { prompt: 'She eated lunch.', completion: 'She ate lunch. (correction)' },
  { prompt: 'They went home.', completion: 'They went home. (correct)' },
  { prompt: 'I seed a bird.', completion: 'I saw a bird. (correction)' },
];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fmn-ft-'));
  const tok = trainBpe([...rows.map((r) => `${r.prompt} ${r.completion}`), 'She worked at home yesterday.'], { vocabSize: 300 });
  const model = new GPT(be, { ...micro(tok.vocabSize), nCtx: 48 });
  model.initWeights(new Rng(1));
  saveModel(model, join(dir, 'base'), { tokenizerJson: JSON.stringify(toHfJson(tok)) });
  writeFileSync(join(dir, 'sft.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(join(dir, 'replay.txt'), 'She worked at home yesterday.\nWe played in the park.\n'.repeat(20));
  writeFileSync(join(dir, 'probes.jsonl'), [
    '{"kind":"pair","good":"He went to the store.","bad":["He goed to the store."],"probe":"task","role":"task"}',
    '{"kind":"text","text":"She worked at home yesterday.","probe":"control","role":"control"}',
  ].join('\n') + '\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cfg = (out: string, over: Partial<FinetuneConfig> = {}): FinetuneConfig => ({
  ...FINETUNE_DEFAULTS, base: join(dir, 'base'), data: join(dir, 'sft.jsonl'), out: join(dir, out),
  method: { kind: 'lora', ...LORA_DEFAULTS, rank: 4, dropout: 0.1 }, lr: 1e-2, steps: 8, batch: 2, warmup: 2, ...over,
});
const bytes = (f: string) => readFileSync(f);

describe('finetune', () => {
  it('LoRA with dropout and replay: stopped at step 3 and resumed ends bit-identical to the uninterrupted run', async () => {
    const over = { replay: 0.25, replayText: join(dir, 'replay.txt'), loraL2: 1e-3 };
    await finetune(cfg('full-run', over), ctx);
    await finetune(cfg('split-run', { ...over, stopAfter: 3 }), ctx);
    const st = JSON.parse(readFileSync(join(dir, 'split-run', 'checkpoints', 'step-00000003', 'training_state.json'), 'utf8'));
    expect(st.step).toBe(3);
    await finetune(cfg('split-run', { ...over, resume: true }), ctx);
    expect(bytes(join(dir, 'split-run', 'adapter_model.safetensors')).equals(bytes(join(dir, 'full-run', 'adapter_model.safetensors')))).toBe(true);
    const lossesOf = (r: string) => readFileSync(join(dir, r, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((m) => 'loss' in m).map((m) => m.loss);
    expect(lossesOf('split-run')).toEqual(lossesOf('full-run'));
  });

  it('LoRA declares the frozen base to the backend for the run and releases it; bf16 gives the adapter of a run that ignores the declaration, bit for bit', async () => {
    let nb: Backend;
    try { nb = loadNativeBackend(); } catch { nb = createJsBackend(); }
    const seen: { bufs: number; released: boolean }[] = [];
    const declaring = Object.create(nb) as Backend;
    declaring.freezeOperands = (bufs) => {
      const e = { bufs: bufs.length, released: false };
      seen.push(e);
      const release = nb.freezeOperands(bufs);
      return () => { e.released = true; release(); };
    };
    const ignoring = Object.create(nb) as Backend;
    ignoring.freezeOperands = () => () => {};
    await finetune(cfg('frozen-declared', { precision: 'bf16' }), { backend: declaring, log: () => {} });
    await finetune(cfg('frozen-ignored', { precision: 'bf16' }), { backend: ignoring, log: () => {} });
    // every 2-D base parameter: wte, wpe, and each block's four linears
    const layers = new GPT(be, { ...micro(300), nCtx: 48 }).config.nLayer;
    expect(seen).toEqual([{ bufs: 2 + 4 * layers, released: true }]);
    expect(bytes(join(dir, 'frozen-declared', 'adapter_model.safetensors')).equals(bytes(join(dir, 'frozen-ignored', 'adapter_model.safetensors')))).toBe(true);
    expect(nb.matmulMode.precision).toBe('fp32');
  });

  it('writes a PEFT adapter with the recipe keys, and a resolved config naming the backend', async () => {
    const r = await finetune(cfg('peft'), ctx);
    const ac = JSON.parse(readFileSync(join(r.runDir, 'adapter_config.json'), 'utf8'));
    expect(ac).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 16, fan_in_fan_out: true, target_modules: expect.arrayContaining(['c_attn', 'c_proj']) });
    const keys = [...readSafetensors(join(r.runDir, 'adapter_model.safetensors')).tensors.keys()];
    expect(keys).toContain('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight');
    expect(keys).toContain('base_model.model.transformer.h.1.mlp.c_proj.lora_B.weight');
    const resolved = JSON.parse(readFileSync(join(r.runDir, 'config.resolved.json'), 'utf8'));
    expect(resolved.fmn.backend).toBe('js');
    expect(resolved.rank).toBe(4);
  });

  it('full fine-tuning with L2-SP writes a loadable model directory; the gate keeps a checkpoint within the bound', async () => {
    const r = await finetune(cfg('full-ft', {
      method: { kind: 'full' }, lr: 3e-2, l2sp: 1e-3, probes: { ...NO_PROBES, devProbes: [join(dir, 'probes.jsonl')] }, evalEvery: 2, driftBound: 1e-6, gate: true,
    }), ctx);
    // an aggressive rate drifts past a tiny bound at the first evaluation: the gate stops and
    // keeps the starting point (step 0 is the only checkpoint within it)
    expect(r.stoppedByGate).toBe(true);
    expect(r.bestStep).toBe(0);
    expect(r.evals[0]).toMatchObject({ step: 0, drift: 0 });
    const base = readSafetensors(join(dir, 'base', 'model.safetensors')).tensors;
    const kept = readSafetensors(join(r.runDir, 'model.safetensors')).tensors;
    for (const [k, t] of base) expect(Buffer.from(kept.get(k)!.data.buffer).equals(Buffer.from(t.data.buffer)), k).toBe(true);
  });

  it('a row with no supervised token, or longer than the context, is an error naming its line; --truncate cuts and counts', async () => {
    // a prompt that fills the whole context leaves no completion token after truncation
    writeFileSync(join(dir, 'bad.jsonl'), `${JSON.stringify(rows[0])}\n${JSON.stringify({ prompt: 'went '.repeat(60), completion: 'x' })}\n`);
    await expect(finetune(cfg('bad', { data: join(dir, 'bad.jsonl'), truncate: true }), ctx)).rejects.toThrow(/bad\.jsonl:2.*no supervised token/);
    writeFileSync(join(dir, 'long.jsonl'), `${JSON.stringify({ prompt: 'a', completion: 'went '.repeat(60) })}\n${JSON.stringify(rows[1])}\n`);
    await expect(finetune(cfg('long', { data: join(dir, 'long.jsonl') }), ctx)).rejects.toThrow(/long\.jsonl:1.*longer than the model's context/);
    expect((await finetune(cfg('long', { data: join(dir, 'long.jsonl'), truncate: true, steps: 1 }), ctx)).truncated).toBe(1);
  });

  const fmn = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin', 'fmn.js'), ...args], { encoding: 'utf8', env: { ...process.env, FMN_BACKEND: 'js' } });

  it('CLI: an unknown config key is exit 2 naming the file, line and key; nothing is written', async () => {
    writeFileSync(join(dir, 'cfg.yaml'), `base: ${join(dir, 'base')}\ndata: ${join(dir, 'sft.jsonl')}\nout: ${join(dir, 'cli-run')}\nrank: 4\nranq: 3\n`);
    const r = fmn('finetune', '--config', join(dir, 'cfg.yaml'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('cfg.yaml:5, field "ranq": unknown key (did you mean "rank"?)');
    expect(r.stderr).not.toContain('    at ');       // no stack trace for a user mistake
    expect(existsSync(join(dir, 'cli-run'))).toBe(false);
    const bad = fmn('finetune', '--base', join(dir, 'base'), '--data', join(dir, 'sft.jsonl'), '--out', join(dir, 'x'), '--lr', 'fast');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('field "--lr": must be a number > 0, got "fast"');
  });

  it('CLI: a TRL/PEFT-style YAML runs; its resolved config, fed back with --config, reproduces the weights bit for bit', async () => {
    const trl = join(dir, 'trl.yaml');
    writeFileSync(trl, [
      '# fmn finetune --config trl.yaml', `base: ${join(dir, 'base')}`, `data: ${join(dir, 'sft.jsonl')}`, `out: ${join(dir, 'trl-run')}`,
      'learning_rate: 0.01', 'max_steps: 6', 'per_device_train_batch_size: 2', 'gradient_accumulation_steps: 2', 'warmup_steps: 2',
      'r: 4', 'lora_alpha: 8', 'lora_dropout: 0.1', 'target_modules: [c_attn, c_fc]', 'adam_beta2: 0.98', 'max_grad_norm: 0.5', 'seed: 7', '',
    ].join('\n'));
    const a = fmn('finetune', '--config', trl, '--threads', '1');
    expect(a.status, a.stderr).toBe(0);
    const resolved = JSON.parse(readFileSync(join(dir, 'trl-run', 'config.resolved.json'), 'utf8'));
    expect(resolved).toMatchObject({ lr: 0.01, steps: 6, batch: 2, grad_accum: 2, warmup: 2, rank: 4, alpha: 8, dropout: 0.1, targets: ['c_attn', 'c_fc'], adam_beta2: 0.98, clip: 0.5, seed: 7, threads: 1 });
    expect(resolved.fmn).toMatchObject({ command: 'finetune', trainable_params: expect.any(Number) });
    const ac = JSON.parse(readFileSync(join(dir, 'trl-run', 'adapter_config.json'), 'utf8'));
    expect(ac.base_model_name_or_path).toBe(join(dir, 'base'));           // as given, not made absolute
    const b = fmn('finetune', '--config', join(dir, 'trl-run', 'config.resolved.json'), '--out', join(dir, 'trl-again'));
    expect(b.status, b.stderr).toBe(0);
    expect(bytes(join(dir, 'trl-again', 'adapter_model.safetensors')).equals(bytes(join(dir, 'trl-run', 'adapter_model.safetensors')))).toBe(true);
    const again = JSON.parse(readFileSync(join(dir, 'trl-again', 'config.resolved.json'), 'utf8'));
    delete again.fmn; delete resolved.fmn; delete again.out; delete resolved.out;
    expect(again).toEqual(resolved);
  });

  it('the gate reads the dev probes by role: custom group names gate; a gate without a dev control probe exits 2; no test file is opened until training ends', async () => {
    const devf = join(dir, 'dev.jsonl'), testf = join(dir, 'test.jsonl');
    writeFileSync(devf, [
      '{"kind":"pair","good":"He went to the store.","bad":["He goed to the store."],"probe":"irregular-verbs","role":"task"}',
      '{"kind":"text","text":"She worked at home yesterday.","probe":"regular-sentences","role":"control"}',
    ].join('\n') + '\n');
    writeFileSync(testf, '{"kind":"text","text":"We played in the park.","probe":"held-out-regulars","role":"control"}\n');
    const opened: string[] = [];
    const observe = (f: string) => opened.push(f);
    probeFileObservers.add(observe);
    const logs: string[] = [];
    let r;
    try {
      r = await finetune(cfg('gate-roles', {
        method: { kind: 'full' }, lr: 3e-2, steps: 6, probes: { ...NO_PROBES, devProbes: [devf], probes: [testf] }, evalEvery: 2, driftBound: 1e-6, gate: true,
      }), { ...ctx, log: (l: string) => { logs.push(l); if (l.startsWith('gate:')) opened.push('-- gate decided --'); } });
    } finally { probeFileObservers.delete(observe); }
    expect(r.stoppedByGate).toBe(true);                // the custom-named control group drifted past the bound
    expect(opened.indexOf(testf)).toBeGreaterThan(opened.indexOf('-- gate decided --'));
    expect(opened.slice(0, opened.indexOf('-- gate decided --'))).toEqual([devf]);
    expect(r.test!.verdict.split).toBe('test');
    expect(r.dev!.verdict.split).toBe('dev');
    expect(logs.some((l) => /^eval step 2 \(dev\): task acc \d\.\d{3} ± \S+, drift [+-]/.test(l))).toBe(true);
    const metrics = readFileSync(join(dir, 'gate-roles', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.filter((m) => m.split === 'dev').every((m) => typeof m.drift === 'number' && typeof m.task_acc === 'number')).toBe(true);

    // no control role in the dev split: the gate refuses to run (exit 2), even with a group named "control"
    writeFileSync(join(dir, 'norole.jsonl'), '{"kind":"text","text":"She worked at home yesterday.","probe":"control"}\n');
    const g = fmn('finetune', '--base', join(dir, 'base'), '--data', join(dir, 'sft.jsonl'), '--out', join(dir, 'nogate'), '--gate', '--dev-probes', join(dir, 'norole.jsonl'), '--steps', '2');
    expect(g.status).toBe(2);
    expect(g.stderr).toContain('--gate needs a dev-split control probe');
    const t = fmn('finetune', '--base', join(dir, 'base'), '--data', join(dir, 'sft.jsonl'), '--out', join(dir, 'nogate'), '--gate', '--control', testf, '--steps', '2');
    expect(t.status).toBe(2);                           // a test-split control probe does not gate: selection reads dev only
    expect(t.stderr).toContain('--dev-control FILE');
    // role flags set the role of a whole file
    const h = fmn('finetune', '--base', join(dir, 'base'), '--data', join(dir, 'sft.jsonl'), '--out', join(dir, 'gated'), '--gate', '--dev-control', join(dir, 'norole.jsonl'), '--steps', '2', '--eval-every', '1');
    expect(h.status, h.stderr).toBe(0);
    writeFileSync(join(dir, 'empty.jsonl'), '');
    const e = fmn('finetune', '--base', join(dir, 'base'), '--data', join(dir, 'sft.jsonl'), '--out', join(dir, 'x2'), '--dev-control', join(dir, 'empty.jsonl'));
    expect(e.status).toBe(2);
    expect(e.stderr).toContain('no probe items');
  });

  it('CLI: --seeds 3 runs three ordinary run directories and reports mean ± sd with the verdict over items and seeds', async () => {
    const out = join(dir, 'seeds');
    const r = fmn('finetune', '--base', join(dir, 'base'), '--data', join(dir, 'sft.jsonl'), '--out', out, '--rank', '4', '--lr', '0.01', '--steps', '3', '--batch', '2',
      '--seeds', '3', '--seed', '5', '--probes', join(dir, 'probes.jsonl'), '--json');
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(join(out, 'seeds.json'), 'utf8'));
    expect(s.seeds).toEqual([5, 6, 7]);
    expect(s.test.per_seed.map((p: { seed: number }) => p.seed)).toEqual([5, 6, 7]);
    expect(s.test.verdict.drift_ci).toHaveLength(2);
    for (const seed of [5, 6, 7]) {
      const rc = JSON.parse(readFileSync(join(out, `seed-${seed}`, 'config.resolved.json'), 'utf8'));
      expect([rc.seed, rc.seeds]).toEqual([seed, 1]);                // each seed's own config reproduces that seed
    }
    expect(r.stderr).toMatch(/3 seeds \(test\): (PASS|FAIL|INCONCLUSIVE), task \d\.\d{3} ± \d\.\d{3}/);
  });

  it('CLI: finetune → merge (verified) → eval of the merged model equals eval with the adapter', async () => {
    const run = join(dir, 'cli-lora');
    expect(fmn('finetune', '--base', join(dir, 'base'), '--data', join(dir, 'sft.jsonl'), '--out', run, '--method', 'lora', '--rank', '4', '--lr', '0.01', '--steps', '5', '--batch', '2').status).toBe(0);
    const m = fmn('merge', '--base', join(dir, 'base'), '--adapter', run, '--out', join(dir, 'merged'), '--probes', join(dir, 'probes.jsonl'), '--json');
    expect(m.status, m.stderr).toBe(0);
    expect(JSON.parse(m.stdout).max_abs_diff).toBeLessThan(1e-4);
    const a = JSON.parse(fmn('eval', '--model', join(dir, 'base'), '--adapter', run, '--probes', join(dir, 'probes.jsonl'), '--json').stdout);
    const b = JSON.parse(fmn('eval', '--model', join(dir, 'merged'), '--probes', join(dir, 'probes.jsonl'), '--baseline', join(dir, 'base'), '--json').stdout);
    expect(b.probes.control.ppl).toBeCloseTo(a.probes.control.ppl, 4);
    expect(typeof b.drift).toBe('number');
    expect(b.drift_ci).toHaveLength(2);
    expect(['PASS', 'FAIL', 'INCONCLUSIVE']).toContain(b.verdict);
    expect(b.split).toBe('test');
    // stored as bf16: half the bytes, config.json says so, and it still scores like the adapter (to bf16 rounding)
    const m16 = fmn('merge', '--base', join(dir, 'base'), '--adapter', run, '--out', join(dir, 'merged-bf16'), '--dtype', 'bf16', '--tolerance', '1', '--json');
    expect(m16.status, m16.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'merged-bf16', 'config.json'), 'utf8')).torch_dtype).toBe('bfloat16');
    expect(statSync(join(dir, 'merged-bf16', 'model.safetensors')).size).toBeLessThan(0.6 * statSync(join(dir, 'merged', 'model.safetensors')).size);
    const c16 = JSON.parse(fmn('eval', '--model', join(dir, 'merged-bf16'), '--probes', join(dir, 'probes.jsonl'), '--json').stdout);
    expect(Math.abs(c16.probes.control.ppl / a.probes.control.ppl - 1)).toBeLessThan(5e-3);
    // --log-samples: results.json with provenance, one line per item (lm-eval's --log_samples)
    const logs = join(dir, 'eval-logs');
    const c = fmn('eval', '--model', join(dir, 'base'), '--adapter', run, '--probes', join(dir, 'probes.jsonl'), '--log-samples', logs);
    expect(c.status, c.stderr).toBe(0);
    const res = JSON.parse(readFileSync(join(logs, 'results.json'), 'utf8'));
    expect(res.config).toMatchObject({ model: join(dir, 'base'), adapter: run });
    expect(res.probe_files[0]).toMatchObject({ file: join(dir, 'probes.jsonl'), split: 'test', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(res.versions.forgetmenot).toMatch(/^\d+\.\d+\.\d+/);
    const samples = readFileSync(join(logs, 'samples_test.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(samples).toHaveLength(2);
    expect(samples[0]).toMatchObject({ doc_id: 0, probe: 'task', role: 'task', split: 'test', kind: 'pair', metrics: { acc: expect.any(Number) } });
    expect(samples[1].metrics).toMatchObject({ nll: expect.any(Number), tokens: expect.any(Number) });
    // generate: greedy is deterministic; sampling is seeded
    const g1 = fmn('generate', '--model', join(dir, 'base'), '--adapter', run, '--prompt', 'He goed to the store.<|sep|>', '--max-tokens', '6', '--json');
    const g2 = fmn('generate', '--model', join(dir, 'merged'), '--prompt', 'He goed to the store.<|sep|>', '--max-tokens', '6', '--json');
    expect(g1.status, g1.stderr).toBe(0);
    expect(JSON.parse(g2.stdout).ids).toEqual(JSON.parse(g1.stdout).ids);
    const s1 = fmn('generate', '--model', join(dir, 'base'), '--prompt', 'She', '--temperature', '1', '--top-k', '5', '--seed', '3', '--max-tokens', '5', '--json');
    const s2 = fmn('generate', '--model', join(dir, 'base'), '--prompt', 'She', '--temperature', '1', '--top-k', '5', '--seed', '3', '--max-tokens', '5', '--json');
    expect(JSON.parse(s1.stdout).ids).toEqual(JSON.parse(s2.stdout).ids);
  });
});
