import type { RunContext } from '../backend/context.ts';
import { CheckpointError, ConfigError } from '../errors.ts';
import { loadForInference } from '../lora/load.ts';
import { baseParameters, loadModel } from '../model/checkpoint.ts';
import type { GPT } from '../model/gpt.ts';
import type { Tokenizer } from '../tokenizer/bpe.ts';
import { blockOf, groupOf, type Group } from './groups.ts';

/** One parameter's update: Δ = θ_tuned − θ₀, in the engine's layout (matrices (in, out)). */
export interface ParamDelta {
  name: string;
  shape: number[];
  base: Float32Array;
  delta: Float32Array;
  /** θ₀ + Δ exactly as the tuned model holds it (float32 θ₀ + Δ can differ in the last bit). */
  tuned: Float32Array;
  group: Group;
  block: string | null;
}

/** An update θ₀ → θ₀ + Δθ, and a model holding θ₀ to score variants on. */
export interface Update {
  /** The base model; `setWeights` changes its parameters in place. */
  model: GPT;
  tok: Tokenizer;
  params: ParamDelta[];
  /** `adapter`: ΔW = (α/r)·(B A)ᵀ on the wrapped matrices, 0 elsewhere; `model`: the difference of two model directories. */
  kind: 'adapter' | 'model';
}

/**
 * Loads an update: the base model and either a tuned model directory (full fine-tuning) or a
 * PEFT adapter run (LoRA, its merged ΔW). The two models must share their architecture.
 */
export function loadUpdate(baseDir: string, o: { tuned?: string; adapter?: string }, ctx: RunContext): Update {
  if ((o.tuned === undefined) === (o.adapter === undefined)) throw new ConfigError('give --tuned MODEL (full fine-tuning) or --adapter RUN (LoRA), one of them', { field: '--tuned' });
  const quiet = { ...ctx, log: () => {} };
  const { model, tok } = loadForInference(baseDir, undefined, quiet);
  const base = new Map(baseParameters(model).map(([n, t]) => [n, t]));
  const deltas = new Map<string, Float32Array>();
  const tunedData = new Map<string, Float32Array>();
  if (o.adapter !== undefined) {
    const a = loadForInference(baseDir, o.adapter, quiet);
    for (const [path, lora] of a.adapters!) deltas.set(`${path}.weight`, lora.deltaWeight());
  } else {
    const tuned = loadModel(o.tuned!, ctx.backend);
    const t = new Map(baseParameters(tuned).map(([n, p]) => [n, p]));
    for (const [n, p] of base) {
      const q = t.get(n);
      if (q === undefined || q.shape.join() !== p.shape.join()) throw new CheckpointError(`the tuned model does not match the base (${n})`, { file: o.tuned, field: n });
      const d = new Float32Array(p.size);
      for (let i = 0; i < d.length; i++) d[i] = q.data[i] - p.data[i];
      deltas.set(n, d);
      tunedData.set(n, q.data as Float32Array);
    }
  }
  const params: ParamDelta[] = [...base].map(([name, t]) => {
    const b = (t.data as Float32Array).slice(), delta = deltas.get(name) ?? new Float32Array(t.size);
    // an adapter's tuned weights are the merged ones: θ₀ + ΔW, as fmn merge writes them
    return { name, shape: t.shape.slice(), base: b, delta, tuned: tunedData.get(name) ?? b.map((x, i) => x + delta[i]), group: groupOf(name), block: blockOf(name) };
  });
  return { model, tok, params, kind: o.adapter !== undefined ? 'adapter' : 'model' };
}

/**
 * Sets the model's weights to θ₀ + (what `f` gives for each parameter's Δ): a number scales Δ
 * (0 = the base and 1 = the tuned weights, both exactly), an array replaces Δ (a truncated update).
 */
export function setWeights(u: Update, f: (p: ParamDelta) => number | Float32Array): void {
  const live = new Map(baseParameters(u.model).map(([n, t]) => [n, t.data as Float32Array]));
  for (const p of u.params) {
    const w = live.get(p.name)!;
    const c = f(p);
    if (c === 0) w.set(p.base);
    else if (c === 1) w.set(p.tuned);
    else if (typeof c === 'number') for (let i = 0; i < w.length; i++) w[i] = p.base[i] + c * p.delta[i];
    else for (let i = 0; i < w.length; i++) w[i] = p.base[i] + c[i];
  }
}

/** ‖x‖₂ of a parameter's update (Frobenius for matrices). */
export const norm = (x: Float32Array): number => { let s = 0; for (const v of x) s += v * v; return Math.sqrt(s); };
