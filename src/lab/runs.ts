import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RunContext } from '../backend/context.ts';
import type { ProbeItem } from '../data/probes.ts';
import { evaluateProbes, type EvalResult } from '../eval/evaluate.ts';
import { NO_PROBES } from '../eval/probe-files.ts';
import { LORA_DEFAULTS } from '../lora/config.ts';
import { loadForInference } from '../lora/load.ts';
import { decodeBatch } from '../model/generate.ts';
import type { Mitigation } from '../report/summary.ts';
import { EOT } from '../tokenizer/special.ts';
import { finetune, FINETUNE_DEFAULTS, type EvalPoint, type Method } from '../train/finetune.ts';
import type { LabConfig } from './lab-config.ts';

/** A stop request (a signal) ended a run: the lab stops; its finished runs stay on disk. */
export class LabInterrupted extends Error { constructor() { super('the lab was interrupted'); } }

/** One fine-tuning run of the lab: a method at a rate, a mitigation, a seed. */
export interface RunSpec { method: 'lora' | 'full'; lr: number; recipe: Mitigation; seed: number }

/** A run, trained and scored on the dev split (items kept, for paired statistics). */
export interface TrainedRun {
  spec: RunSpec;
  runDir: string;
  dev: EvalResult;
  evals: EvalPoint[];
  trainable: number;
  seconds: number;
}

/** A run scored on the test split too — only once every selection is made. */
export interface RunResult extends TrainedRun {
  test: EvalResult;
  /** Greedy continuations of the lab's control sample prompts. */
  controlSamples: string[];
}

export const runName = (s: RunSpec): string => `${s.method}-${s.recipe}-lr${s.lr}-s${s.seed}`;

/** What a mitigation means in a run's settings. */
export function recipeOf(c: LabConfig, r: Mitigation): { replay: number; replayText: 'replay.txt' | 'pretrain.txt' | null; lambda: number } {
  if (r === 'replay') return { replay: c.replay, replayText: 'replay.txt', lambda: 0 };
  if (r === 'replay-pretrain') return { replay: c.replay, replayText: 'pretrain.txt', lambda: 0 };
  if (r === 'anchor') return { replay: 0, replayText: null, lambda: c.anchor };
  return { replay: 0, replayText: null, lambda: 0 };
}

export interface LabData {
  out: string;
  corpusDir: string;
  baseDir: string;
  /** Dev probe items (task, control, adoption, generalization): all that training and selection read. */
  dev: ProbeItem[];
  /** The dev probe files, for in-training evaluation. */
  devFiles: string[];
}

/** The test split, opened once selection is over. */
export interface TestData {
  items: ProbeItem[];
  /** Control sample prompts (the first words of control sentences). */
  controlPrompts: string[];
}

/**
 * Runs the lab's fine-tunes, each once: a spec asked for twice (the calibration's run reused as
 * a factorial cell's first seed, the aggressive arm's at the calibrated rate) is trained once.
 * Training reads the dev split only; `score` adds the test split afterwards.
 */
export class LabRuns {
  readonly #done = new Map<string, TrainedRun>();
  readonly #scored = new Map<string, RunResult>();
  constructor(readonly c: LabConfig, readonly data: LabData, readonly ctx: RunContext) {}

  get count(): number { return this.#done.size; }

  async run(spec: RunSpec): Promise<TrainedRun> {
    const key = runName(spec);
    const hit = this.#done.get(key);
    if (hit) return hit;
    const { c, data, ctx } = this;
    const t0 = performance.now();
    const runDir = join(data.out, 'runs', key);
    rmSync(runDir, { recursive: true, force: true });
    const rc = recipeOf(c, spec.recipe);
    const method: Method = spec.method === 'lora' ? { kind: 'lora', ...LORA_DEFAULTS } : { kind: 'full' };
    const quiet = { ...ctx, log: () => {}, progress: undefined };
    // the curves over steps are drawn for each arm's first seed only: the other seeds train
    // without in-training evaluation (it draws no random numbers, so their weights are the same)
    const monitor = spec.seed === c.finetune.seed;
    const r = await finetune({
      ...FINETUNE_DEFAULTS, base: data.baseDir, data: join(data.corpusDir, 'sft.jsonl'), out: runDir, method,
      lr: spec.lr, steps: c.finetune.steps, batch: c.finetune.batch, warmup: c.finetune.warmup, seed: spec.seed,
      replay: rc.replay, replayText: rc.replayText !== null ? join(data.corpusDir, rc.replayText) : undefined,
      loraL2: spec.method === 'lora' ? rc.lambda : 0, l2sp: spec.method === 'full' ? rc.lambda : 0,
      probes: { ...NO_PROBES, devProbes: monitor ? data.devFiles : [] }, evalEvery: monitor ? c.finetune.evalEvery : 0, driftBound: c.driftBound,
      saveEvery: 0, finalEval: false, precision: c.precision,
    }, { ...quiet, stop: ctx.stop });
    if (r.interrupted) throw new LabInterrupted();
    const tuned = this.#load(spec, runDir);
    const res: TrainedRun = { spec, runDir, dev: evaluateProbes(tuned.model, tuned.tok, data.dev), evals: r.evals, trainable: r.trainable, seconds: (performance.now() - t0) / 1000 };
    this.#done.set(key, res);
    return res;
  }

  /** Scores a trained run on the test split (once), with greedy continuations of the control prompts. */
  score(run: TrainedRun, test: TestData): RunResult {
    const key = runName(run.spec);
    const hit = this.#scored.get(key);
    if (hit) return hit;
    const t0 = performance.now();
    const tuned = this.#load(run.spec, run.runDir);
    const eot = tuned.tok.specialId(EOT);
    const controlSamples = decodeBatch(tuned.model, test.controlPrompts.map((p) => [eot, ...tuned.tok.encode(p)]), { maxNewTokens: 16, stopIds: [eot] })
      .map((d) => tuned.tok.decode(d.ids));
    const res: RunResult = { ...run, test: evaluateProbes(tuned.model, tuned.tok, test.items), controlSamples, seconds: run.seconds + (performance.now() - t0) / 1000 };
    this.#scored.set(key, res);
    return res;
  }

  #load(spec: RunSpec, runDir: string) {
    const quiet = { ...this.ctx, log: () => {} };
    return spec.method === 'lora' ? loadForInference(this.data.baseDir, runDir, quiet) : loadForInference(runDir, undefined, quiet);
  }
}
