import type { PretrainOptions } from '../data/pretrain.ts';
import type { ProbeOptions } from '../data/probe-gen.ts';

/**
 * The lab's numbers, spelled out. `full` is the default `fmn lab`; `fast` the CI-sized
 * variant (same steps of the experiment, smaller everything).
 */
export interface LabConfig {
  corpus: { seed: number; pretrain: Partial<Omit<PretrainOptions, 'seed'>>; replayTokens: number; sftRows: number; probes?: Partial<Omit<ProbeOptions, 'seed'>> };
  /**
   * The tokenizer is trained on all of the lab's text — pretraining lines and the SFT rows —
   * as a real tokenizer is trained on text where "went" is common: the correct irregular forms
   * are then whole tokens the model has, it just does not prefer them.
   */
  tokenizer: { vocab: number };
  pretrain: { preset: string; steps: number; batch: number; seqLen: number; lr: number; warmup: number; tailSteps: number; tailText: number; seed: number };
  finetune: { steps: number; batch: number; warmup: number; evalEvery: number; seed: number };
  /** LoRA rate for the mitigation arms: measured for this model size (the recipe's 1e-4 barely moves a 1M-parameter model). */
  loraLr: number;
  replay: number;
  loraL2: number;
  aggressiveFullLr: number;
  /** The small search behind the "best" arm (LoRA, with the drift gate). */
  search: { lr: number[]; steps: number[]; replay: number[]; lambda: number[] };
  fewShotK: number;
  driftBound: number;
}

export const LAB_FULL: LabConfig = {
  corpus: { seed: 0, pretrain: { tokens: 300_000, irregularCorrectRate: 0.14, overregularRate: 0.16, echoShare: 0.85, echoFrom: 0.5, grammarShare: 0.03 }, replayTokens: 150_000, sftRows: 2000 },
  tokenizer: { vocab: 1024 },
  pretrain: { preset: 'nano', steps: 1500, batch: 8, seqLen: 256, lr: 2e-3, warmup: 100, tailSteps: 0.5, tailText: 0.5, seed: 1337 },
  finetune: { steps: 300, batch: 16, warmup: 20, evalEvery: 50, seed: 1234 },
  loraLr: 1e-2,
  replay: 0.05,
  loraL2: 1e-2,
  aggressiveFullLr: 1e-3,
  search: { lr: [3e-3, 1e-2], steps: [600], replay: [0, 0.5], lambda: [0] },
  fewShotK: 2,
  driftBound: 0.05,
};

export const LAB_FAST: LabConfig = {
  corpus: { seed: 0, pretrain: { tokens: 60_000, irregularCorrectRate: 0.14, overregularRate: 0.16, echoShare: 0.85, echoFrom: 0.5, grammarShare: 0.03 }, replayTokens: 30_000, sftRows: 400 },
  tokenizer: { vocab: 512 },
  pretrain: { preset: 'micro', steps: 800, batch: 8, seqLen: 256, lr: 3e-3, warmup: 50, tailSteps: 0.5, tailText: 0.5, seed: 1337 },
  finetune: { steps: 60, batch: 16, warmup: 5, evalEvery: 30, seed: 1234 },
  loraLr: 1e-2,
  replay: 0.05,
  loraL2: 1e-2,
  aggressiveFullLr: 3e-4,
  search: { lr: [3e-3], steps: [60], replay: [0, 0.25], lambda: [0] },
  fewShotK: 2,
  driftBound: 0.05,
};
