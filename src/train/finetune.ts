import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadProbes, type ProbeItem } from '../data/probes.ts';
import { Rng, type RngState } from '../data/rng.ts';
import { encodeSftFile } from '../data/sft-data.ts';
import { encodeDocuments } from '../data/sft-format.ts';
import { ConfigError, DataError } from '../errors.ts';
import { evaluateProbes, type EvalResult } from '../eval/evaluate.ts';
import { drift as driftOf } from '../eval/verdict.ts';
import { baseParameters, saveModel } from '../model/checkpoint.ts';
import { writeFileAtomic } from '../model/safetensors.ts';
import { LORA_DEFAULTS, loraScaling, type LoraConfig } from '../lora/config.ts';
import { adapterParameters, applyLora, setLoraDisabled, setLoraTraining, type Adapters } from '../lora/inject.ts';
import { saveAdapter } from '../lora/peft.ts';
import { loraDeltaSqNorm, sqDistance } from '../lora/regularizer.ts';
import { add, scale } from '../tensor/ops/elementwise.ts';
import { crossEntropy, IGNORE_INDEX } from '../tensor/ops/loss.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { toHfJson } from '../tokenizer/hf-json.ts';
import { loadForInference } from './load.ts';
import { PAD } from '../tokenizer/special.ts';
import type { RunContext } from './context.ts';
import { SftLoader } from './sft-loader.ts';
import { Trainer } from './trainer.ts';

export type Method = { kind: 'full' } | ({ kind: 'lora' } & LoraConfig);

export interface FinetuneConfig {
  base: string;
  data: string;
  out: string;
  method: Method;
  lr: number;
  steps: number;
  batch: number;
  gradAccum: number;
  warmup: number;
  minLrRatio: number;
  weightDecay: number;
  clip: number;
  seed: number;
  /** Share of every batch's rows drawn from `replayText` (LM loss on all tokens). */
  replay: number;
  replayText?: string;
  /** λ of the anchor regularizer λ‖ΔW‖²_F on LoRA updates (scaling inside the norm). */
  loraL2: number;
  /** λ of L2-SP, λ‖θ − θ₀‖², for full fine-tuning. */
  l2sp: number;
  /** Evaluate the probes every N steps (0 = only at the end). */
  evalEvery: number;
  /** Probe files for in-training evaluation (control drift, task accuracy). */
  probes: string[];
  driftBound: number;
  /** Stop when drift exceeds the bound and keep the best checkpoint within it. */
  gate: boolean;
  truncate: boolean;
  resume: boolean;
  /** Stop after this many steps in this invocation, leaving a resumable state (time-boxed jobs). */
  stopAfter?: number;
}

export const FINETUNE_DEFAULTS: Omit<FinetuneConfig, 'base' | 'data' | 'out' | 'method'> = {
  lr: 1e-4, steps: 300, batch: 16, gradAccum: 1, warmup: 20, minLrRatio: 0.1, weightDecay: 0, clip: 1, seed: 1234,
  replay: 0, loraL2: 0, l2sp: 0, evalEvery: 0, probes: [], driftBound: 0.05, gate: false, truncate: false, resume: false,
};
/** The recipe's defaults: LoRA r 8, α 16, lr 1e-4; full FT lr 1e-5. */
export const DEFAULT_LR = { lora: 1e-4, full: 1e-5 } as const;
export const LORA_METHOD_DEFAULTS: Method = { kind: 'lora', ...LORA_DEFAULTS };

export interface EvalPoint { step: number; control_ppl?: number; drift?: number; task_acc?: number; gen_em?: number }

export interface FinetuneResult {
  runDir: string;
  trainable: number;
  total: number;
  finalLoss: number;
  steps: number;
  stoppedByGate: boolean;
  bestStep: number | null;
  evals: EvalPoint[];
  tokensPerSec: number;
  seconds: number;
  truncated: number;
}


function validate(c: FinetuneConfig): void {
  const need = (ok: boolean, field: string, msg: string) => { if (!ok) throw new ConfigError(msg, { field }); };
  need(c.lr > 0 && Number.isFinite(c.lr), 'lr', `must be a positive number, got ${c.lr}`);
  for (const k of ['steps', 'batch', 'gradAccum'] as const) need(Number.isInteger(c[k]) && c[k] >= 1, k, `must be a positive integer, got ${c[k]}`);
  need(Number.isInteger(c.warmup) && c.warmup >= 0, 'warmup', `must be a non-negative integer, got ${c.warmup}`);
  need(c.replay >= 0 && c.replay < 1, 'replay', `must be in [0, 1), got ${c.replay}`);
  need(c.replay === 0 || c.replayText !== undefined, 'replayText', 'replay needs --replay-text FILE (pretraining-distribution text)');
  need(c.loraL2 >= 0 && c.l2sp >= 0, 'loraL2', 'regularizer strengths must be ≥ 0');
  need(c.loraL2 === 0 || c.method.kind === 'lora', 'loraL2', 'the LoRA anchor regularizer needs --method lora');
  need(c.l2sp === 0 || c.method.kind === 'full', 'l2sp', 'L2-SP applies to --method full');
  need(!c.gate || c.probes.length > 0, 'gate', 'the drift gate needs --probes with a control probe');
  if (c.method.kind === 'lora') {
    need(Number.isInteger(c.method.rank) && c.method.rank >= 1, 'lora.rank', `must be a positive integer, got ${c.method.rank}`);
    need(c.method.alpha > 0, 'lora.alpha', `must be positive, got ${c.method.alpha}`);
    need(c.method.dropout >= 0 && c.method.dropout < 1, 'lora.dropout', `must be in [0, 1), got ${c.method.dropout}`);
  }
}

