import { RUN_FIELDS } from '../config/common.ts';
import { PRECISION_FIELD } from './precision.ts';
import type { Precision } from '../backend/backend.ts';
import { optimizerFields } from './optim-fields.ts';
import { defaultsOf, errorAt, type Schema } from '../config/schema.ts';
import { DOCUMENT_MODES, type DocumentMode } from '../data/sft-format.ts';
import { PRESETS } from '../model/presets.ts';
import type { AdamWOptions } from '../optim/adamw.ts';

/** The pretraining recipe's settings (typed view of PRETRAIN_SCHEMA). */
export interface PretrainConfig {
  /** Plain-text files, split into documents by `documents`. */
  text: string[];
  documents: DocumentMode;
  /** A tokenizer.json (or a directory holding one); else one is trained with `vocab`. */
  tokenizer?: string;
  vocab: number;
  out: string;
  preset: string;
  steps: number;
  batch: number;
  /** Sequence length (default: the preset's n_ctx). */
  seqLen?: number;
  lr: number;
  /** Final LR as a fraction of lr. */
  minLrRatio: number;
  warmup: number;
  adamw: AdamWOptions;
  clip: number;
  seed: number;
  evalEvery: number;
  logEvery: number;
  saveEvery: number;
  /** Every Nth document is held out for the validation loss (the text's last 1/N when there are too few documents). */
  heldOutEvery: number;
  resume: boolean;
  /** Replace a run already in `out` (never a directory that is not a run). */
  overwrite: boolean;
  /**
   * Annealing on the text's tail: for the last `tailSteps` share of the steps, windows come
   * only from the last `tailText` share of the training text (0 = off). The lab's corpus puts
   * its echo items there, so the model ends pretraining able to copy across the delimiter.
   */
  tailSteps: number;
  tailText: number;
  /** Matmul operand precision: fp32, or bf16 with fp32 accumulation (see Backend.setMatmulPrecision). */
  precision: Precision;
}

export const PRETRAIN_SCHEMA: Schema = {
  command: 'pretrain',
  usage: ['pretrain --text FILE… --out MODEL [options]', 'pretrain --config FILE [options]'],
  description: `Trains a GPT from scratch on plain text and writes a Hugging Face model directory: config.json,
model.safetensors, tokenizer.json, plus metrics.jsonl and config.resolved.json (--config
MODEL/config.resolved.json reproduces the run). --documents says how the text splits into
documents: one a line (the verb corpus), paragraphs, or whole files (a play, code, prose);
training windows run across line ends and documents either way.`,
  fields: [
    { key: 'config', type: 'string', path: null, persist: false, metavar: 'FILE', section: 'inputs', help: 'YAML or JSON settings (keys as below; flags override)' },
    { key: 'text', type: 'list', required: true, metavar: 'FILE…', section: 'inputs', help: 'training text files' },
    { key: 'documents', type: 'enum', choices: DOCUMENT_MODES, default: 'lines', section: 'inputs', help: 'lines: each non-empty line; blank-line: paragraphs; file: each file whole (line ends kept)' },
    { key: 'tokenizer', type: 'string', metavar: 'PATH', section: 'inputs', help: 'use this tokenizer.json (or a directory holding one)' },
    { key: 'vocab', type: 'int', min: 259, max: 1 << 20, default: 512, section: 'inputs', help: 'otherwise train a byte-level BPE of this size' },
    { key: 'out', type: 'string', required: true, metavar: 'MODEL', section: 'inputs', help: 'the model directory to write' },
    { key: 'preset', type: 'enum', choices: Object.keys(PRESETS), default: 'nano', section: 'model', help: 'model size' },
    { key: 'seq_len', type: 'int', min: 1, section: 'model', help: 'tokens per training sequence (default: the preset\'s context)' },
    { key: 'steps', type: 'int', min: 1, default: 2000, aliases: ['max_steps'], section: 'optimization', help: 'optimizer steps' },
    { key: 'batch', type: 'int', min: 1, default: 16, aliases: ['per_device_train_batch_size'], section: 'optimization', help: 'sequences per step' },
    { key: 'lr', type: 'number', gt: 0, default: 2e-3, aliases: ['learning_rate'], section: 'optimization', help: 'peak learning rate' },
    ...optimizerFields({ warmup: 100, weightDecay: 0.1, beta1: 0.9, beta2: 0.95, eps: 1e-8 }),
    { key: 'seed', type: 'int', min: 0, default: 1337, section: 'optimization', help: 'seed of the initialization and the windows' },
    { key: 'tail_steps', type: 'number', min: 0, lt: 1, default: 0, section: 'optimization', help: 'anneal on the text\'s tail: the last share of the steps draws windows only from the last --tail-text of the text (0 = off)' },
    { key: 'tail_text', type: 'number', min: 0, lt: 1, default: 0, section: 'optimization', help: 'the share of the text, at its end, that the tail steps draw from' },
    { key: 'eval_every', type: 'int', min: 1, default: 250, aliases: ['eval_steps'], section: 'run', help: 'held-out loss every N steps' },
    { key: 'held_out_every', type: 'int', min: 2, default: 50, section: 'run', help: 'every Nth document is held out for the validation loss' },
    { key: 'log_every', type: 'int', min: 1, default: 10, aliases: ['logging_steps'], section: 'run', help: 'write a metrics.jsonl line every N steps' },
    { key: 'save_every', type: 'int', min: 0, default: 250, aliases: ['save_steps'], section: 'run', help: 'save the model and the resumable state every N steps (0 = at the end only)' },
    { key: 'overwrite', type: 'bool', default: false, persist: false, section: 'run', help: 'replace the run already in --out (a directory that is not an fmn run is never touched)' },
  { key: 'resume', type: 'bool', default: false, persist: false, section: 'run', help: 'continue from the training state saved in --out' },
    PRECISION_FIELD,
    ...RUN_FIELDS,
  ],
  check(v, at) {
    if (((v.tail_steps as number) > 0) !== ((v.tail_text as number) > 0)) throw errorAt(at('tail_steps'), 'give both --tail-steps and --tail-text, or neither');
  },
};

export const PRETRAIN_RECIPE_DEFAULTS: Omit<PretrainConfig, 'text' | 'out'> = defaultsOf(PRETRAIN_SCHEMA);
