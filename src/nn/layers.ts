import type { Backend } from '../backend/backend.ts';
import { embedding as embeddingOp } from '../tensor/ops/embedding.ts';
import { linear } from '../tensor/ops/matmul.ts';
import { layerNorm, rmsNorm } from '../tensor/ops/norm.ts';
import { parameter, type Tensor } from '../tensor/tensor.ts';
import { Module } from './module.ts';

/** Anything with `forward(x)`: a Linear, or a LoRA wrapper around one. */
export interface LinearLike extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  forward(x: Tensor): Tensor;
}

/**
 * y = x W + b with W stored (in, out) — GPT-2's Conv1D layout, and the layout of every Linear
 * here (Llama's (out, in) checkpoints are transposed on load and save).
 */
export class Linear extends Module implements LinearLike {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(be: Backend, readonly inFeatures: number, readonly outFeatures: number, bias: boolean) {
    super();
    this.weight = this.param('weight', parameter(be, new Float32Array(inFeatures * outFeatures), [inFeatures, outFeatures]));
    this.bias = bias ? this.param('bias', parameter(be, new Float32Array(outFeatures), [outFeatures])) : null;
  }
  forward(x: Tensor): Tensor { return linear(x, this.weight, this.bias); }   // (..., out)
}

export class Embedding extends Module {
  readonly weight: Tensor;
  constructor(be: Backend, readonly num: number, readonly dim: number) {
    super();
    this.weight = this.param('weight', parameter(be, new Float32Array(num * dim), [num, dim]));
  }
  /** ids (B·T) → (B, T, dim). */
  forward(ids: Int32Array, shape: number[]): Tensor { return embeddingOp(this.weight, ids, shape); }
}

export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(be: Backend, dim: number, readonly eps: number) {
    super();
    this.weight = this.param('weight', parameter(be, new Float32Array(dim).fill(1), [dim]));
    this.bias = this.param('bias', parameter(be, new Float32Array(dim), [dim]));
  }
  forward(x: Tensor): Tensor { return layerNorm(x, this.weight, this.bias, this.eps); }
}

export class RMSNorm extends Module {
  readonly weight: Tensor;
  constructor(be: Backend, dim: number, readonly eps: number) {
    super();
    this.weight = this.param('weight', parameter(be, new Float32Array(dim).fill(1), [dim]));
  }
  forward(x: Tensor): Tensor { return rmsNorm(x, this.weight, this.eps); }
}
