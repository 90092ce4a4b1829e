/**
 * The comparison points' own settings, chosen so that a ratio against them is honest:
 *
 * - OpenBLAS's kernels. OpenBLAS reads OPENBLAS_CORETYPE (which kernel set) and OPENBLAS_L2_SIZE
 *   (its cache blocking) from the environment when it loads. A machine may come with them set:
 *   the session machines of 2026-12-06 export OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE=512,
 *   which on an AVX-512 Zen 5 runs sgemm on the AVX2 kernels at about half speed (torch's
 *   1024×768×3072 product 86 GFLOP/s, against 147 with OpenBLAS left to detect the CPU, which
 *   picks Cooperlake there). bench:kernels' OpenBLAS column and the PyTorch peer (whose matmuls
 *   are OpenBLAS's) would then be straw men. `auto` removes both variables, so OpenBLAS picks
 *   for the CPU it finds, and says what the environment had asked for.
 * - The peer's allocator. PyTorch on glibc frees its large tensors back to the kernel and maps
 *   them again next step; on a VM a page fault costs ~10 µs, which cost the peer up to half its
 *   step (small full, one thread: 1.6k → 3.0k tokens/s). PyTorch's CPU performance guide tells
 *   users to keep freed memory (jemalloc / tcmalloc); `keep` does it with glibc's own tunables,
 *   which measured the same as tcmalloc here. Our side keeps its buffers in its own pool.
 *
 * - PyTorch's own kernels. PyTorch 1.13 runs its elementwise and reduction kernels (GELU,
 *   layernorm, softmax, AdamW) on AVX2 even where the CPU has AVX-512 unless
 *   ATEN_CPU_CAPABILITY=avx512 is set; on Zen 5 that setting makes the peer ~10% faster
 *   (small full, one thread, 3.0k → 3.5k tokens/s). `auto` sets it on an AVX-512 CPU.
 *
 * All three are decided once per run and reported (JSON `openblas`, `peer_env`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { addonPath } from '../src/backend/native/index.ts';

export const OPENBLAS_PATHS = [
  '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0',
  '/usr/lib/x86_64-linux-gnu/libopenblas.so.0',
  '/usr/lib/x86_64-linux-gnu/libopenblas.so',
  '/usr/lib64/libopenblas.so.0',
  '/usr/lib/libopenblas.so.0',
];

/** OpenBLAS kernel sets that use AVX-512 (DYNAMIC_ARCH core names). */
const AVX512_CORES = new Set(['SkylakeX', 'Cooperlake', 'SapphireRapids']);
/** The variables that change which kernels OpenBLAS runs and how it blocks them. */
const BLAS_TUNING = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'] as const;

export interface BlasChoice {
  /** The library opened (null: none installed). */
  path: string | null;
  /** The core OpenBLAS picks on its own on this CPU. */
  defaultCore: string | null;
  /** The core the comparison runs. */
  core: string | null;
  /** Changes to the environment of every process that loads OpenBLAS (undefined: removed). */
  env: Record<string, string | undefined>;
  /** What was chosen and why, for the report (null: nothing to say). */
  note: string | null;
}

/** The environment of a child process: this one's with `env` applied (undefined removes a variable). */
export function childEnv(...changes: Record<string, string | undefined>[]): NodeJS.ProcessEnv {
  const full: Record<string, string | undefined> = { ...process.env };
  for (const c of changes) Object.assign(full, c);
  for (const k of Object.keys(full)) if (full[k] === undefined) delete full[k];
  return full as NodeJS.ProcessEnv;
}

/** The core an OpenBLAS library picks with `env` applied, read in a child process (the choice is made when it loads). */
export function probeCore(path: string, env: Record<string, string | undefined>): string | null {
  const code = `const a = require(${JSON.stringify(addonPath)}); process.stdout.write(String(a.openblasLoad(${JSON.stringify(path)}) ? a.openblasCorename() : ''))`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', env: childEnv(env), timeout: 60_000 });
  const out = r.stdout?.trim() ?? '';
  return r.status === 0 && out !== '' && out !== 'null' ? out : null;
}

