import type { Rng } from '../util/rng.ts';
import type { Linear, LinearLike } from '../nn/layers.ts';
import { Module } from '../nn/module.ts';
import { fillNormal, fillUniform } from '../nn/init.ts';
import { dropout } from '../tensor/ops/dropout.ts';
import { linearLowRank } from '../tensor/ops/lowrank.ts';
import { parameter, type Tensor } from '../tensor/tensor.ts';

/**
 * y = x W + b + s · dropout(x) Aᵀ Bᵀ,  s = α/r (or α/√r with rsLoRA).
 * A (r, in) and B (out, r) are stored as PEFT stores them; B starts at 0 so a fresh adapter
 * is an exact no-op. The base Linear is wrapped, not copied, and frozen.
 */
export class LoraLinear extends Module implements LinearLike {
  readonly base: Linear;
  readonly loraA: Tensor;
  readonly loraB: Tensor;
  readonly rank: number;
  readonly scaling: number;
  readonly dropoutP: number;
  /** Training mode (dropout active) — set by the fine-tune recipe. */
  training = false;
  #disabled = false;
  #merged = false;
  #rng: Rng | null;

  /** `rng` draws the A initialization; `dropoutRng` (default: rng) the dropout masks while training. */
  constructor(base: Linear, o: { rank: number; scaling: number; dropout: number; init: 'kaiming' | 'gaussian'; rng: Rng; dropoutRng?: Rng }) {
    super();
    this.base = this.child('base_layer', base);
    const { inFeatures: inF, outFeatures: outF } = base;
    const be = base.weight.backend;
    this.rank = o.rank;
    this.scaling = o.scaling;
    this.dropoutP = o.dropout;
    this.#rng = o.dropoutRng ?? o.rng;
    const a = new Float32Array(o.rank * inF);
    // PEFT: kaiming_uniform_(a=√5) ⇒ U(−1/√in, 1/√in); gaussian: N(0, 1/r)
    if (o.init === 'kaiming') fillUniform(a, 1 / Math.sqrt(inF), o.rng); else fillNormal(a, 1 / o.rank, o.rng);
    this.loraA = this.param('lora_A.weight', parameter(be, a, [o.rank, inF]));
    this.loraB = this.param('lora_B.weight', parameter(be, new Float32Array(outF * o.rank), [outF, o.rank]));
    base.weight.requiresGrad = false;
    if (base.bias) base.bias.requiresGrad = false;
  }

  get inFeatures(): number { return this.base.inFeatures; }
  get outFeatures(): number { return this.base.outFeatures; }
  get merged(): boolean { return this.#merged; }

  /** Adapter switched off: forward is the base layer alone. Disabling a merged adapter unmerges it first (as PEFT does). */
  get disabled(): boolean { return this.#disabled; }
  set disabled(v: boolean) {
    if (v && this.#merged) this.unmerge();
    this.#disabled = v;
  }

  forward(x: Tensor): Tensor {
    if (this.#disabled || this.#merged) return this.base.forward(x);      // (..., out)
    const xd = this.training && this.dropoutP > 0 ? dropout(x, this.dropoutP, this.#rng!) : x;
    const { weight, bias } = this.base;
    return linearLowRank(x, weight, bias, this.loraA, this.loraB, this.scaling, xd);   // (..., out)
  }

  /** ΔW = s · (B A)ᵀ in the base's (in, out) layout: the one source for merge and unmerge. */
  deltaWeight(): Float32Array {
    const inF = this.inFeatures, outF = this.outFeatures, r = this.rank;
    const A = this.loraA.data, B = this.loraB.data;
    const d = new Float32Array(inF * outF);
    for (let i = 0; i < inF; i++) {
      for (let o = 0; o < outF; o++) {
        let s = 0;
        for (let k = 0; k < r; k++) s += B[o * r + k] * A[k * inF + i];
        d[i * outF + o] = this.scaling * s;
      }
    }
    return d;
  }

  /** W += ΔW; forward then skips the adapter path. A disabled adapter is not merged (it contributes nothing). */
  merge(): void {
    if (this.#merged) return;
    if (this.#disabled) throw new Error('merge: the adapter is disabled; enable it first');
    const d = this.deltaWeight(), w = this.base.weight.data;
    for (let i = 0; i < d.length; i++) w[i] += d[i];
    this.#merged = true;
  }

  /** W −= ΔW. */
  unmerge(): void {
    if (!this.#merged) return;
    const d = this.deltaWeight(), w = this.base.weight.data;
    for (let i = 0; i < d.length; i++) w[i] -= d[i];
    this.#merged = false;
  }
}
