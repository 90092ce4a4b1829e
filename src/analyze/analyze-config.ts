import { RUN_FIELDS } from '../config/common.ts';
import { errorAt, type Field, type Schema } from '../config/schema.ts';
import { probeFields } from '../eval/probe-files.ts';
import { DEFAULT_DRIFT_BOUND } from '../eval/verdict.ts';

export const ANALYZE_SUBCOMMANDS = ['diff', 'ablate', 'interpolate', 'truncate'] as const;
export type AnalyzeSub = (typeof ANALYZE_SUBCOMMANDS)[number];

const COMMON: Field[] = [
  { key: 'config', type: 'string', path: null, persist: false, metavar: 'FILE', section: 'inputs', help: 'YAML or JSON settings (keys as below; flags override)' },
  { key: 'base', type: 'string', required: true, metavar: 'MODEL', section: 'inputs', help: 'the model before fine-tuning' },
  { key: 'tuned', type: 'string', metavar: 'MODEL', section: 'inputs', help: 'the fine-tuned model directory (full fine-tuning)' },
  { key: 'adapter', type: 'string', metavar: 'RUN', section: 'inputs', help: 'or a PEFT adapter run (LoRA): ΔW = (α/r)·(B A)ᵀ' },
];
const SCORED: Field[] = [
  ...probeFields('probes'),
  { key: 'drift_bound', type: 'number', gt: 0, default: DEFAULT_DRIFT_BOUND, section: 'scoring', help: 'bound on control-perplexity drift' },
];
const DESCRIPTIONS: Record<AnalyzeSub, string> = {
  diff: `Where the update lives: per weight matrix and per group (embeddings/head, attention qkv, attention
out, MLP up, MLP down, norms, and per block) the update's size ‖ΔW‖_F and ‖ΔW‖/‖W₀‖, its effective
rank (exp of the entropy of σᵢ/Σσ), r90 (singular values holding 90% of Σσ²), stable rank
(‖ΔW‖²_F/σ₁²), and intruder dimensions: of the top k singular vectors of W₀ + ΔW, those whose
|cos| with every singular vector of W₀ is below ε — beside the count for a random ΔW of the same
norm (the null). And ‖Δθ‖ in total.`,
  ablate: `Where the learning and the forgetting come from: each group (and block) reverted to the base,
one at a time, and each alone fine-tuned; every variant scored on the task and control probes
(dev split when given): task accuracy ± se and drift with its interval.`,
  interpolate: `The learning–forgetting curve of one update: θ₀ + α·Δθ scored at each α (α 0 is the base, 1 the
tuned model; above 1 extrapolates).`,
  truncate: `Whether the update's rank matters: each ΔW cut to its best rank-r approximation, scored beside
the same-size uniform shrink (each ΔW scaled to the cut's norm). If the cut does no better than
the shrink at the same size, size — not rank — did it.`,
};

/** One schema per subcommand: `fmn analyze diff|ablate|interpolate|truncate`. */
export const ANALYZE_SCHEMAS: Record<AnalyzeSub, Schema> = Object.fromEntries(ANALYZE_SUBCOMMANDS.map((sub) => [sub, {
  command: `analyze ${sub}`,
  usage: [`analyze ${sub} --base MODEL (--tuned MODEL | --adapter RUN)${sub === 'diff' ? '' : ' --dev-task F --dev-control F'} [options]`],
  description: DESCRIPTIONS[sub],
  fields: [
    ...COMMON,
    ...(sub === 'diff' ? [
      { key: 'intruder_k', type: 'int', min: 1, max: 1000, default: 10, section: 'spectrum', help: 'intruders: the top-k singular vectors of W₀ + ΔW examined' },
      { key: 'intruder_eps', type: 'number', gt: 0, lt: 1, default: 0.5, section: 'spectrum', help: 'intruders: a vector is one when its |cos| with every singular vector of W₀ is below this' },
      { key: 'null_draws', type: 'int', min: 0, max: 100, default: 3, section: 'spectrum', help: 'random ΔW of the same norm averaged for the null intruder count' },
      { key: 'seed', type: 'int', min: 0, default: 0, section: 'spectrum', help: 'seed of the null draws' },
      { key: 'plots', type: 'string', path: null, metavar: 'DIR', section: 'output', help: 'write one SVG per parameter group there: the cumulative energy of each matrix\'s update over the directions kept' },
    ] satisfies Field[] : SCORED),
    ...(sub === 'interpolate' ? [{ key: 'alphas', type: 'numbers', default: [0, 0.1, 0.25, 0.5, 0.75, 1], section: 'scoring', help: 'the α of θ₀ + α·Δθ' }] satisfies Field[] : []),
    ...(sub === 'truncate' ? [{ key: 'ranks', type: 'numbers', min: 1, default: [1, 2, 4, 8, 16, 32], section: 'scoring', help: 'the ranks each ΔW is cut to' }] satisfies Field[] : []),
    ...RUN_FIELDS.filter((f) => f.key !== 'quiet'),
  ],
  check(v, at) {
    if ((v.tuned === undefined) === (v.adapter === undefined)) throw errorAt(at('tuned'), 'give --tuned MODEL (full fine-tuning) or --adapter RUN (LoRA), one of them');
    const ranks = v.ranks as number[] | undefined;
    if (ranks?.some((r) => !Number.isInteger(r))) throw errorAt(at('ranks'), 'must be whole numbers');
  },
} satisfies Schema])) as unknown as Record<AnalyzeSub, Schema>;