/**
 * `request`: `auto` (OpenBLAS detects the CPU itself: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
 * removed), `env` (the environment as it is), or a core name (OPENBLAS_CORETYPE=NAME, the
 * cache size left to OpenBLAS).
 */
export function chooseOpenblas(simdLevel: string, request: string): BlasChoice {
  const path = OPENBLAS_PATHS.find((p) => existsSync(p)) ?? null;
  if (path === null) return { path, defaultCore: null, core: null, env: {}, note: null };
  const clean: Record<string, string | undefined> = Object.fromEntries(BLAS_TUNING.map((k) => [k, undefined]));
  const defaultCore = probeCore(path, clean);
  const inherited = BLAS_TUNING.filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]}`);
  let env: Record<string, string | undefined>;
  let note: string | null;
  if (request === 'env') {
    env = {};
    note = inherited.length > 0 ? `OpenBLAS as the environment sets it (${inherited.join(' ')}; --openblas-core env)` : null;
  } else if (request === 'auto') {
    env = clean;
    note = inherited.length > 0 ? `the environment's ${inherited.join(' ')} removed for OpenBLAS: it picks its own kernels for this CPU (--openblas-core env keeps them)` : null;
  } else {
    env = { ...clean, OPENBLAS_CORETYPE: request };
    note = `OpenBLAS forced to OPENBLAS_CORETYPE=${request} (--openblas-core)`;
  }
  const core = probeCore(path, env);
  if (simdLevel === 'avx512' && core !== null && !AVX512_CORES.has(core)) {
    note = `${note === null ? '' : `${note}; `}OpenBLAS runs its ${core} kernels on this AVX-512 CPU: without AVX-512 its sgemm is a weaker peer than the hardware allows`;
  }
  return { path, defaultCore, core, env, note };
}

/** glibc malloc keeps freed memory (no trim, no per-tensor mmap): what tcmalloc / jemalloc give PyTorch. */
export const KEEP_MEMORY_TUNABLES = 'glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295';

/** The peer's allocator setting: `keep` (default) or `default` (glibc as it comes). An allocator set in the environment is kept. */
export function peerMallocEnv(request: string): { env: Record<string, string>; note: string } {
  if (process.env.GLIBC_TUNABLES !== undefined || process.env.LD_PRELOAD !== undefined) {
    return { env: {}, note: 'the peer\'s allocator as the environment sets it (GLIBC_TUNABLES / LD_PRELOAD)' };
  }
  if (request === 'default') return { env: {}, note: 'the peer on glibc malloc as it comes (--peer-malloc default)' };
  return { env: { GLIBC_TUNABLES: KEEP_MEMORY_TUNABLES }, note: `the peer's malloc keeps freed memory (GLIBC_TUNABLES=${KEEP_MEMORY_TUNABLES}; --peer-malloc default turns it off)` };
}

/** PyTorch's kernel level: `auto` (AVX-512 where the CPU has it) or `default` (PyTorch's own, AVX2 in 1.13). */
export function peerIsaEnv(simdLevel: string, request: string): { env: Record<string, string>; note: string | null } {
  if (process.env.ATEN_CPU_CAPABILITY !== undefined) return { env: {}, note: `the peer's kernels at ATEN_CPU_CAPABILITY=${process.env.ATEN_CPU_CAPABILITY} (from the environment)` };
  if (request === 'default' || simdLevel !== 'avx512') return { env: {}, note: null };
  return { env: { ATEN_CPU_CAPABILITY: 'avx512' }, note: 'the peer\'s own kernels on AVX-512 (ATEN_CPU_CAPABILITY=avx512; --peer-isa default leaves PyTorch 1.13 on AVX2)' };
}
