import type { Precision } from '../backend/backend.ts';
import { PRECISION_FIELD } from '../train/precision.ts';
import { RUN_FIELDS } from '../config/common.ts';
import { defaultsOf, errorAt, sectioned, type Schema, type Value, type Values } from '../config/schema.ts';
import { CORPUS_FIELDS } from '../corpus/corpus-config.ts';
import type { CorpusOptions } from '../corpus/corpus.ts';
import { DEFAULT_DRIFT_BOUND } from '../eval/verdict.ts';
import { PRESETS } from '../model/presets.ts';

/**
 * The lab's settings, every number spelled out. `--fast` switches the defaults to the CI-sized
 * variant (same steps of the experiment, smaller everything: a smoke test whose numbers do not
 * mean anything).
 */
export interface LabConfig {
  out: string;
  fast: boolean;
  corpus: CorpusOptions;
  /**
   * The tokenizer is trained on all of the lab's text — pretraining lines and the SFT rows —
   * as a real tokenizer is trained on text where "went" is common: the correct irregular forms
   * are then whole tokens the model has, it just does not prefer them.
   */
  tokenizer: { vocab: number };
  pretrain: { preset: string; steps: number; batch: number; seqLen: number; lr: number; warmup: number; tailSteps: number; tailText: number; seed: number };
  finetune: { steps: number; batch: number; warmup: number; evalEvery: number; seed: number };
  /** Fine-tunes run at once on this machine (the sweep's child processes; the cores split between them). */
  workers: number;
  /** redis://HOST:PORT: the fine-tunes go through this BullMQ queue to `fmn worker` processes instead. */
  queue?: string;
  /** With `queue`: the directory every worker mounts (the lab's directory must lie inside it). */
  storage?: string;
  /** Matmul precision of every training and evaluation run in the lab. */
  precision: Precision;
  /** Fine-tuning seeds of every arm the verdict reads (seed, seed + 1, …). */
  seeds: number;
  /** Seeds of the recipe's-default arms, shown for reference and read by no verdict. */
  referenceSeeds: number;
  /** The learning rates each method is calibrated over, on the dev split. */
  calibration: { lora: number[]; full: number[] };
  /** Share of every batch replayed, for both replay mitigations. */
  replay: number;
  /** λ of the anchor mitigation: λ‖ΔW‖² on LoRA's update, λ‖θ − θ₀‖² (L2-SP) on full fine-tuning's. */
  anchor: number;
  /** Full fine-tuning at this rate, without mitigation: the arm that shows forgetting. */
  aggressiveLr: number;
  fewShotK: number;
  driftBound: number;
  /** Confidence level of every interval; a gain is significant at 1 − level. */
  level: number;
  bootstrap: number;
  /** Exit 1 when the target is not met. */
  gate: boolean;
  /** Analyze where the aggressive full arm's and the best LoRA arm's updates live (fmn analyze). */
  geometry: boolean;
  alphas: number[];
  ranks: number[];
}

const fast = <T extends Value>(full: T, small: T) => (v: Values): T => (v.fast ? small : full);

