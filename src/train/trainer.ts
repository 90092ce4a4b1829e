import { mkdirSync } from 'node:fs';
import { inPhase, profilePhase } from '../backend/profile.ts';
import { parseJson } from '../util/json.ts';
import { join } from 'node:path';
import { CheckpointError } from '../errors.ts';
import { parseSafetensors, serializeSafetensors } from '../model/safetensors.ts';
import { loadLatestCheckpoint, saveCheckpoint } from './run-dir.ts';
import { AdamW, clipScale, type AdamWOptions } from '../optim/adamw.ts';
import { lrAt } from '../optim/schedule.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Batch, BatchSource } from './batch.ts';
import { MetricsLog } from './metrics.ts';
import { SILENT_PROGRESS, type ProgressFactory } from '../util/progress.ts';

export interface TrainerOptions {
  steps: number;
  maxLr: number;
  /** Final learning rate of the cosine (absolute). */
  minLr: number;
  warmup: number;
  /** Global gradient-norm clip (0 = off). */
  clip: number;
  /** Micro-batches per optimizer step. */
  gradAccum: number;
  adamw: AdamWOptions;
  logEvery: number;
  /** Run `evaluate` every N steps (0 = only at the end). */
  evalEvery: number;
  /** Save the training state every N steps (0 = only at the end). */
  checkpointEvery: number;
}

export interface StepLoss {
  /** The scalar to differentiate (already includes regularizers). */
  loss: Tensor;
  /** Extra numbers to log (e.g. `replay_loss`, `reg`). */
  parts?: Record<string, number>;
  /** Tokens this micro-batch trained on (for tokens/s). */
  tokens: number;
}

export interface TrainHooks {
  /** Builds the loss graph for one micro-batch. */
  loss(batch: Batch): StepLoss;
  /** Held-out evaluation; its numbers go to metrics.jsonl. `stop: true` ends training. */
  evaluate?(step: number): Record<string, number | string> & { stop?: number };
  /** Called after each saved training state (e.g. to write model or adapter files). */
  onCheckpoint?(step: number): void;
  /** More state for an exact resume (e.g. the dropout Rng), saved as JSON with the rest. */
  extraState?: { save(): unknown; restore(state: unknown): void };
}

/** Set by a signal handler (or a caller) to end training after the step in hand, saving the state. */
export interface StopRequest { requested: boolean }

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * The training loop shared by pretraining and fine-tuning: micro-batch accumulation, clipping,
 * AdamW with warmup + cosine, periodic logs / evals / atomic checkpoints, and an exact resume
 * (trainable weights, AdamW moments, step and data position are all in the saved state).
 */
export class Trainer {
  readonly opt: AdamW;
  readonly metrics: MetricsLog;
  step = 0;

  constructor(readonly params: [string, Tensor][], readonly data: BatchSource, readonly o: TrainerOptions,
    readonly hooks: TrainHooks, readonly outDir: string | null, readonly label = 'train', readonly progress: ProgressFactory = SILENT_PROGRESS,
    readonly stop: StopRequest | undefined = undefined) {
    this.opt = new AdamW(params, o.adamw);
    this.metrics = new MetricsLog(outDir === null ? null : join(outDir, 'metrics.jsonl'));
  }

