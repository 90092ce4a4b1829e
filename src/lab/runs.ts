import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunContext } from '../backend/context.ts';
import { fromTyped } from '../config/schema.ts';
import type { ProbeItem } from '../data/probes.ts';
import { DataError } from '../errors.ts';
import { evaluateProbes, type EvalResult } from '../eval/evaluate.ts';
import { NO_PROBES } from '../eval/probe-files.ts';
import { LORA_DEFAULTS } from '../lora/config.ts';
import { loadForInference } from '../lora/load.ts';
import { decodeBatch } from '../model/generate.ts';
import type { Mitigation } from '../report/summary.ts';
import { cellDir, cellFinetune, preparePlan, type SweepRow } from '../sweep/cells.ts';
import type { Cell, SweepPlan } from '../sweep/config.ts';
import { runLocal, threadsPerCell } from '../sweep/local.ts';
import { runQueued } from '../sweep/queue.ts';
import { EOT } from '../tokenizer/special.ts';
import { parseJson } from '../util/json.ts';
import { FINETUNE_DEFAULTS, FINETUNE_SCHEMA, type EvalPoint, type FinetuneConfig, type Method } from '../train/finetune.ts';
import type { LabConfig } from './lab-config.ts';

/** A stop request (a signal) ended a run: the lab stops; its finished runs stay on disk. */
export class LabInterrupted extends Error { constructor() { super('the lab was interrupted'); } }

/** One fine-tuning run of the lab: a method at a rate, a mitigation, a seed. */
export interface RunSpec { method: 'lora' | 'full'; lr: number; recipe: Mitigation; seed: number }

/** What the lab reads of an evaluation: the numbers by role and by probe group. */
export type Scores = Pick<EvalResult, 'roles' | 'probes'>;

/** A run, trained and scored on the dev split (what selection reads). */
export interface TrainedRun {
  spec: RunSpec;
  runDir: string;
  dev: Scores;
  evals: EvalPoint[];
  trainable: number;
  seconds: number;
  /** The run's row in the lab's sweep (runs/sweep.jsonl). */
  row: SweepRow;
}

/** A run scored on the test split too — only once every selection is made (items kept, for paired statistics). */
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
  /** The dev probe files, for in-training evaluation and each run's final dev scores. */
  devFiles: string[];
}

/** The test split, opened once selection is over. */
export interface TestData {
  items: ProbeItem[];
  /** Control sample prompts (the first words of control sentences). */
  controlPrompts: string[];
}

/** How the lab's runs are executed: the sweep's machinery, on this machine or through a queue. */
export interface LabExecution { workers: number; queue?: string; storage?: string }

/** The lab's sweep directory: every run of the lab is one of its cells. */
export const labSweepDir = (out: string): string => join(out, 'runs');

/**
 * The lab's fine-tunes as cells of one sweep (`DIR/runs`, the layout `fmn sweep` writes): each
 * run is `fmn finetune --config DIR/runs/cells/NAME/cell.json` in a child process, `workers` at
 * a time with the cores split between them (or through a BullMQ queue), its row in
 * DIR/runs/sweep.jsonl. The search is adaptive — the calibration's rows decide the arms' rates
 * — so the plan grows: each `train` call appends the cells it has not seen (a spec asked for
 * twice, such as a calibration run reused as a factorial cell's first seed, is one cell) and
 * runs the unfinished ones. Training reads the dev split only (each run's final numbers are on
 * the dev probes); `score` adds the test split afterwards, in this process.
 */
export class LabRuns {
  readonly dir: string;
  readonly #cells: Cell[] = [];
  readonly #byName = new Map<string, Cell>();
  readonly #trained = new Map<string, TrainedRun>();
  readonly #scored = new Map<string, RunResult>();
  constructor(readonly c: LabConfig, readonly data: LabData, readonly ctx: RunContext & { stop?: { requested: boolean } }, readonly exec: LabExecution) {
    this.dir = labSweepDir(data.out);
  }

