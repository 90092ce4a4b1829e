import { RUN_FIELDS } from '../config/common.ts';
import { PRECISION_FIELD } from './precision.ts';
import type { Precision } from '../backend/backend.ts';
import { optimizerFields } from './optim-fields.ts';
import { defaultsOf, errorAt, type Field, type Schema } from '../config/schema.ts';
import { DEFAULT_DRIFT_BOUND } from '../eval/verdict.ts';
import { probeFields, type ProbeFiles } from '../eval/probe-files.ts';
import type { AdamWOptions } from '../optim/adamw.ts';
import type { LoraConfig } from '../lora/config.ts';

export type Method = { kind: 'full' } | ({ kind: 'lora' } & LoraConfig);

/** The fine-tuning recipe's settings (typed view of FINETUNE_SCHEMA). */
export interface FinetuneConfig {
  base: string;
  data: string;
  out: string;
  method: Method;
  lr: number;
  /** Optimizer steps; computed from `epochs` when only that is given. */
  steps: number;
  epochs?: number;
  batch: number;
  gradAccum: number;
  warmup: number;
  minLrRatio: number;
  adamw: AdamWOptions;
  clip: number;
  seed: number;
  /** How many seeds (seed, seed + 1, …) to run; each is its own run directory under `out`. */
  seeds: number;
  /** Share of every batch's rows drawn from `replayText` (LM loss on all tokens). */
  replay: number;
  replayText?: string;
  /** λ of the anchor regularizer λ‖ΔW‖²_F on LoRA updates (scaling inside the norm). */
  loraL2: number;
  /** λ of L2-SP, λ‖θ − θ₀‖², for full fine-tuning. */
  l2sp: number;
  probes: ProbeFiles;
  /** Evaluate the dev probes every N steps (0 = only at the end). */
  evalEvery: number;
  logEvery: number;
  /** Save the resumable training state every N steps (0 = only at the end). */
  saveEvery: number;
  driftBound: number;
  /** Stop when dev drift exceeds the bound and keep the best dev checkpoint within it. */
  gate: boolean;
  /** Score dev and test at the end (off when a caller such as the lab scores the run itself). */
  finalEval: boolean;
  truncate: boolean;
  resume: boolean;
  /** Replace a run already in `out` (never a directory that is not a run). */
  overwrite: boolean;
  /** Stop after this many steps in this invocation, leaving a resumable state (time-boxed jobs). */
  stopAfter?: number;
  /** Matmul operand precision: fp32, or bf16 with fp32 accumulation (see Backend.setMatmulPrecision). */
  precision: Precision;
}

const LORA = { key: 'method', is: ['lora'] } as const;

