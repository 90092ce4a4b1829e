import type { ProbeResult } from '../eval/evaluate.ts';

/**
 * summary.json of `fmn lab` (DESIGN §2; stable keys, more may be added). Paths are relative
 * to the lab's output directory.
 */
export interface EvalPointJson { step: number; task_acc?: number; gen_em?: number; control_ppl?: number; drift?: number }

export interface BaseSummary {
  model_dir: string;
  task_acc: number;
  gen_em: number;
  control_ppl: number;
  /** Control pair accuracy (regular verbs vs wrong forms). */
  control_acc: number;
  /** Adoption pair accuracy (walked vs walken); drops when the fine-tune is over-applied. */
  adoption: number;
  /** Share of correct regular sentences in SFT format that come back unchanged. */
  adoption_gen_em: number;
  /** Copying across the delimiter: greedy echo exact match. */
  echo_em: number;
  params: number;
  pretrain: { steps: number; seconds: number; tokens_per_s: number; final_loss: number; held_out_loss: number };
  /** Every probe group's full result. */
  probes: Record<string, ProbeResult>;
}

export interface ArmSummary {
  name: string;
  /** One line on what the arm is for. */
  description: string;
  method: 'lora' | 'full';
  lr: number;
  steps: number;
  replay: number;
  /** The replay source, relative to the corpus directory (replay.txt or pretrain.txt); null without replay. */
  replay_text?: string | null;
  /** λ of the regularizer (LoRA anchor for lora, L2-SP for full); 0 = none. */
  lambda: number;
  rank?: number;
  alpha?: number;
  run_dir: string;
  task_acc: number;
  gen_em: number;
  control_ppl: number;
  drift: number;
  adoption: number;
  adoption_gen_em: number;
  pass: boolean;
  reasons: string[];
  trainable_params: number;
  seconds: number;
  /** The gate kept an earlier checkpoint (step), or null. */
  kept_step: number | null;
  evals: EvalPointJson[];
  probes: Record<string, ProbeResult>;
}

export interface ParamRow {
  /** Module path, e.g. transformer.h.0.attn.c_attn. */
  layer: string;
  in: number;
  out: number;
  full: number;
  /** r·(in + out). */
  lora: number;
  /** r·(in + out) / (in·out). */
  share: number;
}

export interface LabSummary {
  version: 1;
  created: string;
  backend: string;
  threads: number;
  wall_seconds: number;
  drift_bound: number;
  fast: boolean;
  corpus: { dir: string; seed: number; pretrain_lines: number; sft_rows: number };
  base: BaseSummary;
  arms: ArmSummary[];
  /** The small search behind the "best" arm: every candidate tried. */
  search: { name: string; lr: number; steps: number; replay: number; lambda: number; task_acc: number; drift: number; pass: boolean }[];
  /** k examples in context, no training: is fine-tuning needed at all? */
  few_shot: { k: number; task_acc: number; gen_em: number; n: number };
  params: { rank: number; rows: ParamRow[]; total_params: number; lora_params: number };
  /** Does at least one LoRA arm reach the target (task ≥ 0.9, drift ≤ bound) with base task ≤ 0.5? */
  target: { met: boolean; arm: string | null; note: string };
}
