/**
 * Kernel benchmark: sgemm GFLOP/s on the training shapes (ops nn / nt / tn, 1 and 2 threads),
 * against the machine's own measured single-core FP32 FMA peak and, when it is installed,
 * Debian's OpenBLAS (opened with dlopen by the addon; never required); beside each fp32 figure
 * the bf16 mixed-precision matmul's (--precision bf16), on every bf16 path this CPU can run.
 *
 *   npm run bench:kernels            table
 *   npm run bench:kernels -- --json  {"peak_gflops", "sgemm": [{m,k,n,op,threads,gflops,bf16_gflops,bf16_paths}], "bf16", "gemm_blocks", ...}
 *   npm run bench:kernels -- --rounds 5
 *   npm run bench:kernels -- --shapes 2048x512x128,1024x768x768 --ops tn --threads 1   a subset (M×K×N)
 *   npm run bench:kernels -- --openblas-core env   OpenBLAS as the environment sets it (default auto:
 *                                    OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE removed; see peer-env.ts)
 *
 * Every figure is the median over --rounds passes (default 3) of the median of several timed
 * repetitions after warm-up calls; within a pass, ours and OpenBLAS run back to back per row.
 */
import { loadNativeAddon, loadNativeBackend } from '../src/backend/native/index.ts';
import { chooseOpenblas } from './peer-env.ts';

type Op = 'nn' | 'nt' | 'tn';
interface Row {
  m: number; k: number; n: number; op: Op; threads: number; gflops: number;
  /** The bf16 matmul on the path --precision bf16 picks (null: this CPU has none), and on every path it can run. */
  bf16_gflops?: number | null; bf16_paths?: Partial<Record<'amx' | 'avx512bf16', number>>;
}

const ALL_SHAPES: [number, number, number][] = [  // (M, K, N)
  [2048, 128, 128], [2048, 128, 512], [2048, 512, 128], [1024, 768, 768], [1024, 768, 3072], [4096, 768, 768],
];

/** The value after `flag`, or undefined; a flag given without one is a usage error (exit 2). */
function flagValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  if (i < 0) return undefined;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) usage(`${flag} needs a value`);
  return v;
}
function usage(msg: string): never {
  console.error(`bench:kernels: ${msg}`);
  process.exit(2);
}
const SHAPES: [number, number, number][] = flagValue('--shapes')?.split(',').map((t) => {
  const d = t.split('x').map(Number);
  if (d.length !== 3 || !d.every((x) => Number.isInteger(x) && x > 0 && x <= 16384)) usage(`--shapes: "${t}" is not MxKxN (positive integers up to 16384)`);
  return d as [number, number, number];
}) ?? ALL_SHAPES;
const OPS: Op[] = flagValue('--ops')?.split(',').map((o) => {
  if (o !== 'nn' && o !== 'nt' && o !== 'tn') usage(`--ops: "${o}" is not one of nn, nt, tn`);
  return o;
}) ?? ['nn', 'nt', 'tn'];
const THREADS = flagValue('--threads')?.split(',').map((t) => {
  const n = Number(t);
  if (!Number.isInteger(n) || n < 1 || n > 64) usage(`--threads: "${t}" is not a thread count (1 to 64)`);
  return n;
}) ?? [1, 2];

const json = process.argv.includes('--json');
const addon = loadNativeAddon();
const backend = loadNativeBackend();
const bf16 = addon.bf16Info();
const bf16Paths = (['amx', 'avx512bf16'] as const).filter((p) => bf16[p]);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Median seconds per call: `warmup` untimed calls, then at least `minReps` and ~`budget` s. */
function timeIt(fn: () => void, warmup = 2, minReps = 5, budget = 0.5): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minReps || (performance.now() - start < budget * 1e3 && times.length < 200)) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1e3);
  }
  return median(times);
}

/** A, B, C for op: A stored (M,K) or (K,M) when transposed; the sizes are the same either way. */
function operands(m: number, k: number, n: number) {
  const A = new Float32Array(m * k), B = new Float32Array(k * n), C = new Float32Array(m * n);
  let s = 1;
  const next = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
  A.forEach((_, i) => (A[i] = next()));
  B.forEach((_, i) => (B[i] = next()));
  return { A, B, C };
}

// 1. the machine's single-core FP32 FMA peak (median of 3 runs of ~0.3 s)
const peak = median([0, 1, 2].map(() => addon.peakGflops(0.3)));