  get count(): number { return this.#cells.length; }
  /** Kernel threads of each run. */
  get threadsPerRun(): number { return threadsPerCell(this.ctx.backend.threads, this.exec.queue !== undefined ? 1 : this.exec.workers); }

  /** The fine-tuning settings of a run, as `fmn finetune` takes them (its out set per cell). */
  finetuneConfig(spec: RunSpec): FinetuneConfig {
    const { c, data } = this;
    const rc = recipeOf(c, spec.recipe);
    const method: Method = spec.method === 'lora' ? { kind: 'lora', ...LORA_DEFAULTS } : { kind: 'full' };
    // the curves over steps are drawn for each arm's first seed only: the other seeds train
    // without in-training evaluation (it draws no random numbers, so their weights are the same)
    const monitor = spec.seed === c.finetune.seed;
    return {
      ...FINETUNE_DEFAULTS, base: data.baseDir, data: join(data.corpusDir, 'sft.jsonl'), out: '-', method,
      lr: spec.lr, steps: c.finetune.steps, batch: c.finetune.batch, warmup: c.finetune.warmup, seed: spec.seed,
      replay: rc.replay, replayText: rc.replayText !== null ? join(data.corpusDir, rc.replayText) : undefined,
      loraL2: spec.method === 'lora' ? rc.lambda : 0, l2sp: spec.method === 'full' ? rc.lambda : 0,
      probes: { ...NO_PROBES, devProbes: data.devFiles }, evalEvery: monitor ? c.finetune.evalEvery : 0, driftBound: c.driftBound,
      saveEvery: 0, finalEval: true, precision: c.precision,
    };
  }

  #cellOf(spec: RunSpec): Cell {
    const name = runName(spec);
    const known = this.#byName.get(name);
    if (known) return known;
    const values = fromTyped(FINETUNE_SCHEMA, this.finetuneConfig(spec));
    delete values.out;
    const cell: Cell = { index: this.#cells.length, name, axis: { method: spec.method, recipe: spec.recipe, lr: spec.lr, seed: spec.seed }, values };
    this.#cells.push(cell);
    this.#byName.set(name, cell);
    return cell;
  }

  #plan(): SweepPlan {
    return { file: '(fmn lab)', settings: {}, cells: [...this.#cells], axes: ['method', 'recipe', 'lr', 'seed'] };
  }

  /**
   * Trains every spec not trained yet — as cells of the lab's sweep, `workers` at once — and
   * returns each spec's run in the order given. `onRun` sees each as it finishes.
   */
  async train(specs: readonly RunSpec[], onRun?: (r: TrainedRun) => void): Promise<TrainedRun[]> {
    const cells = specs.map((s) => this.#cellOf(s));
    const plan = this.#plan();
    preparePlan(this.dir, plan, false, { extend: true });
    const { ctx, exec } = this;
    // the cells' own logs are kept, shown only when a cell fails
    const logs = new Map<string, string[]>();
    const cellLog = (cell: Cell, line: string) => { const l = logs.get(cell.name) ?? []; l.push(line); if (l.length > 40) l.shift(); logs.set(cell.name, l); };
    const specOf = new Map(cells.map((cell, k) => [cell.name, specs[k]!]));
    const onRow = (cell: Cell) => { const s = specOf.get(cell.name); if (s && onRun) onRun(this.#read(s, cell)); };
    const backend = ctx.backend.name.startsWith('native') ? 'native' as const : 'js' as const;
    const res = exec.queue !== undefined
      ? await runQueued(this.dir, plan, { url: exec.queue, storage: exec.storage }, ctx)
      : await runLocal(this.dir, plan, exec.workers, { ...ctx, log: (l) => { if (!l.startsWith('sweep: ')) ctx.log(l); } }, { backend, cellLog, onRow });
    if (res.interrupted || ctx.stop?.requested) throw new LabInterrupted();
    if (res.failed.length > 0) {
      for (const f of res.failed) for (const l of logs.get(f.cell.name) ?? []) ctx.log(`  [${f.cell.name}] ${l}`);
      throw new DataError(`${res.failed.length} of the lab's runs failed (${res.failed.map((f) => `${f.cell.name}: ${f.error}`).join('; ')})`, { file: this.dir });
    }
    const out = cells.map((cell, k) => this.#read(specs[k]!, cell));
    if (exec.queue !== undefined && onRun) for (const r of out) onRun(r);
    return out;
  }

  /** A finished cell as a trained run: its row, and the dev numbers and curve fmn finetune returned. */
  #read(spec: RunSpec, cell: Cell): TrainedRun {
    const hit = this.#trained.get(cell.name);
    if (hit) return hit;
    const dir = this.dir;
    const r = cellFinetune(dir, cell);
    const row = readRow(dir, cell);
    if (r.dev === undefined) throw new DataError('has no dev numbers (its fmn finetune result lacks "dev")', { file: join(cellDir(dir, cell), 'finetune.json') });
    const run: TrainedRun = { spec, runDir: join(cellDir(dir, cell), 'run'), dev: r.dev.eval, evals: r.evals, trainable: r.trainable, seconds: row.seconds, row };
    this.#trained.set(cell.name, run);
    return run;
  }

  /** Scores a trained run on the test split (once), with greedy continuations of the control prompts. */
  score(run: TrainedRun, test: TestData): RunResult {
    const key = runName(run.spec);
    const hit = this.#scored.get(key);
    if (hit) return hit;
    const t0 = performance.now();
    const quiet = { ...this.ctx, log: () => {} };
    const tuned = run.spec.method === 'lora' ? loadForInference(this.data.baseDir, run.runDir, quiet) : loadForInference(run.runDir, undefined, quiet);
    const eot = tuned.tok.specialId(EOT);
    const controlSamples = decodeBatch(tuned.model, test.controlPrompts.map((p) => [eot, ...tuned.tok.encode(p)]), { maxNewTokens: 16, stopIds: [eot] })
      .map((d) => tuned.tok.decode(d.ids));
    const res: RunResult = { ...run, test: evaluateProbes(tuned.model, tuned.tok, test.items), controlSamples, seconds: run.seconds + (performance.now() - t0) / 1000 };
    this.#scored.set(key, res);
    return res;
  }
}

function readRow(dir: string, cell: Cell): SweepRow {
  const f = join(cellDir(dir, cell), 'result.json');
  return parseJson(readFileSync(f, 'utf8'), (m) => { throw new DataError(m, { file: f }); }) as SweepRow;
}
