// Golden trajectory: 10 optimizer steps of the real Trainer (accumulation, clipping, AdamW,
// warmup + cosine) against an independent float64 PyTorch run of the same steps
// (scripts/torch_trajectory.py → test/fixtures/golden-trajectory/reference.json), for full
// fine-tuning of tiny-gpt2 and for LoRA on it from the tiny-gpt2-lora adapter.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Backend } from '../backend/backend.ts';
import { createJsBackend } from '../backend/js/index.ts';
import { loadNativeBackend } from '../backend/native/index.ts';
import { adapterParameters, setLoraTraining } from '../lora/inject.ts';
import { loadAdapter } from '../lora/peft.ts';
import { loadModel } from '../model/checkpoint.ts';
import { crossEntropy } from '../tensor/ops/loss.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { Rng } from '../util/rng.ts';
import type { Batch, BatchSource } from './batch.ts';
import { Trainer } from './trainer.ts';

const fixtures = join(import.meta.dirname, '..', '..', 'test', 'fixtures');

interface Checksum { sum: number; abs_sum: number; sq_sum: number }
interface RefCase {
  hparams: { maxLr: number; minLr: number; beta1: number; beta2: number; eps: number; weightDecay: number; clip: number };
  /** float32_*_err: that step's worst relative error over PyTorch's float32 runs (see below). */
  steps: { step: number; loss: number; grad_norm: number; lr: number; float32_loss_err: number; float32_grad_norm_err: number }[];
  clipped_steps: number;
  checksum: Checksum;
  tensors: Record<string, Checksum>;
  /** Worst relative error of PyTorch's own float32 runs of the same trajectory against float64. */
  float32_torch_worst_rel_err: { loss: number; grad_norm: number; sq_sum: number; sum: number };
}
interface Ref {
  B: number; T: number; steps: number; warmup: number; grad_accum: number;
  /** Element ranges [from, to) left out of a tensor's checksum (the key bias: zero gradient). */
  checksum_excludes: Record<string, [number, number]>;
  batches: { ids: number[]; targets: number[] }[];
  cases: { full: RefCase; lora: RefCase };
}
const ref = JSON.parse(readFileSync(join(fixtures, 'golden-trajectory', 'reference.json'), 'utf8')) as Ref;

/**
 * Tolerances, tied to float32 (EPS32 = 2⁻²³ ≈ 1.2e-7). The model runs in float32, the
 * reference in float64, so the question is how far float32 arithmetic alone can land from
 * float64 on this trajectory. The fixture answers it: scripts/torch_trajectory.py reruns each
 * case in PyTorch float32 (8 runs, 7 of them from weights moved ±1 ulp at random) and stores
 * the worst relative error per step (loss, grad norm) and for the final weights. A bound is
 * FACTOR× that worst, never below FLOOR (a few float32 roundings summed over the trajectory):
 * - full fine-tuning is well conditioned (PyTorch float32: ≤ 5e-7 everywhere), so the floors
 *   decide: loss ≤ 1e-6, grad norm ≤ 1e-5, weights ≤ 1e-5, tighter than the issue's
 *   1e-5 / 1e-4 / 1e-4 because they are met with ≥ 20× to spare (measured ≤ 3e-7).
 * - LoRA from the tiny-gpt2-lora adapter is not: its ΔW outweighs W, attention scores reach
 *   ~45 and the softmax saturates (1 − p ~ 1e-15), so float32 loses digits in the softmax
 *   backward. PyTorch's own float32 runs are off by up to ~5e-6 on the loss and 1e-5 … 3e-3 on
 *   the grad norm, depending on the step; a bound of 1e-4 on the grad norm is float32's to
 *   miss, not this code's, hence per-step bounds from the fixture.
 * - lr: float64 on both sides by the same formula: ≤ 1e-12.
 * - weights: Σw² and Σw per tensor and in total, Σw relative to Σ|w| (a plain relative error
 *   of a cancelling sum means nothing), the key biases left out (see checksum_excludes).
 */
const FLOOR = { loss: 1e-6, gradNorm: 1e-5, weights: 1e-5 };
const FACTOR = 4;
const LR_TOL = 1e-12;
const stepTol = (s: RefCase['steps'][number]) => ({
  loss: Math.max(FLOOR.loss, FACTOR * s.float32_loss_err),
  gradNorm: Math.max(FLOOR.gradNorm, FACTOR * s.float32_grad_norm_err),
});
const weightTol = (c: RefCase): number =>
  Math.max(FLOOR.weights, FACTOR * Math.max(c.float32_torch_worst_rel_err.sq_sum, c.float32_torch_worst_rel_err.sum));
/** Bounds read from the fixture may not grow past these (a regenerated fixture cannot make the test vacuous). */
const CEILING = { loss: 1e-4, gradNorm: 2e-2, weights: 1e-4 };

/** The fixture's micro-batches in order; the position is the index (exact resume). */
class FixtureBatches implements BatchSource {
  i = 0;
  next(): Batch {
    const b = ref.batches[this.i++ % ref.batches.length];
    return { ids: Int32Array.from(b.ids), targets: Int32Array.from(b.targets), B: ref.B, T: ref.T };
  }
  state(): number { return this.i; }
  restore(s: unknown): void { this.i = s as number; }
}

const rel = (got: number, want: number): number => Math.abs(got - want) / Math.abs(want);

function checksum(data: ArrayLike<number>, skip: [number, number] = [0, 0]): Checksum {
  let sum = 0, abs = 0, sq = 0;
  for (let i = 0; i < data.length; i++) {
    if (i >= skip[0] && i < skip[1]) continue;
    sum += data[i]; abs += Math.abs(data[i]); sq += data[i] * data[i];
  }
  return { sum, abs_sum: abs, sq_sum: sq };
}

