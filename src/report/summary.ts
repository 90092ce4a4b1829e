import type { AblateRow, GroupRow, Score, TruncateRow } from '../analyze/analyze.ts';
import type { ProbeResult } from '../eval/evaluate.ts';
import type { Outcome } from '../eval/verdict.ts';

/**
 * summary.json of `fmn lab` (DESIGN §2; stable keys, more may be added). Paths are relative
 * to the lab's output directory. Every reported number is from the test split unless its key
 * says `dev`; selection (the learning-rate calibration, the best arm) read the dev split only.
 */
export interface EvalPointJson { step: number; task_acc?: number; task_se?: number; gen_em?: number; control_ppl?: number; drift?: number }

/** A number with its spread over seeds and its uncertainty. */
export interface Stat { mean: number; sd: number; se?: number; lo?: number; hi?: number }

export interface BaseSummary {
  model_dir: string;
  task_acc: number;
  task_se: number;
  gen_em: number;
  control_ppl: number;
  /** Control pair accuracy (regular verbs vs wrong forms). */
  control_acc: number;
  /** Adoption pair accuracy (walked vs walken); drops when the fine-tune is over-applied. */
  adoption: number;
  /** Share of correct regular sentences in SFT format that come back unchanged. */
  adoption_gen_em: number;
  generalization: number;
  generalization_se: number;
  /** Copying across the delimiter: greedy echo exact match. */
  echo_em: number;
  params: number;
  pretrain: { steps: number; seconds: number; tokens_per_s: number; final_loss: number; held_out_loss: number };
  /** Every probe group's full result, test split; dev under `dev`. */
  probes: Record<string, ProbeResult>;
  dev: { task_acc: number; control_ppl: number; probes: Record<string, ProbeResult> };
}

/** One seed of an arm (test split, with the dev numbers selection read). */
export interface SeedResult {
  seed: number;
  run_dir: string;
  task_acc: number;
  gen_em: number;
  control_ppl: number;
  drift: number;
  adoption: number;
  adoption_gen_em: number;
  generalization: number;
  generalization_gen_em: number;
  seconds: number;
  dev: { task_acc: number; drift: number };
}

export type Mitigation = 'none' | 'replay' | 'replay-pretrain' | 'anchor';
export type ArmKind = 'factorial' | 'reference' | 'aggressive';

export interface ArmSummary {
  name: string;
  /** One line on what the arm is for. */
  description: string;
  kind: ArmKind;
  method: 'lora' | 'full';
  /** The data / mitigation recipe: arms sharing it are matched controls that differ in method. */
  recipe: Mitigation;
  lr: number;
  steps: number;
  replay: number;
  /** The replay source, relative to the corpus directory (replay.txt or pretrain.txt); null without replay. */
  replay_text: string | null;
  /** λ of the regularizer (LoRA anchor for lora, L2-SP for full); 0 = none. */
  lambda: number;
  rank?: number;
  alpha?: number;
  /** The first seed's run (what `fmn eval --model … --adapter …` accepts). */
  run_dir: string;
  split: 'test';
  seeds: SeedResult[];
  /** Means over the seeds (test split); `_sd` their spread over seeds, `_se` the item-level standard error. */
  task_acc: number;
  task_acc_sd: number;
  task_acc_se: number;
  gen_em: number;
  gen_em_sd: number;
  control_ppl: number;
  drift: number;
  drift_sd: number;
  /** Paired bootstrap over control items and seeds, at `level`. */
  drift_ci: [number, number];
  adoption: number;
  adoption_gen_em: number;
  generalization: number;
  generalization_se: number;
  generalization_gen_em: number;
  /** Task accuracy after − before on the same items, with its paired test. */
  task_gain: { diff: number; lo: number; hi: number; p: number };
  verdict: Outcome;
  pass: boolean;
  reasons: string[];
  /** The dev split's numbers (what the calibration and "best" read). */
  dev: { task_acc: number; drift: number };
  trainable_params: number;
  seconds: number;
  /** The first seed's in-training curve (dev split). */
  evals: EvalPointJson[];
  /** Every probe group, test split, means over seeds with the item-level se. */
  probes: Record<string, { n: number; acc?: number; se?: number; gen_em?: number; ppl?: number; by_tag?: ProbeResult['by_tag'] }>;
  /** A few greedy generations of the first seed beside the base model's, test split. */
  samples: { probe: string; prompt: string; expected?: string; base: string; tuned: string }[];
}

/** A matched contrast: arm a against arm b, differing in one factor. */
export interface Contrast {
  factor: 'method' | 'mitigation';
  a: string;
  b: string;
  /** Task accuracy a − b on the same items (per-item means over seeds), paired test. */
  task: { diff: number; lo: number; hi: number; p: number };
  /** Drift a − b, bootstrap over the same control items and each arm's seeds. */
  drift: { diff: number; lo: number; hi: number };
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

/** `fmn analyze` on one arm's first-seed update (the lab's geometry section). */
export interface GeometryArm {
  arm: string;
  method: 'lora' | 'full';
  split: 'dev' | 'test';
  delta_theta: number;
  groups: GroupRow[];
  blocks: GroupRow[];
  matrices: { name: string; group: string; shape: number[]; delta_fro: number; erank: number; r90: number; stable_rank: number; intruders: number; intruders_null: number }[];
  /** Medians over the updated matrices, and the matrices' median smaller dimension. */
  median_erank: number;
  median_r90: number;
  median_width: number;
  intruders: number;
  intruders_null: number;
  ablate: AblateRow[];
  interpolate: (Score & { alpha: number })[];
  truncate: TruncateRow[];
  seconds: number;
}

export interface CalibrationRow { method: 'lora' | 'full'; lr: number; recipe: Mitigation; dev_task_acc: number; dev_drift: number; chosen: boolean }

export interface LabSummary {
  version: 2;
  created: string;
  backend: string;
  threads: number;
  /** The matmul precision (fp32, or bf16 with fp32 accumulation) and the kernel path that ran it; absent in older summaries (fp32). */
  precision?: 'fp32' | 'bf16';
  matmul?: string;
  wall_seconds: number;
  drift_bound: number;
  level: number;
  fast: boolean;
  seeds: number[];
  corpus: { dir: string; seed: number; pretrain_lines: number; sft_rows: number };
  base: BaseSummary;
  arms: ArmSummary[];
  /** The dev-split learning-rate calibration: every run it read, and the rate chosen per method. */
  calibration: { rows: CalibrationRow[]; chosen: { lora: number; full: number } };
  contrasts: Contrast[];
  /** The best arm, chosen on the dev split (highest dev task accuracy with dev drift within the bound). */
  best: string | null;
  /** The verdict in sentences, each derived from a contrast or an interval of this run. */
  story: string[];
  /** k examples in context, no training: is fine-tuning needed at all? (test split) */
  few_shot: { k: number; task_acc: number; task_se: number; gen_em: number; n: number };
  params: { rank: number; rows: ParamRow[]; total_params: number; lora_params: number };
  /** Where the update lives and what it cost: the aggressive full arm and the best LoRA arm analyzed, and what that says of the theory. */
  geometry?: { arms: GeometryArm[]; paragraph: string };
  /** Does a LoRA arm pass with task ≥ 0.9 (base ≤ 0.5)? The note names the arm and what made it pass. */
  target: { met: boolean; arm: string | null; note: string };
}