// 2. OpenBLAS, if installed, on the kernels it picks for this CPU (peer-env.ts): the environment
// it reads when it loads is set here first
const coreArg = process.argv.indexOf('--openblas-core');
const blas = chooseOpenblas(addon.simdLevel(), coreArg >= 0 ? process.argv[coreArg + 1] ?? 'auto' : 'auto');
for (const [k, v] of Object.entries(blas.env)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
const openblasPath = blas.path !== null && addon.openblasLoad(blas.path) ? blas.path : null;
const openblasCore = openblasPath ? addon.openblasCorename() : null;

// 3. sgemm shapes: `rounds` passes over every row, ours and OpenBLAS back to back within each,
// and each figure the median over the rounds (a burst of load on the machine then touches one
// round of one row, not the row)
const ROUNDS = Math.max(1, Number(flagValue('--rounds') ?? 3) || 1);
const rows: Row[] = [];
const blasRows: Row[] = [];
const samples = new Map<number, { ours: number[]; blas: number[]; bf: Record<string, number[]> }>();
for (let round = 0; round < ROUNDS; round++) {
  let at = 0;
  for (const [m, k, n] of SHAPES) {
    const { A, B, C } = operands(m, k, n);
    const flops = 2 * m * n * k;
    for (const op of OPS) {
      const tA = op === 'tn', tB = op === 'nt';
      for (const threads of THREADS) {
        const s = samples.get(at) ?? { ours: [], blas: [], bf: {} };
        samples.set(at++, s);
        backend.setThreads(threads);
        s.ours.push(flops / timeIt(() => backend.matmul(C, A, B, m, n, k, tA, tB, false)) / 1e9);
        for (const path of bf16Paths) {
          addon.setMatmulPrecision('bf16', path);
          (s.bf[path] ??= []).push(flops / timeIt(() => backend.matmul(C, A, B, m, n, k, tA, tB, false)) / 1e9);
          addon.setMatmulPrecision('fp32');
        }
        if (openblasPath) s.blas.push(flops / timeIt(() => addon.openblasSgemm(C, A, B, m, n, k, tA, tB, false, threads)) / 1e9);
        if (round === ROUNDS - 1) {
          const row: Row = { m, k, n, op, threads, gflops: median(s.ours), bf16_gflops: null, bf16_paths: {} };
          for (const path of bf16Paths) row.bf16_paths![path] = median(s.bf[path]!);
          if (bf16.path !== 'none') row.bf16_gflops = row.bf16_paths![bf16.path] ?? null;
          rows.push(row);
          if (openblasPath) blasRows.push({ m, k, n, op, threads, gflops: median(s.blas) });
        }
      }
    }
  }
}
backend.setThreads(1);

// 4. per-call cost: a 64³ matmul, and a 1-element call (the N-API crossing alone)
const s64 = operands(64, 64, 64);
const call64 = timeIt(() => backend.matmul(s64.C, s64.A, s64.B, 64, 64, 64, false, false, false), 100, 2000, 0.3);
const one = new Float32Array(1);
const call1 = timeIt(() => backend.geluForward(one, one, 1), 1000, 20000, 0.2);

if (json) {
  console.log(JSON.stringify({
    peak_gflops: peak,
    sgemm: rows,
    openblas: openblasPath ? blasRows : null,
    openblas_path: openblasPath,
    openblas_core: openblasCore,
    openblas_core_default: blas.defaultCore,
    openblas_note: blas.note,
    rounds: ROUNDS,
    gemm_blocks: addon.gemmInfo(),
    backend: backend.name,
    bf16: { path: bf16.path, note: bf16.note, paths: bf16Paths },
    call_overhead_us_64: call64 * 1e6,
    call_overhead_us_1: call1 * 1e6,
  }));
} else {
  const pct = (g: number, threads: number) => `${((100 * g) / (peak * threads)).toFixed(0)}%`;
  console.log(`backend ${backend.name}; measured single-core FP32 FMA peak ${peak.toFixed(1)} GFLOP/s`);
  console.log(`OpenBLAS: ${openblasPath ? `${openblasPath}, ${openblasCore ?? '?'} kernels` : 'not installed (optional)'}`);
  if (blas.note !== null) console.log(`  ${blas.note}`);
  const gi = addon.gemmInfo();
  console.log(`fp32 GEMM blocks (from L2 ${gi.l2} B; L1d ${gi.l1d} B): KC ${gi.kc} (deepest pass), MC ${gi.mc} at that depth (a quarter of L2 whatever the depth), NC ${gi.nc}; medians over ${ROUNDS} rounds`);
  console.log(`bf16: ${bf16.path === 'none' ? bf16.note : `${bf16.note}; columns for ${bf16Paths.join(', ')}`}`);
  console.log('');
  const bfHead = bf16Paths.flatMap((p) => [p === 'amx' ? 'AMX' : 'BF16dp', '×fp32']);
  console.log(['M', 'K', 'N', 'op', 'thr', 'GFLOP/s', '% peak', 'OpenBLAS', 'ratio', ...bfHead].map((h) => h.padStart(8)).join(''));
  rows.forEach((r, i) => {
    const b = blasRows[i];
    const bf = bf16Paths.flatMap((p) => [r.bf16_paths![p]!.toFixed(1), (r.bf16_paths![p]! / r.gflops).toFixed(2)]);
    console.log([r.m, r.k, r.n, r.op, r.threads, r.gflops.toFixed(1), pct(r.gflops, r.threads),
      b ? b.gflops.toFixed(1) : '-', b ? (r.gflops / b.gflops).toFixed(2) : '-', ...bf].map((x) => String(x).padStart(8)).join(''));
  });
  console.log('');
  console.log(`64×64×64 matmul call: ${(call64 * 1e6).toFixed(2)} µs; 1-element call: ${(call1 * 1e6).toFixed(2)} µs`);
  console.log('(% peak: of the measured single-core peak × threads)');
}