/** Runs the case through the Trainer; returns the logged steps and the trainable parameters. */
async function runCase(be: Backend, kind: 'full' | 'lora'): Promise<{ logged: { loss: number; grad_norm: number; lr: number; step: number }[]; params: [string, Tensor][] }> {
  const c = ref.cases[kind];
  const model = loadModel(join(fixtures, 'tiny-gpt2'), be);
  let params: [string, Tensor][];
  if (kind === 'lora') {
    const { adapters } = loadAdapter(join(fixtures, 'tiny-gpt2-lora'), model, new Rng(1), () => {});
    params = adapterParameters(adapters);
    setLoraTraining(adapters, true);   // lora_dropout is 0: no effect, as in a real fine-tune
  } else {
    params = model.namedParameters();
    for (const [, p] of params) p.requiresGrad = true;
  }
  const h = c.hparams;
  const dir = mkdtempSync(join(tmpdir(), 'fmn-golden-'));
  try {
    const trainer = new Trainer(params, new FixtureBatches(), {
      steps: ref.steps, maxLr: h.maxLr, minLr: h.minLr, warmup: ref.warmup, clip: h.clip, gradAccum: ref.grad_accum,
      adamw: { beta1: h.beta1, beta2: h.beta2, eps: h.eps, weightDecay: h.weightDecay },
      logEvery: 1, evalEvery: 0, checkpointEvery: 0,
    }, {
      loss: (b) => ({ loss: crossEntropy(model.forward(b.ids, b.B, b.T), b.targets), tokens: b.ids.length }),
    }, dir, `golden-${kind}`);
    await trainer.run();
    const logged = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    return { logged, params };
  } finally { rmSync(dir, { recursive: true }); }
}

const backends: [string, () => Backend | null][] = [
  ['js', () => createJsBackend()],
  ['native', () => { try { return loadNativeBackend(); } catch { return null; } }],
];

describe.each(backends)('golden 10-step trajectory vs PyTorch (%s backend)', (bname, make) => {
  const be = make();
  it.each(['full', 'lora'] as const)('%s: per-step loss, grad norm, lr and the final weights', async (kind) => {
    if (be === null) return;   // the native addon is not built here: the js run covers the logic
    const c = ref.cases[kind];
    expect(c.clipped_steps, 'the fixture clips on some steps, not all').toBeGreaterThan(0);
    expect(c.clipped_steps).toBeLessThan(ref.steps);
    const { logged, params } = await runCase(be, kind);
    expect(logged.map((r) => r.step)).toEqual(c.steps.map((s) => s.step));
    expect(params.map(([n]) => n).sort(), 'the trainable set is exactly the reference\'s').toEqual(Object.keys(c.tensors).sort());

    // every error first (for the report), then the bounds
    const fails: string[] = [];
    const worst = { loss: 0, gradNorm: 0, lr: 0, weights: 0 };
    /** error / bound, worst over the run: how close it came */
    const used = { loss: 0, gradNorm: 0, lr: 0, weights: 0 };
    const check = (what: keyof typeof worst, e: number, tol: number, msg: string): void => {
      worst[what] = Math.max(worst[what], e);
      used[what] = Math.max(used[what], e / tol);
      if (!(e <= tol)) fails.push(`${msg}: relative error ${e.toExponential(2)} > ${tol.toExponential(2)}`);
    };
    c.steps.forEach((want, i) => {
      const got = logged[i], tol = stepTol(want);
      expect(tol.loss, `step ${want.step} loss bound`).toBeLessThanOrEqual(CEILING.loss);
      expect(tol.gradNorm, `step ${want.step} grad norm bound`).toBeLessThanOrEqual(CEILING.gradNorm);
      check('lr', rel(got.lr, want.lr), LR_TOL, `step ${want.step} lr ${got.lr} vs ${want.lr}`);
      check('loss', rel(got.loss, want.loss), tol.loss, `step ${want.step} loss ${got.loss} vs ${want.loss}`);
      check('gradNorm', rel(got.grad_norm, want.grad_norm), tol.gradNorm, `step ${want.step} grad norm ${got.grad_norm} vs ${want.grad_norm}`);
    });
    const wTol = weightTol(c);
    expect(wTol, 'weight bound').toBeLessThanOrEqual(CEILING.weights);
    const all: Checksum = { sum: 0, abs_sum: 0, sq_sum: 0 };
    for (const [name, p] of params) {
      const got = checksum(p.data, ref.checksum_excludes[name]), want = c.tensors[name];
      all.sum += got.sum; all.abs_sum += got.abs_sum; all.sq_sum += got.sq_sum;
      check('weights', rel(got.sq_sum, want.sq_sum), wTol, `${name} Σw² ${got.sq_sum} vs ${want.sq_sum}`);
      check('weights', Math.abs(got.sum - want.sum) / want.abs_sum, wTol, `${name} Σw ${got.sum} vs ${want.sum}`);
    }
    check('weights', rel(all.sq_sum, c.checksum.sq_sum), wTol, `total Σw² ${all.sq_sum} vs ${c.checksum.sq_sum}`);
    check('weights', Math.abs(all.sum - c.checksum.sum) / c.checksum.abs_sum, wTol, `total Σw ${all.sum} vs ${c.checksum.sum}`);
    if (process.env.FMN_GOLDEN_REPORT) {
      process.stdout.write(`golden ${bname} ${kind}: worst relative error ${Object.entries(worst).map(([k, v]) => `${k} ${v.toExponential(2)} (${(100 * used[k as keyof typeof used]).toFixed(0)}% of its bound)`).join('  ')}\n`);
    }
    expect(fails, `${bname} ${kind}`).toEqual([]);
  });
});
