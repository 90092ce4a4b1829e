/**
 * The kernel interface. Every backend implements it; `js` is the readable reference (the spec
 * and the test oracle), `native` the fast path. One conformance suite (test/backend.suite.ts)
 * runs against every backend.
 *
 * Conventions (llm.c): outputs first, then cached activations, then inputs, then sizes.
 * Backward kernels ACCUMULATE (`+=`) into their gradient outputs. All arrays are dense,
 * row-major, and may be `subarray` views. The js backend also accepts Float64Array (used by
 * the float64 finite-difference gradient checks); native accepts Float32Array only and hands
 * anything else to js.
 */
export type Buf = Float32Array | Float64Array;

/** Operand precision of `matmul`: fp32, or bf16 operands with fp32 accumulation (mixed precision). */
export type Precision = 'fp32' | 'bf16';
export const PRECISIONS: readonly Precision[] = ['fp32', 'bf16'];

/** The matmul precision in effect: what was asked, which kernel path runs it, and a log line. */
export interface MatmulMode {
  precision: Precision;
  /** `fp32` (also when bf16 was asked on a CPU without a bf16 path), `amx`, `avx512bf16`, or `js-bf16` (the js emulation). */
  kernel: 'fp32' | 'amx' | 'avx512bf16' | 'js-bf16';
  /** For the run log, e.g. `precision bf16 (AMX tiles)`. */
  label: string;
}

export interface Backend {
  /** `js` or `native` (with the SIMD level, e.g. `native-avx512`). Saved with every run. */
  readonly name: string;
  /** Worker threads used by the kernels (1 for js). */
  readonly threads: number;
  setThreads(n: number): void;
  /** The matmul precision in effect (fp32 until set). */
  readonly matmulMode: MatmulMode;
  /**
   * Sets the precision of `matmul` on Float32Array operands: `bf16` rounds A and B to bf16
   * (nearest even, denormals to zero) and accumulates in fp32; C, and every other kernel, stay
   * fp32. Returns the mode now in effect; on a CPU without a bf16 path it says so and keeps fp32.
   */
  setMatmulPrecision(p: Precision): MatmulMode;

  /**
   * C (M,N) = op(A) · op(B)  (or C += … when `accumulate`).
   * op(A) is (M,K): A is stored (M,K), or (K,M) when `transA`.
   * op(B) is (K,N): B is stored (K,N), or (N,K) when `transB`.
   * Training uses three orientations with weights stored (in, out): forward `nn`
   * (y = x W), dX `nt` (dx = dy Wᵀ), dW `tn` (dW = xᵀ dy).
   * With `bias` (N; `accumulate` false): C = bias in every row + op(A) · op(B), the bits of
   * filling C's rows with the bias and accumulating (a linear layer's forward in one pass).
   * With `colSumsB` (N): also colSumsB[j] += Σ_k op(B)[k][j], the bits of
   * `addColumnSums(colSumsB, B, K, N)` (for op(B) = B) — a linear layer's bias gradient from the
   * dy its weight gradient reads, summed while the product packs it.
   */
  matmul(C: Buf, A: Buf, B: Buf, M: number, N: number, K: number,
    transA: boolean, transB: boolean, accumulate: boolean, bias?: Buf, colSumsB?: Buf): void;
  /**
   * matmul followed by a second product into the same C: C = [bias | C | 0] + op(A)·op(B) +
   * op(A2)·op(B2), with op(A2) (M,K2) and op(B2) (K2,N) — the bits of `matmul(C, A, B, …)` then
   * `matmul(C, A2, B2, M, N, K2, transA2, transB2, true)` (every element's chain goes on over the
   * K2 terms). LoRA's low-rank term rides the base layer's product: y = x W + b + u Bᵀ and
   * dx (+)= dy Wᵀ + du A, with no separate pass over y or dx.
   */
  matmulPlus(C: Buf, A: Buf, B: Buf, M: number, N: number, K: number,
    transA: boolean, transB: boolean, accumulate: boolean, bias: Buf | undefined,
    A2: Buf, B2: Buf, K2: number, transA2: boolean, transB2: boolean): void;

  /**
   * Declares matrices that stay unchanged until the returned release is called (a LoRA run's
   * frozen base weights). Where a bf16 `matmul` or `matmulPlus` takes one of them (the same
   * buffer) as B, the backend converts and packs it once for each orientation it is used in and
   * reuses that, instead of on every call: the same values in the same places, so the same bits,
   * for 2 bytes an element per orientation, freed by the release (native: while all packs stay
   * within an eighth of the machine's memory and 2 GiB stays available; past that, products pack
   * as before). Writing to one before the release gives stale products: the caller promises they
   * stay fixed. fp32 and js ignore it.
   */
  freezeOperands(bufs: readonly Buf[]): () => void;

  /** out, mean, rstd: (N,C), (N), (N); y = (x − mean) · rstd · w + b, biased variance. */
  layernormForward(out: Buf, mean: Buf, rstd: Buf, inp: Buf, weight: Buf, bias: Buf,
    N: number, C: number, eps: number): void;
  /** Accumulates into dinp (N,C), dweight (C), dbias (C). */
  layernormBackward(dinp: Buf, dweight: Buf, dbias: Buf, dout: Buf, inp: Buf, weight: Buf,
    mean: Buf, rstd: Buf, N: number, C: number): void;

