import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackendError } from '../../errors.ts';
import type { Backend, Buf } from '../backend.ts';
import { createJsBackend } from '../js/index.ts';

/** The addon's exports (native/binding.cc): Backend methods on Float32Array only, plus extras. */
export interface NativeAddon extends Omit<Backend, 'name' | 'threads' | 'setThreads'> {
  setThreads(n: number): number;
  getThreads(): number;
  simdLevel(): string;
  /** Runs `jobs` pool jobs of varying task counts; returns how many tasks did not run exactly once. */
  poolSelfTest(jobs: number): number;
  /** Single-core FP32 FMA rate (GFLOP/s), measured for about `seconds`. */
  peakGflops(seconds: number): number;
  /** Bench only: dlopen an OpenBLAS shared library; false when it cannot be opened. */
  openblasLoad(path: string): boolean;
  /** Bench only: cblas_sgemm with the same arguments as matmul, plus its thread count. */
  openblasSgemm(C: Float32Array, A: Float32Array, B: Float32Array, M: number, N: number, K: number,
    transA: boolean, transB: boolean, accumulate: boolean, threads: number): boolean;
}

// src/backend/native/ → package root
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The addon's path; FMN_NATIVE_ADDON overrides it (e.g. to simulate a missing addon). */
export const addonPath = process.env.FMN_NATIVE_ADDON || join(root, 'build', 'Release', 'fmn_native.node');

let cached: NativeAddon | undefined;

/** The raw addon (the bench uses its extras). Throws BackendError when it is not built. */
export function loadNativeAddon(): NativeAddon {
  if (cached) return cached;
  if (!existsSync(addonPath)) {
    throw new BackendError(`native addon not built (${addonPath} missing); run npm run build:native`);
  }
  try {
    cached = createRequire(import.meta.url)(addonPath) as NativeAddon;
  } catch (cause) {
    throw new BackendError(`native addon at ${addonPath} failed to load`, {}, { cause });
  }
  // default thread count: FMN_THREADS, else every core (idle workers sleep, never spin)
  const fromEnv = Number(process.env.FMN_THREADS);
  cached.setThreads(Number.isInteger(fromEnv) && fromEnv >= 1 ? fromEnv : availableParallelism());
  return cached;
}

const f32 = (b: Buf): b is Float32Array => b instanceof Float32Array;

/**
 * Loads the N-API addon (build/Release/fmn_native.node). Throws BackendError when absent.
 * Float32Array calls go to the addon; a call with any Float64Array buffer (the float64
 * gradient checks) goes to the js reference.
 */
export function loadNativeBackend(): Backend {
  const addon = loadNativeAddon();
  const js = createJsBackend();
  const name = `native-${addon.simdLevel()}`;
  return {
    name,
    get threads() { return addon.getThreads(); },
    setThreads(n: number) { addon.setThreads(Math.max(1, Math.floor(n))); },

    matmul(C, A, B, M, N, K, transA, transB, accumulate) {
      if (f32(C) && f32(A) && f32(B)) addon.matmul(C, A, B, M, N, K, transA, transB, accumulate);
      else js.matmul(C, A, B, M, N, K, transA, transB, accumulate);
    },

    layernormForward(out, mean, rstd, inp, weight, bias, N, C, eps) {
      if (f32(out) && f32(mean) && f32(rstd) && f32(inp) && f32(weight) && f32(bias)) {
        addon.layernormForward(out, mean, rstd, inp, weight, bias, N, C, eps);
      } else js.layernormForward(out, mean, rstd, inp, weight, bias, N, C, eps);
    },
    layernormBackward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C) {
      if ([dinp, dweight, dbias, dout, inp, weight, mean, rstd].every(f32)) {
        addon.layernormBackward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C);
      } else js.layernormBackward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C);
    },
    rmsnormForward(out, rstd, inp, weight, N, C, eps) {
      if ([out, rstd, inp, weight].every(f32)) addon.rmsnormForward(out, rstd, inp, weight, N, C, eps);
      else js.rmsnormForward(out, rstd, inp, weight, N, C, eps);
    },
    rmsnormBackward(dinp, dweight, dout, inp, weight, rstd, N, C) {
      if ([dinp, dweight, dout, inp, weight, rstd].every(f32)) {
        addon.rmsnormBackward(dinp, dweight, dout, inp, weight, rstd, N, C);
      } else js.rmsnormBackward(dinp, dweight, dout, inp, weight, rstd, N, C);
    },

    geluForward(out, inp, n) {
      if (f32(out) && f32(inp)) addon.geluForward(out, inp, n); else js.geluForward(out, inp, n);
    },
    geluBackward(dinp, inp, dout, n) {
      if ([dinp, inp, dout].every(f32)) addon.geluBackward(dinp, inp, dout, n); else js.geluBackward(dinp, inp, dout, n);
    },
    siluForward(out, inp, n) {
      if (f32(out) && f32(inp)) addon.siluForward(out, inp, n); else js.siluForward(out, inp, n);
    },
    siluBackward(dinp, inp, dout, n) {
      if ([dinp, inp, dout].every(f32)) addon.siluBackward(dinp, inp, dout, n); else js.siluBackward(dinp, inp, dout, n);
    },
    softmaxForward(out, inp, N, C) {
      if (f32(out) && f32(inp)) addon.softmaxForward(out, inp, N, C); else js.softmaxForward(out, inp, N, C);
    },
    softmaxBackward(dinp, out, dout, N, C) {
      if ([dinp, out, dout].every(f32)) addon.softmaxBackward(dinp, out, dout, N, C);
      else js.softmaxBackward(dinp, out, dout, N, C);
    },

    attentionForward(out, att, q, k, v, B, T, nh, nkv, hs, qStride, kvStride) {
      if ([out, att, q, k, v].every(f32)) addon.attentionForward(out, att, q, k, v, B, T, nh, nkv, hs, qStride, kvStride);
      else js.attentionForward(out, att, q, k, v, B, T, nh, nkv, hs, qStride, kvStride);
    },
    attentionBackward(dq, dk, dv, dout, att, q, k, v, B, T, nh, nkv, hs, qStride, kvStride) {
      if ([dq, dk, dv, dout, att, q, k, v].every(f32)) {
        addon.attentionBackward(dq, dk, dv, dout, att, q, k, v, B, T, nh, nkv, hs, qStride, kvStride);
      } else js.attentionBackward(dq, dk, dv, dout, att, q, k, v, B, T, nh, nkv, hs, qStride, kvStride);
    },

    crossEntropyForward(losses, probs, logits, targets, N, V, ignoreIndex) {
      if ([losses, probs, logits].every(f32)) addon.crossEntropyForward(losses, probs, logits, targets, N, V, ignoreIndex);
      else js.crossEntropyForward(losses, probs, logits, targets, N, V, ignoreIndex);
    },
    crossEntropyBackward(dlogits, probs, targets, dlosses, N, V, ignoreIndex) {
      if ([dlogits, probs, dlosses].every(f32)) addon.crossEntropyBackward(dlogits, probs, targets, dlosses, N, V, ignoreIndex);
      else js.crossEntropyBackward(dlogits, probs, targets, dlosses, N, V, ignoreIndex);
    },

    adamwUpdate(param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, t) {
      if ([param, grad, m, v].every(f32)) addon.adamwUpdate(param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, t);
      else js.adamwUpdate(param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, t);
    },
  };
}