export const LAB_SCHEMA: Schema = {
  command: 'lab',
  usage: ['lab [--out DIR] [--fast] [options]', 'lab --config FILE [options]'],
  description: `The whole experiment on the built-in default, no downloads: the English–Spanish verb corpus (probes
in two disjoint halves: dev for every selection, test for every reported number), a BPE tokenizer, a
small GPT pretrained from scratch, then fine-tuning as a factorial design with matched controls:
method {LoRA, full} × mitigation {none, replay of the clean tier replay.txt, replay of the noisy
pretrain.txt, anchor λ‖ΔW‖²}, each method at the learning rate a dev-split calibration picks, every
cell over several seeds; plus the recipe's defaults (LoRA 1e-4, full 1e-5) and an aggressive full
fine-tune that shows forgetting. Each arm is read for what it learned (task probe, ± se), forgot
(control drift with its interval; bound 5%), over-applied (adoption) and generalized (new sentence
arrangements). Writes DIR/report.html, DIR/report.md and DIR/summary.json.`,
  fields: [
    { key: 'config', type: 'string', path: null, persist: false, metavar: 'FILE', section: 'lab', help: 'YAML or JSON settings (keys as below; flags override)' },
    { key: 'out', type: 'string', default: 'lab-out', metavar: 'DIR', persist: false, section: 'lab', help: 'output directory' },
    { key: 'fast', type: 'bool', default: false, section: 'lab', help: 'the CI-sized smoke test (about a minute; its numbers mean nothing)' },
    { key: 'seeds', type: 'int', min: 1, max: 100, default: fast(3, 2), defaultText: '3 (2 with --fast)', section: 'lab', help: 'fine-tuning seeds of every arm the verdict reads' },
    { key: 'reference_seeds', type: 'int', min: 1, max: 100, default: 1, section: 'lab', help: 'seeds of the recipe\'s-default arms (reference only)' },
    { key: 'calibration.lora', type: 'numbers', gt: 0, default: fast([3e-3, 1e-2], [1e-2]), defaultText: '0.003,0.01', section: 'lab', help: 'learning rates LoRA is calibrated over (dev split)' },
    { key: 'calibration.full', type: 'numbers', gt: 0, default: fast([1e-4, 1e-3], [1e-3]), defaultText: '0.0001,0.001', section: 'lab', help: 'learning rates full fine-tuning is calibrated over (dev split)' },
    { key: 'replay', type: 'number', gt: 0, lt: 1, default: 0.5, section: 'lab', help: 'share of every batch replayed, for both replay mitigations' },
    { key: 'anchor', type: 'number', gt: 0, default: 1e-2, section: 'lab', help: 'λ of the anchor: λ‖ΔW‖² (LoRA), λ‖θ − θ0‖² (full)' },
    { key: 'aggressive_lr', type: 'number', gt: 0, default: fast(1e-3, 3e-3), defaultText: '0.001', section: 'lab', help: 'full fine-tuning at this rate, unmitigated: the arm that shows forgetting' },
    { key: 'few_shot_k', type: 'int', min: 0, max: 64, default: 2, section: 'lab', help: 'examples in context for the prompting baseline' },
    { key: 'drift_bound', type: 'number', gt: 0, default: DEFAULT_DRIFT_BOUND, section: 'lab', help: 'bound on control-perplexity drift' },
    { key: 'level', type: 'number', gt: 0.5, lt: 1, default: 0.95, section: 'lab', help: 'confidence level of the intervals' },
    { key: 'bootstrap', type: 'int', min: 100, max: 100_000, default: fast(2000, 400), defaultText: '2000', section: 'lab', help: 'bootstrap replicates per interval' },
    { key: 'gate', type: 'bool', default: false, persist: false, section: 'lab', help: 'exit 1 when the target is not met' },
    { key: 'geometry', type: 'bool', default: true, section: 'lab', help: 'analyze where the aggressive full arm\'s and the best LoRA arm\'s updates live (fmn analyze)' },
    { key: 'alphas', type: 'numbers', default: [0, 0.25, 0.5, 0.75, 1], section: 'lab', help: 'the α of θ₀ + α·Δθ in the geometry section' },
    { key: 'ranks', type: 'numbers', min: 1, default: [1, 2, 4, 8, 16], section: 'lab', help: 'the ranks the updates are cut to in the geometry section' },
    ...sectioned(CORPUS_FIELDS, 'corpus', {
      tokens: fast(300_000, 60_000), replay_tokens: fast(150_000, 30_000), sft_rows: fast(2000, 400),
      task_pairs: fast(12, 6), control_text: fast(10, 5), echo: fast(100, 40), generalization_pairs: fast(3, 2),
    }, 'corpus'),
    { key: 'tokenizer.vocab', type: 'int', min: 259, max: 1 << 16, default: fast(1024, 512), defaultText: '1024', section: 'models', help: 'BPE vocabulary (trained on all of the lab\'s text)' },
    { key: 'pretrain.preset', type: 'enum', choices: Object.keys(PRESETS), default: (v) => (v.fast ? 'micro' : 'nano'), defaultText: 'nano (micro with --fast)', section: 'models', help: 'the base model\'s size' },
    { key: 'pretrain.steps', type: 'int', min: 1, default: fast(1500, 800), defaultText: '1500', section: 'models', help: 'pretraining steps' },
    { key: 'pretrain.batch', type: 'int', min: 1, default: 8, section: 'models', help: 'pretraining sequences per step' },
    { key: 'pretrain.seq_len', type: 'int', min: 8, default: 256, section: 'models', help: 'pretraining sequence length' },
    { key: 'pretrain.lr', type: 'number', gt: 0, default: fast(2e-3, 3e-3), defaultText: '0.002', section: 'models', help: 'pretraining peak learning rate' },
    { key: 'pretrain.warmup', type: 'int', min: 0, default: fast(100, 50), defaultText: '100', section: 'models', help: 'pretraining warmup steps' },
    { key: 'pretrain.tail_steps', type: 'number', min: 0, lt: 1, default: 0.5, section: 'models', help: 'annealing: the last share of the steps draws from the text\'s tail' },
    { key: 'pretrain.tail_text', type: 'number', min: 0, lt: 1, default: 0.5, section: 'models', help: 'the share of the text, at its end, the tail steps draw from' },
    { key: 'pretrain.seed', type: 'int', min: 0, default: 1337, section: 'models', help: 'pretraining seed' },
    { key: 'finetune.steps', type: 'int', min: 1, default: fast(300, 60), defaultText: '300', section: 'fine-tuning', help: 'steps of every arm' },
    { key: 'finetune.batch', type: 'int', min: 1, default: 16, section: 'fine-tuning', help: 'rows per step' },
    { key: 'finetune.warmup', type: 'int', min: 0, default: fast(20, 5), defaultText: '20', section: 'fine-tuning', help: 'warmup steps' },
    { key: 'finetune.eval_every', type: 'int', min: 0, default: fast(50, 30), defaultText: '50', section: 'fine-tuning', help: 'in-training evaluation on the dev probes every N steps' },
    { key: 'finetune.seed', type: 'int', min: 0, default: 1234, section: 'fine-tuning', help: 'the first fine-tuning seed' },
    { key: 'workers', type: 'int', min: 1, max: 64, default: 2, section: 'execution', help: 'fine-tunes run at once (child processes, as fmn sweep runs its cells; the threads split between them; the numbers do not depend on it)' },
    { key: 'queue', type: 'string', metavar: 'URL', section: 'execution', help: 'redis://HOST:PORT: run the fine-tunes through a BullMQ queue on `fmn worker` processes (as fmn sweep --queue)' },
    { key: 'storage', type: 'string', metavar: 'DIR', section: 'execution', help: 'with --queue: the directory every worker mounts; --out must lie inside it' },
    PRECISION_FIELD,
    ...RUN_FIELDS,
  ],
  check(v, at) {
    if (v.storage !== undefined && v.queue === undefined) throw errorAt(at('storage'), 'needs --queue');
    if (v.queue !== undefined && v.storage === undefined) throw errorAt(at('queue'), 'needs --storage (the directory every worker mounts)');
    if ((v['pretrain.seq_len'] as number) > 256) throw errorAt(at('pretrain.seq_len'), 'must be ≤ 256, the presets\' context');
  },
};

export const LAB_DEFAULTS: LabConfig = defaultsOf<LabConfig>(LAB_SCHEMA);
export const LAB_FAST: LabConfig = defaultsOf<LabConfig>(LAB_SCHEMA, { fast: true });