  /** out, rstd: (N,C), (N); y = x · rstd · w with rstd = 1/sqrt(mean(x²) + eps). */
  rmsnormForward(out: Buf, rstd: Buf, inp: Buf, weight: Buf, N: number, C: number, eps: number): void;
  /** Accumulates into dinp (N,C), dweight (C). */
  rmsnormBackward(dinp: Buf, dweight: Buf, dout: Buf, inp: Buf, weight: Buf, rstd: Buf,
    N: number, C: number): void;

  /** GELU, tanh form (GPT-2): 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))). */
  geluForward(out: Buf, inp: Buf, n: number): void;
  /** dinp (+)= dout · gelu'(inp): added into dinp when `accumulate`, else written (dinp's old values unread). */
  geluBackward(dinp: Buf, inp: Buf, dout: Buf, n: number, accumulate: boolean): void;

  /** SiLU: x · σ(x). */
  siluForward(out: Buf, inp: Buf, n: number): void;
  /** dinp (+)= dout · silu'(inp), as geluBackward. */
  siluBackward(dinp: Buf, inp: Buf, dout: Buf, n: number, accumulate: boolean): void;

  /** Row softmax over the last dim: out, inp (N,C). */
  softmaxForward(out: Buf, inp: Buf, N: number, C: number): void;
  /** dinp += y ⊙ (g − Σ g·y), row-wise. */
  softmaxBackward(dinp: Buf, out: Buf, dout: Buf, N: number, C: number): void;

  /** out = a + b over n elements (out may alias a or b). */
  addBuffers(out: Buf, a: Buf, b: Buf, n: number): void;
  /**
   * out (C) += Σ_i inp[i, :] for inp (N, C) — a linear layer's bias gradient. Each column is
   * summed in row order starting from out's value: the same bits on every backend and thread count.
   */
  addColumnSums(out: Buf, inp: Buf, N: number, C: number): void;

  /** out (N, C) = weight[ids], weight (V, C); an id outside [0, V) is a RangeError before anything is written. */
  embeddingForward(out: Buf, weight: Buf, ids: Int32Array, N: number, C: number, V: number): void;
  /**
   * dweight (V, C)[ids[i], :] += dout[i, :] for i = 0 … N−1: each element one chain of adds in
   * i order, the same bits on every backend and thread count; ids checked as in the forward.
   */
  embeddingBackward(dweight: Buf, dout: Buf, ids: Int32Array, N: number, C: number, V: number): void;

  /**
   * Fused causal self-attention with grouped-query heads.
   * q[b,t,h,d] = q[(b·T + t)·qStride + h·hs + d]; k, v likewise with kvStride and kv head
   * g = floor(h / (nh / nkv)). out (B,T,nh·hs) contiguous; att (B,nh,T,T) the softmax
   * probabilities (entries above the diagonal are 0). Scale 1/√hs.
   */
  attentionForward(out: Buf, att: Buf, q: Buf, k: Buf, v: Buf,
    B: number, T: number, nh: number, nkv: number, hs: number, qStride: number, kvStride: number): void;
  /**
   * dq, dk, dv (same layouts and strides as q, k, v) (+)= the gradients: added into them when
   * `accumulate`, else written — every head's slice of them (old values unread; elements between
   * the slices, such as the other parts of a packed qkv row, untouched).
   */
  attentionBackward(dq: Buf, dk: Buf, dv: Buf, dout: Buf, att: Buf, q: Buf, k: Buf, v: Buf,
    B: number, T: number, nh: number, nkv: number, hs: number, qStride: number, kvStride: number, accumulate: boolean): void;

  /**
   * Fused softmax cross-entropy. logits (N,V), targets (N); rows whose target equals
   * `ignoreIndex` get loss 0. losses (N) = −log softmax(logits)[target]; probs (N,V) saved.
   */
  crossEntropyForward(losses: Buf, probs: Buf, logits: Buf, targets: Int32Array,
    N: number, V: number, ignoreIndex: number): void;
  /**
   * dlogits[i,:] += dlosses[i] · (probs[i,:] − onehot(target[i])), ignored rows untouched; or,
   * with accumulate false, written (the bits of adding into zeros; ignored rows zero), and then
   * dlogits may be probs itself.
   */
  crossEntropyBackward(dlogits: Buf, probs: Buf, targets: Int32Array, dlosses: Buf,
    N: number, V: number, ignoreIndex: number, accumulate: boolean): void;

  /**
   * One AdamW step (PyTorch's torch.optim.AdamW), in place, on every tensor in one call (a fused
   * optimizer: one native crossing and one parallel job for all of them). Entry i is params[i],
   * grads[i], m[i], v[i] (equal lengths) with its weightDecay[i]; per element:
   * p −= lr·wd·p;  m = β1 m + (1−β1) g;  v = β2 v + (1−β2) g²;
   * p −= lr · (m / (1−β1ᵗ)) / (sqrt(v / (1−β2ᵗ)) + eps).   t is 1-based.
   * gradScale ≠ 1 first scales each gradient in place, as scaleInPlace (gradient clipping).
   * Each element's bits do not depend on how the tensors are grouped or split between threads.
   */
  adamwStep(params: Buf[], grads: Buf[], m: Buf[], v: Buf[], weightDecay: number[], lr: number, beta1: number,
    beta2: number, eps: number, t: number, gradScale: number): void;

  /**
   * start + Σ g[i]² over n elements, in double, one add per element in index order (so the
   * same bits on every backend: each square of a float is exact in double) — gradient clipping's norm.
   */
  sumSquares(g: Buf, n: number, start: number): number;
  /** g[i] = g[i] · s (s in double, the product rounded to g's type). */
  scaleInPlace(g: Buf, n: number, s: number): void;
}
