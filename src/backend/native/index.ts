import { existsSync } from 'node:fs';
import { availableParallelism, freemem, totalmem } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackendError } from '../../errors.ts';
import type { Backend, Buf, MatmulMode, Precision } from '../backend.ts';
import { createJsBackend } from '../js/index.ts';

/** The addon's exports (native/binding.cc): Backend methods on Float32Array only, plus extras. */
export interface NativeAddon extends Omit<Backend, 'name' | 'threads' | 'setThreads' | 'matmulMode' | 'setMatmulPrecision' | 'freezeOperands'> {
  setThreads(n: number): number;
  /**
   * matmul's precision, process-wide; `force` picks a bf16 path (tests; RangeError when this CPU
   * cannot run it). Returns the path now used: fp32, amx or avx512bf16.
   */
  setMatmulPrecision(p: Precision, force?: 'amx' | 'avx512bf16'): 'fp32' | 'amx' | 'avx512bf16';
  /** The bf16 path this CPU offers (FMN_BF16=amx|avx512bf16|off narrows it) and why; which paths can run. */
  bf16Info(): { path: 'amx' | 'avx512bf16' | 'none'; note: string; amx: boolean; avx512bf16: boolean };
  getThreads(): number;
  simdLevel(): string;
  /** Runs `jobs` pool jobs of varying task counts; returns how many tasks did not run exactly once. */
  poolSelfTest(jobs: number, maxTasks?: number): number;
  /** Single-core FP32 FMA rate (GFLOP/s), measured for about `seconds`. */
  peakGflops(seconds: number): number;
  /** The fp32 AVX-512 GEMM's cache blocks and the cache sizes they came from (bench). */
  gemmInfo(): { kc: number; mc: number; nc: number; l1d: number; l2: number };
  /** Backend.matmul, and with `packed` (from packMatmulB for this B, orientation and shape, on the path in use) B is not packed again. */
  matmul(C: Buf, A: Buf, B: Buf, M: number, N: number, K: number, transA: boolean, transB: boolean, accumulate: boolean, bias?: Buf, colSumsB?: Buf, packed?: ArrayBuffer): void;
  /** Backend.matmulPlus, with matmul's `packed`. */
  matmulPlus(C: Buf, A: Buf, B: Buf, M: number, N: number, K: number, transA: boolean, transB: boolean, accumulate: boolean, bias: Buf | undefined,
    A2: Buf, B2: Buf, K2: number, transA2: boolean, transB2: boolean, packed?: ArrayBuffer): void;
  /** op(B) (K, N) converted and packed once for the bf16 path in use, for matmul's and matmulPlus's `packed`; null on fp32. */
  packMatmulB(B: Float32Array, K: number, N: number, transB: boolean): ArrayBuffer | null;
  /** Bench only: dlopen an OpenBLAS shared library; false when it cannot be opened. */
  openblasLoad(path: string): boolean;
  /** The kernel set the loaded OpenBLAS picked ("Haswell", "SkylakeX", …), null if unknown. */
  openblasCorename(): string | null;
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
  // default thread count: FMN_THREADS, else every core (idle workers poll ~50 µs after a job, yielding the core, then sleep)
  const fromEnv = Number(process.env.FMN_THREADS);
  cached.setThreads(Number.isInteger(fromEnv) && fromEnv >= 1 ? fromEnv : availableParallelism());
  return cached;
}

type KernelName = Exclude<keyof Backend, 'name' | 'threads' | 'setThreads' | 'matmulMode' | 'setMatmulPrecision' | 'freezeOperands'>;

// The addon's matmul precision is process-wide, so its mode is too.
let mode: MatmulMode = { precision: 'fp32', kernel: 'fp32', label: 'precision fp32' };

function setPrecision(addon: NativeAddon, p: Precision): MatmulMode {
  const used = addon.setMatmulPrecision(p);
  if (p === 'fp32') mode = { precision: 'fp32', kernel: 'fp32', label: 'precision fp32' };
  else {
    const { note } = addon.bf16Info();
    mode = used === 'fp32'
      ? { precision: 'bf16', kernel: 'fp32', label: `precision bf16 asked, but ${note}` }
      : { precision: 'bf16', kernel: used, label: `precision bf16 (${note})` };
  }
  return mode;
}

/**
 * Every kernel and which of its arguments are float buffers: a call whose buffers are all
 * Float32Array goes to the addon; any Float64Array (the float64 gradient checks) goes to the js
 * reference. One table, so a new kernel cannot forget its fallback.
 */
const KERNELS: Record<KernelName, readonly number[]> = {
  matmul: [0, 1, 2], matmulPlus: [0, 1, 2, 10, 11],
  layernormForward: [0, 1, 2, 3, 4, 5], layernormBackward: [0, 1, 2, 3, 4, 5, 6, 7],
  rmsnormForward: [0, 1, 2, 3], rmsnormBackward: [0, 1, 2, 3, 4, 5],
  geluForward: [0, 1], geluBackward: [0, 1, 2], siluForward: [0, 1], siluBackward: [0, 1, 2],
  softmaxForward: [0, 1], softmaxBackward: [0, 1, 2], addBuffers: [0, 1, 2], addColumnSums: [0, 1],
  embeddingForward: [0, 1], embeddingBackward: [0, 1],
  attentionForward: [0, 1, 2, 3, 4], attentionBackward: [0, 1, 2, 3, 4, 5, 6, 7],
  crossEntropyForward: [0, 1, 2], crossEntropyBackward: [0, 1, 3],
  adamwStep: [], sumSquares: [0], scaleInPlace: [0],
};