/** Task accuracy, generation EM and control perplexity out of an evaluation. */
export function headline(r: EvalResult): { task_acc?: number; gen_em?: number; control_ppl?: number } {
  return { task_acc: r.probes.task?.acc, gen_em: r.probes.task?.gen_em, control_ppl: r.probes.control?.ppl };
}

/**
 * The SFT recipe: base model + prompt/completion data → a run directory (a PEFT adapter for
 * LoRA, a full model directory for full fine-tuning) with metrics.jsonl, config.resolved.json
 * and an exact-resume training state.
 */
export function finetune(cfg: FinetuneConfig, ctx: RunContext): FinetuneResult {
  validate(cfg);
  const t0 = performance.now();
  const { model, tok } = loadForInference(cfg.base, undefined, ctx);
  const nCtx = model.config.nCtx;
  const { sequences, truncated } = encodeSftFile(cfg.data, tok, nCtx, cfg.truncate);
  if (truncated > 0) ctx.log(`data: ${truncated} rows longer than the context were truncated`);
  let replayTokens: Int32Array | null = null;
  if (cfg.replay > 0) {
    if (!existsSync(cfg.replayText!)) throw new DataError('no such file', { file: cfg.replayText, field: '--replay-text' });
    replayTokens = Int32Array.from(encodeDocuments(tok, readFileSync(cfg.replayText!, 'utf8')));
  }
  const probes: ProbeItem[] = cfg.probes.flatMap((f) => loadProbes(f));
  const rng = new Rng(cfg.seed);
  // LoRA dropout masks: a generator of its own, saved with the training state (exact resume)
  const dropoutRng = new Rng(cfg.seed + 2);

  // 1. what trains
  let adapters: Adapters | null = null;
  let params: [string, Tensor][];
  if (cfg.method.kind === 'lora') {
    adapters = applyLora(model, cfg.method, rng.fork(), dropoutRng);
    params = adapterParameters(adapters);
  } else {
    params = model.namedParameters();
    for (const [, p] of params) p.requiresGrad = true;
  }
  const trainable = params.reduce((s, [, p]) => s + p.size, 0);
  const total = baseParameters(model).reduce((s, [, p]) => s + p.size, 0);
  ctx.log(`finetune: ${cfg.method.kind}, ${trainable.toLocaleString('en-US')} trainable of ${total.toLocaleString('en-US')} parameters ` +
    `(${(100 * trainable / total).toFixed(2)}%), ${sequences.length} rows, backend ${ctx.backend.name} (${ctx.backend.threads} threads)`);
  const theta0 = cfg.l2sp > 0 ? params.map(([, p]) => p.data.slice()) : [];

  // 2. evaluation: the base's numbers first (adapters off = the base, bit for bit)
  const evalNow = (): EvalResult => {
    if (adapters) setLoraTraining(adapters, false);
    const r = evaluateProbes(model, tok, probes);
    if (adapters) setLoraTraining(adapters, true);
    return r;
  };
  const baseEval = probes.length > 0 ? evalNow() : null;
  const basePpl = baseEval ? headline(baseEval).control_ppl : undefined;
  const evals: EvalPoint[] = [];
  if (baseEval) evals.push({ step: 0, ...headline(baseEval), drift: basePpl !== undefined ? 0 : undefined });
  // the gate's fallback is the starting point itself (step 0: drift 0, within any bound)
  let best: { step: number; task: number; data: Float32Array[] } | null = cfg.gate
    ? { step: 0, task: (baseEval && headline(baseEval).task_acc) ?? 0, data: params.map(([, p]) => p.data.slice() as Float32Array) } : null;
  let stoppedByGate = false;

  // 3. the loss: SFT (+ replay rows) + regularizers
  const padId = tok.specialId(PAD);
  const loader = new SftLoader(sequences, cfg.batch, padId, cfg.seed + 1, cfg.replay, replayTokens, Math.min(64, nCtx));
  const lossFn = (b: { ids: Int32Array; targets: Int32Array; B: number; T: number }) => {
    const per = cfg.replay > 0 ? new Float32Array(b.B * b.T) : undefined;
    let loss = crossEntropy(model.forward(b.ids, b.B, b.T), b.targets, { perToken: per });
    const parts: Record<string, number> = {};
    if (per !== undefined) {
      const from = (b.B - loader.lastReplayRows) * b.T;
      let s = 0, n = 0, ss = 0, sn = 0;
      for (let i = 0; i < per.length; i++) {
        if (b.targets[i] === IGNORE_INDEX) continue;
        if (i >= from) { s += per[i]; n++; } else { ss += per[i]; sn++; }
      }
      if (n > 0) parts.replay_loss = s / n;
      if (sn > 0) parts.sft_loss = ss / sn;
    }
    if (adapters && cfg.loraL2 > 0) {
      const s = loraScaling(cfg.method as LoraConfig);
      let reg: Tensor | null = null;
      for (const a of adapters.values()) { const r = loraDeltaSqNorm(a.loraA, a.loraB, s); reg = reg ? add(reg, r) : r; }
      parts.reg = reg!.item();
      loss = add(loss, scale(reg!, cfg.loraL2));
    }
    if (cfg.l2sp > 0) {
      let reg: Tensor | null = null;
      params.forEach(([, p], i) => { const r = sqDistance(p, theta0[i]); reg = reg ? add(reg, r) : r; });
      parts.reg = reg!.item();
      loss = add(loss, scale(reg!, cfg.l2sp));
    }
    return { loss, parts, tokens: b.ids.length };
  };

  // 4. saving: adapter or full model, atomically
  const tokJson = JSON.stringify(toHfJson(tok), null, 2) + '\n';
  const save = () => {
    if (adapters) saveAdapter(cfg.out, model, adapters, cfg.method as LoraConfig, resolve(cfg.base));
    else saveModel(model, cfg.out, { tokenizerJson: tokJson });
  };

  if (adapters) setLoraTraining(adapters, true);
  const trainer = new Trainer(params, loader, {
    steps: cfg.steps, maxLr: cfg.lr, minLr: cfg.lr * cfg.minLrRatio, warmup: cfg.warmup, clip: cfg.clip, gradAccum: cfg.gradAccum,
    adamw: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: cfg.weightDecay },
    logEvery: 5, evalEvery: probes.length > 0 ? cfg.evalEvery : 0, checkpointEvery: cfg.evalEvery,
  }, {
    loss: lossFn,
    evaluate: probes.length === 0 ? undefined : (step) => {
      const h = headline(evalNow());
      const d = basePpl !== undefined && h.control_ppl !== undefined ? driftOf(basePpl, h.control_ppl) : undefined;
      evals.push({ step, ...h, drift: d });
      const within = d === undefined || d <= cfg.driftBound;
      if (within && (best === null || (h.task_acc ?? 0) > best.task)) {
        best = { step, task: h.task_acc ?? 0, data: params.map(([, p]) => p.data.slice() as Float32Array) };
      }
      const out: Record<string, number> = {};
      for (const [k, v] of Object.entries({ ...h, drift: d })) if (v !== undefined) out[k] = v;
      if (cfg.gate && !within) { stoppedByGate = true; out.stop = 1; }
      return out;
    },
    onCheckpoint: save,
    extraState: {
      save: () => ({ dropout_rng: dropoutRng.state() }),
      restore: (st) => { dropoutRng.setState((st as { dropout_rng: RngState }).dropout_rng); },
    },
  }, cfg.out, `finetune ${cfg.method.kind}`);
  mkdirSync(cfg.out, { recursive: true });
  if (cfg.resume) { trainer.loadState(cfg.out); ctx.log(`resumed at step ${trainer.step}`); }
  writeFileAtomic(join(cfg.out, 'config.resolved.json'), JSON.stringify({
    command: 'finetune', ...cfg, base: resolve(cfg.base), backend: ctx.backend.name, threads: ctx.backend.threads,
    model: model.config, trainable_params: trainable, total_params: total, versions: { forgetmenot: '0.1.0', node: process.version },
  }, null, 2) + '\n');
  const r = trainer.run({ resumed: cfg.resume, stopAt: cfg.stopAfter !== undefined ? trainer.step + cfg.stopAfter : undefined });
  if (trainer.step < cfg.steps && !stoppedByGate) trainer.saveState();   // stopped early: resumable
  if (adapters) setLoraTraining(adapters, false);

  // 5. the gate keeps the best checkpoint within the bound
  const kept = best as { step: number; task: number; data: Float32Array[] } | null;
  if (cfg.gate && kept !== null && (stoppedByGate || kept.step !== trainer.step)) {
    params.forEach(([, p], i) => p.data.set(kept.data[i]));
    ctx.log(`gate: kept the step-${kept.step} checkpoint (task acc ${kept.task.toFixed(3)}, drift within ${(100 * cfg.driftBound).toFixed(1)}%)`);
  }
  save();
  if (adapters) setLoraDisabled(adapters, false);
  return {
    runDir: cfg.out, trainable, total, finalLoss: r.loss, steps: trainer.step, stoppedByGate,
    bestStep: kept?.step ?? null, evals, tokensPerSec: r.tokensPerSec, seconds: (performance.now() - t0) / 1000, truncated,
  };
}