  /**
   * Runs until `o.steps` (or `stopAt`, for tests that simulate a kill). Between steps it yields to
   * the event loop, so a signal handler can ask it to stop: it then saves the state after the step
   * in hand and returns with `interrupted`. Returns the last loss.
   */
  async run(opts: { stopAt?: number; resumed?: boolean } = {}): Promise<{ loss: number; step: number; tokensPerSec: number; interrupted: boolean }> {
    const o = this.o;
    const end = Math.min(o.steps, opts.stopAt ?? o.steps);
    if (this.outDir !== null) mkdirSync(this.outDir, { recursive: true });
    this.metrics.reset(opts.resumed ? this.step : -1);
    const progress = this.progress(this.label, o.steps);
    const trainable = this.params.map(([, p]) => p);
    let lastLoss = NaN, tokens = 0, interrupted = false;
    const t0 = performance.now();
    while (this.step < end) {
      await yieldToEventLoop();
      if (this.stop?.requested) { if (this.outDir !== null) this.saveState(); interrupted = true; break; }
      const lr = lrAt(this.step, { maxLr: o.maxLr, minLr: o.minLr, warmup: o.warmup, total: o.steps });
      profilePhase('train');
      this.opt.zeroGrad();
      let lossSum = 0, stepTokens = 0;
      const parts: Record<string, number> = {};
      for (let a = 0; a < o.gradAccum; a++) {
        const sl = this.hooks.loss(this.data.next());
        lossSum += sl.loss.item();
        stepTokens += sl.tokens;
        for (const [k, v] of Object.entries(sl.parts ?? {})) parts[k] = (parts[k] ?? 0) + v / o.gradAccum;
        // mean over micro-batches: seed d(loss) = 1 / accum
        sl.loss.backward(new Float32Array([1 / o.gradAccum]));
        sl.loss.releaseGraph();
      }
      // clipping's scale applied inside the optimizer's single pass over the gradients
      const { norm: gradNorm, scale } = clipScale(trainable, o.clip);
      this.opt.update(lr, scale);
      this.step++;
      tokens += stepTokens;
      lastLoss = lossSum / o.gradAccum;
      const tps = tokens / ((performance.now() - t0) / 1000);
      if (this.step % o.logEvery === 0 || this.step === o.steps) {
        this.metrics.write({ step: this.step, loss: lastLoss, lr, grad_norm: gradNorm, tokens_per_s: Math.round(tps), ...parts });
      }
      progress.update(this.step, { loss: lastLoss, lr, 'tok/s': Math.round(tps) });
      const evalNow = this.hooks.evaluate && ((o.evalEvery > 0 && this.step % o.evalEvery === 0) || this.step === o.steps);
      if (evalNow) {
        const r = inPhase('eval', () => this.hooks.evaluate!(this.step));
        this.metrics.write({ step: this.step, ...r });
        if (r.stop) { this.saveState(); break; }
      }
      if (this.outDir !== null && ((o.checkpointEvery > 0 && this.step % o.checkpointEvery === 0) || this.step === o.steps)) inPhase('checkpoint', () => this.saveState());
    }
    profilePhase('other');
    return { loss: lastLoss, step: this.step, tokensPerSec: tokens / ((performance.now() - t0) / 1000), interrupted };
  }

  /**
   * One checkpoint, saved as a unit (run-dir.ts): training_state.safetensors (trainable weights,
   * AdamW m and v) and training_state.json (step, data position, extra state), checked by a
   * manifest and renamed into `checkpoints/step-N/` whole. Then the run's outputs (onCheckpoint).
   */
  saveState(): void {
    if (this.outDir === null) return;
    const t = new Map<string, { shape: number[]; data: Float32Array }>();
    this.params.forEach(([name, p], i) => {
      t.set(`param.${name}`, { shape: p.shape, data: p.data as Float32Array });
      t.set(`exp_avg.${name}`, { shape: p.shape, data: this.opt.m[i] });
      t.set(`exp_avg_sq.${name}`, { shape: p.shape, data: this.opt.v[i] });
    });
    const json = JSON.stringify({
      step: this.step, optimizer_step: this.opt.step, data: this.data.state(), total_steps: this.o.steps,
      extra: this.hooks.extraState?.save() ?? null,
    }, null, 2) + '\n';
    saveCheckpoint(this.outDir, this.step, new Map([['training_state.safetensors', serializeSafetensors(t)], ['training_state.json', Buffer.from(json)]]));
    this.hooks.onCheckpoint?.(this.step);
  }

  /** Restores the newest complete checkpoint in `dir`; the trainable parameters must match by name and shape. */
  loadState(dir: string, log: (l: string) => void = () => {}): void {
    const { files, dir: cdir } = loadLatestCheckpoint(dir, log);
    const jf = join(cdir, 'training_state.json'), sf = join(cdir, 'training_state.safetensors');
    const j = parseJson(files.get('training_state.json')!.toString('utf8'), (msg, e) => { throw new CheckpointError(msg, { file: jf }, e && { cause: e.cause }); }) as { step: number; optimizer_step: number; data: unknown; extra?: unknown };
    if (!Number.isInteger(j.step) || j.step < 0) throw new CheckpointError('step must be a non-negative integer', { file: jf, field: 'step' });
    const st = parseSafetensors(files.get('training_state.safetensors')!, sf).tensors;
    this.params.forEach(([name, p], i) => {
      for (const [key, dst] of [[`param.${name}`, p.data], [`exp_avg.${name}`, this.opt.m[i]], [`exp_avg_sq.${name}`, this.opt.v[i]]] as const) {
        const src = st.get(key);
        if (!src || src.data.length !== dst.length) throw new CheckpointError('missing or mis-sized tensor', { file: sf, field: key });
        dst.set(src.data);
      }
    });
    this.step = j.step;
    this.opt.step = j.optimizer_step;
    this.data.restore(j.data);
    if (this.hooks.extraState) this.hooks.extraState.restore(j.extra ?? null);
  }
}
