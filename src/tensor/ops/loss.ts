import { assertShape, empty, poolOf, record, type Tensor } from '../tensor.ts';

/** Targets equal to this are not scored (PyTorch's default ignore_index). */
export const IGNORE_INDEX = -100;

/**
 * Fused softmax cross-entropy, mean over the scored rows (targets ≠ ignoreIndex):
 * logits (N, V), targets (N) → loss [1]. `perToken`, when given (N), receives each row's
 * loss (0 for ignored rows). A batch with no scored row has loss 0.
 */
export function crossEntropy(logits: Tensor, targets: Int32Array, opts: { ignoreIndex?: number; perToken?: Float32Array | Float64Array } = {}): Tensor {
  const ignore = opts.ignoreIndex ?? IGNORE_INDEX;
  const V = logits.shape[logits.ndim - 1], N = logits.size / V;
  assertShape(targets.length === N, () => `crossEntropy: ${targets.length} targets for logits [${logits.shape}]`);
  const be = logits.backend, pool = poolOf(be), f64 = logits.dtype === 'f64';
  const losses = pool.take(N, f64);        // (N)
  const probs = pool.take(N * V, f64);     // (N, V)
  for (let i = 0; i < N; i++) {
    const t = targets[i];
    assertShape(t === ignore || (t >= 0 && t < V), () => `crossEntropy: target ${t} out of range [0, ${V})`);
  }
  be.crossEntropyForward(losses, probs, logits.data, targets, N, V, ignore);
  let count = 0, total = 0;
  for (let i = 0; i < N; i++) if (targets[i] !== ignore) { count++; total += losses[i]; }
  if (opts.perToken) opts.perToken.set(losses.subarray(0, N));
  const out = empty(be, [1], logits.dtype);
  out.data[0] = count > 0 ? total / count : 0;
  const r = record(out, [logits], () => {
    const dl = pool.take(N, f64);
    dl.fill(count > 0 ? out.grad![0] / count : 0);
    // the first gradient of the logits is written over the probabilities, which become it (no
    // zeroed N·V buffer, one pass in place); a later one is added
    if (logits.adoptGrad(probs)) be.crossEntropyBackward(probs, probs, targets, dl, N, V, ignore, false);
    else { be.crossEntropyBackward(logits.ensureGrad(), probs, targets, dl, N, V, ignore, true); pool.give(probs); }
    pool.give(dl); pool.give(losses);
  });
  if (r.backwardFn === null) { pool.give(probs); pool.give(losses); }
  return r;
}