export const FINETUNE_FIELDS: Field[] = [
  { key: 'config', type: 'string', path: null, persist: false, metavar: 'FILE', section: 'inputs', help: 'YAML or JSON settings (keys as below, TRL/PEFT names accepted; flags override; a run\'s config.resolved.json reproduces it)' },
  { key: 'base', type: 'string', required: true, metavar: 'MODEL', section: 'inputs', help: 'the model to fine-tune (a model directory or a llama2.c .bin)' },
  { key: 'data', type: 'string', required: true, metavar: 'SFT.jsonl', section: 'inputs', help: 'SFT rows: prompt/completion, messages or text (JSONL)' },
  { key: 'out', type: 'string', required: true, metavar: 'RUN', section: 'inputs', help: 'the run directory' },
  { key: 'method', type: 'enum', path: 'method.kind', choices: ['lora', 'full'], default: 'lora', section: 'method', help: 'LoRA adapters or all weights' },
  { key: 'rank', type: 'int', path: 'method.rank', min: 1, default: 8, aliases: ['r', 'lora_r'], when: LORA, section: 'method', help: 'LoRA rank r' },
  { key: 'alpha', type: 'number', path: 'method.alpha', gt: 0, default: 16, aliases: ['lora_alpha'], when: LORA, section: 'method', help: 'LoRA alpha (scaling alpha/r)' },
  { key: 'dropout', type: 'number', path: 'method.dropout', min: 0, lt: 1, default: 0, aliases: ['lora_dropout'], when: LORA, section: 'method', help: 'dropout on the LoRA input' },
  { key: 'targets', type: 'list', path: 'method.targets', default: ['default'], aliases: ['target_modules'], when: LORA, section: 'method', metavar: 'LIST', help: 'module names (PEFT suffix rule), all-linear, or default (attention)' },
  { key: 'rslora', type: 'bool', path: 'method.rslora', default: false, aliases: ['use_rslora'], when: LORA, section: 'method', help: 'scale by alpha/sqrt(r) instead of alpha/r' },
  { key: 'init', type: 'enum', path: 'method.init', choices: ['kaiming', 'gaussian'], default: 'kaiming', when: LORA, section: 'method', help: 'initialization of A' },
  { key: 'lr', type: 'number', gt: 0, aliases: ['learning_rate'], default: (v) => (v.method === 'full' ? 1e-5 : 1e-4), defaultText: '1e-4 LoRA, 1e-5 full', section: 'optimization', help: 'peak learning rate' },
  { key: 'steps', type: 'int', min: 1, aliases: ['max_steps'], default: (v) => (v.epochs === undefined ? 300 : undefined), defaultText: '300', section: 'optimization', help: 'optimizer steps' },
  { key: 'epochs', type: 'number', gt: 0, aliases: ['num_train_epochs'], section: 'optimization', help: 'passes over the SFT rows, instead of --steps (steps = ceil(epochs · rows / (batch · grad-accum)))' },
  { key: 'batch', type: 'int', min: 1, default: 16, aliases: ['per_device_train_batch_size'], section: 'optimization', help: 'rows per micro-batch' },
  { key: 'grad_accum', type: 'int', min: 1, default: 1, aliases: ['gradient_accumulation_steps'], section: 'optimization', help: 'micro-batches per optimizer step' },
  ...optimizerFields({ warmup: 20, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8 }),
  { key: 'seed', type: 'int', min: 0, default: 1234, section: 'optimization', help: 'seed of the data order, LoRA init and dropout' },
  { key: 'seeds', type: 'int', min: 1, max: 100, default: 1, section: 'optimization', help: 'runs with seeds seed, seed+1, … into OUT/seed-N, reported as mean ± sd with intervals over items and seeds' },
  { key: 'replay', type: 'number', min: 0, lt: 1, default: 0, section: 'mitigations', help: 'share of every batch drawn from --replay-text' },
  { key: 'replay_text', type: 'string', metavar: 'FILE', section: 'mitigations', help: 'pretraining-distribution text to replay (fmn corpus writes replay.txt, a clean sample)' },
  { key: 'lora_l2', type: 'number', min: 0, default: 0, section: 'mitigations', help: 'anchor regularizer λ·‖ΔW‖²_F on LoRA updates (alpha/r inside the norm)' },
  { key: 'l2sp', type: 'number', min: 0, default: 0, section: 'mitigations', help: 'L2-SP λ·‖θ − θ0‖² for full fine-tuning' },
  ...probeFields('probes'),
  { key: 'eval_every', type: 'int', min: 0, default: 0, aliases: ['eval_steps'], section: 'evaluation', help: 'evaluate the dev probes every N steps (0 = at the end only)' },
  { key: 'drift_bound', type: 'number', gt: 0, default: DEFAULT_DRIFT_BOUND, section: 'evaluation', help: 'bound on control-perplexity drift' },
  { key: 'gate', type: 'bool', default: false, section: 'evaluation', help: 'stop when dev drift exceeds the bound; keep the checkpoint with the best dev task accuracy whose dev drift interval lies within it' },
  { key: 'final_eval', type: 'bool', default: true, section: 'evaluation', help: 'score the dev and test probes at the end (generation included), each with its verdict against the base' },
  { key: 'log_every', type: 'int', min: 1, default: 5, aliases: ['logging_steps'], section: 'run', help: 'write a metrics.jsonl line every N steps' },
  { key: 'save_every', type: 'int', min: 0, default: 50, aliases: ['save_steps'], section: 'run', help: 'save the resumable training state every N steps (0 = at the end only)' },
  { key: 'truncate', type: 'bool', default: false, section: 'run', help: 'cut rows longer than the context instead of failing' },
  { key: 'overwrite', type: 'bool', default: false, persist: false, section: 'run', help: 'replace the run already in --out (a directory that is not an fmn run is never touched)' },
  { key: 'resume', type: 'bool', default: false, persist: false, section: 'run', help: 'continue the run in --out from its saved training state' },
  { key: 'stop_after', type: 'int', min: 1, persist: false, section: 'run', help: 'stop after N steps of this invocation, leaving a resumable state' },
  PRECISION_FIELD,
  ...RUN_FIELDS,
];

export const FINETUNE_SCHEMA: Schema = {
  command: 'finetune',
  usage: ['finetune --base MODEL --data SFT.jsonl --out RUN [--method lora|full] [options]', 'finetune --config FILE [options]'],
  description: `Supervised fine-tuning: cross-entropy on the completion tokens, AdamW, warmup + cosine.
LoRA writes a PEFT adapter (adapter_config.json + adapter_model.safetensors) into RUN; full
fine-tuning writes a model directory. RUN also gets metrics.jsonl, config.resolved.json (every
setting used; --config RUN/config.resolved.json reproduces the run) and a resumable training state.`,
  fields: FINETUNE_FIELDS,
  check(v, at) {
    const err = (key: string, msg: string) => errorAt(at(key), msg);
    if (v.steps !== undefined && v.epochs !== undefined && !('default' in at('steps'))) throw err('epochs', 'give steps or epochs, not both');
    if ((v.replay as number) > 0 && v.replay_text === undefined) throw err('replay', 'replay needs --replay-text FILE (pretraining-distribution text)');
    if ((v.lora_l2 as number) > 0 && v.method !== 'lora') throw err('lora_l2', 'the LoRA anchor regularizer needs --method lora');
    if ((v.l2sp as number) > 0 && v.method !== 'full') throw err('l2sp', 'L2-SP applies to --method full');
  },
};

/** The recipe's defaults without the required paths (for library callers). */
export const FINETUNE_DEFAULTS: Omit<FinetuneConfig, 'base' | 'data' | 'out' | 'method'> = (() => {
  const { method: _, ...rest } = defaultsOf<FinetuneConfig>(FINETUNE_SCHEMA, { method: 'lora' });
  return rest;
})();
/** The recipe's learning rates: LoRA r 8, α 16, lr 1e-4; full FT lr 1e-5. */
export const DEFAULT_LR = { lora: 1e-4, full: 1e-5 } as const;