/** Optional float buffers (absent, or Float32Array for the addon): matmul's bias and colSumsB, matmulPlus's bias. */
const OPTIONAL_BUFS: Partial<Record<KernelName, readonly number[]>> = { matmul: [9, 10], matmulPlus: [9] };
/** Arguments that are arrays of float buffers (every entry Float32Array for the addon): the fused optimizer's. */
const ARRAY_BUFS: Partial<Record<KernelName, readonly number[]>> = { adamwStep: [0, 1, 2, 3] };

/** freezeOperands' packs: at most this share of the machine's memory, and never below this much left available. */
const PACK_SHARE = 1 / 8, PACK_RESERVE = 2 * 2 ** 30;

/** Loads the N-API addon (build/Release/fmn_native.node). Throws BackendError when absent. */
export function loadNativeBackend(): Backend {
  const addon = loadNativeAddon();
  const js = createJsBackend();
  const kernels = Object.fromEntries(Object.entries(KERNELS).map(([name, bufs]) => {
    const fast = (addon[name as KernelName] as (...a: unknown[]) => void).bind(addon);
    const slow = (js[name as KernelName] as (...a: unknown[]) => void).bind(js);
    const optional = OPTIONAL_BUFS[name as KernelName] ?? [], arrays = ARRAY_BUFS[name as KernelName] ?? [];
    const f32 = (x: unknown) => x instanceof Float32Array;
    return [name, (...args: unknown[]) => (bufs.every((i) => f32(args[i])) && optional.every((i) => args[i] === undefined || f32(args[i]))
      && arrays.every((i) => Array.isArray(args[i]) && (args[i] as unknown[]).every(f32)) ? fast(...args) : slow(...args))];
  })) as Pick<Backend, KernelName>;
  // freezeOperands: each frozen buffer's packed forms, by path, orientation and shape (made on
  // first use; null where the path packs nothing or memory is short), and how many declarations
  // hold it. Packs are memory a run may need: one is made only while all of them stay within
  // PACK_SHARE of the machine's memory and PACK_RESERVE of it stays available; past that, products
  // convert and pack B as before (the same bits either way).
  const frozen = new Map<Buf, { holds: number; packs: Map<string, ArrayBuffer | null> }>();
  let packedBytes = 0;
  const packedFor = (B: Buf, K: number, N: number, transB: boolean): ArrayBuffer | null => {
    if (mode.kernel === 'fp32' || !(B instanceof Float32Array)) return null;
    const entry = frozen.get(B);
    if (entry === undefined) return null;
    const key = `${mode.kernel} ${transB ? 't' : 'n'} ${K} ${N}`;
    let p = entry.packs.get(key);
    if (p === undefined) {
      const need = 2 * K * N;
      p = packedBytes + need <= PACK_SHARE * totalmem() && freemem() - need >= PACK_RESERVE ? addon.packMatmulB(B, K, N, transB) : null;
      if (p !== null) packedBytes += p.byteLength;
      entry.packs.set(key, p);
    }
    return p;
  };
  const f32 = (...xs: (Buf | undefined)[]) => xs.every((x) => x === undefined || x instanceof Float32Array);
  const { matmul, matmulPlus } = kernels;
  kernels.matmul = (C, A, B, M, N, K, transA, transB, accumulate, bias, colSumsB) => {
    const p = frozen.size > 0 ? packedFor(B, K, N, transB) : null;
    if (p !== null && f32(C, A, bias, colSumsB)) addon.matmul(C, A, B, M, N, K, transA, transB, accumulate, bias, colSumsB, p);
    else matmul(C, A, B, M, N, K, transA, transB, accumulate, bias, colSumsB);
  };
  kernels.matmulPlus = (C, A, B, M, N, K, transA, transB, accumulate, bias, A2, B2, K2, transA2, transB2) => {
    const p = frozen.size > 0 ? packedFor(B, K, N, transB) : null;
    if (p !== null && f32(C, A, bias, A2, B2)) addon.matmulPlus(C, A, B, M, N, K, transA, transB, accumulate, bias, A2, B2, K2, transA2, transB2, p);
    else matmulPlus(C, A, B, M, N, K, transA, transB, accumulate, bias, A2, B2, K2, transA2, transB2);
  };
  return {
    name: `native-${addon.simdLevel()}`,
    freezeOperands(bufs: readonly Buf[]) {
      const held = [...new Set(bufs)];
      for (const b of held) {
        const e = frozen.get(b);
        if (e) e.holds++;
        else frozen.set(b, { holds: 1, packs: new Map() });
      }
      let released = false;
      return () => {
        if (released) return;
        released = true;
        for (const b of held) {
          const e = frozen.get(b)!;
          if (--e.holds > 0) continue;
          for (const p of e.packs.values()) packedBytes -= p?.byteLength ?? 0;
          frozen.delete(b);
        }
      };
    },
    get threads() { return addon.getThreads(); },
    setThreads(n: number) { addon.setThreads(Math.max(1, Math.floor(n))); },
    get matmulMode() { return mode; },
    setMatmulPrecision(p: Precision) { return setPrecision(addon, p); },
    ...kernels,
  };
}
