/**
 * `FMN_PROFILE=1`: where a run's time goes. Every kernel call is timed (matmul per orientation
 * and shape class), under the phase the caller set (`train`, `eval`, `generate`, …); at exit a
 * table goes to stderr (or, with FMN_PROFILE=FILE.json, a JSON file): per phase its wall time,
 * the kernels' share of it and each kernel's calls and time, and what is left — graph building,
 * N-API crossings, allocation, JavaScript — as "outside kernels".
 */
import { writeFileSync } from 'node:fs';
import type { Backend } from './backend.ts';

interface Entry { calls: number; ms: number; flops: number }
interface Phase { wallMs: number; kernels: Map<string, Entry> }

const phases = new Map<string, Phase>();
let current = 'other';
let since = performance.now();
let enabled = false;

const phase = (name: string): Phase => {
  let p = phases.get(name);
  if (!p) { p = { wallMs: 0, kernels: new Map() }; phases.set(name, p); }
  return p;
};

/** Sets the phase the time from now on is charged to; returns the previous one (to restore). */
export function profilePhase(name: string): string {
  if (!enabled) return name;
  const now = performance.now();
  phase(current).wallMs += now - since;
  since = now;
  const prev = current;
  current = name;
  return prev;
}

/** Runs `f` charged to phase `name`, then restores the caller's phase. */
export function inPhase<T>(name: string, f: () => T): T {
  if (!enabled) return f();
  const prev = profilePhase(name);
  try { return f(); } finally { profilePhase(prev); }
}

const orientation = (tA: boolean, tB: boolean) => (tA ? 't' : 'n') + (tB ? 't' : 'n');
/** Sizes in powers of two, so shapes group: a 40-row SFT batch and a 48-row one are one class. */
const cls = (n: number) => (n <= 1 ? '1' : `≤${2 ** Math.ceil(Math.log2(n))}`);

/** Wraps every kernel of `be` with a timer; returns `be` itself when profiling is off. */
export function profiled(be: Backend, spec = process.env.FMN_PROFILE): Backend {
  if (!spec || spec === '0') return be;
  enabled = true;
  since = performance.now();
  const wrapped = Object.create(be) as Backend;
  for (const key of Object.keys(be) as (keyof Backend)[]) {
    const f = be[key];
    if (typeof f !== 'function' || key === 'setThreads' || key === 'setMatmulPrecision' || key === 'freezeOperands') continue;
    (wrapped as unknown as Record<string, unknown>)[key] = (...args: unknown[]) => {
      const t0 = performance.now();
      const result = (f as (...a: unknown[]) => unknown).apply(be, args);   // sumSquares returns its sum
      const ms = performance.now() - t0;
      let name: string = key, flops = 0;
      if (key === 'matmul') {
        const [M, N, K] = args.slice(3, 6) as number[];
        name = `matmul ${orientation(args[6] as boolean, args[7] as boolean)} M${cls(M)} N${cls(N)} K${cls(K)}`;
        flops = 2 * M * N * K;
      } else if (key === 'matmulPlus') {
        const [M, N, K] = args.slice(3, 6) as number[], K2 = args[12] as number;
        name = `matmul ${orientation(args[6] as boolean, args[7] as boolean)} M${cls(M)} N${cls(N)} K${cls(K)} + K2 ${K2}`;
        flops = 2 * M * N * (K + K2);
      }
      const p = phase(current);
      const e = p.kernels.get(name) ?? { calls: 0, ms: 0, flops: 0 };
      e.calls++; e.ms += ms; e.flops += flops;
      p.kernels.set(name, e);
      return result;
    };
  }
  Object.defineProperty(wrapped, 'threads', { get: () => be.threads });
  Object.defineProperty(wrapped, 'matmulMode', { get: () => be.matmulMode });
  Object.defineProperty(wrapped, 'name', { value: be.name });
  process.once('exit', () => report(spec));
  return wrapped;
}

export interface ProfileRow {
  phase: string; wall_ms: number; kernel_ms: number; outside_kernels_ms: number;
  kernels: { kernel: string; calls: number; ms: number; gflops: number | null }[];
}

/** The profile so far, per phase (the current phase's time counted up to now). */
export function profileRows(): ProfileRow[] {
  profilePhase(current);
  return [...phases].filter(([, p]) => p.wallMs > 0 || p.kernels.size > 0).map(([name, p]) => {
    const kernels = [...p.kernels].map(([k, e]) => ({ kernel: k, calls: e.calls, ms: e.ms, gflops: e.flops > 0 ? e.flops / e.ms / 1e6 : null }))
      .sort((a, b) => b.ms - a.ms);
    const inKernels = kernels.reduce((a, k) => a + k.ms, 0);
    return { phase: name, wall_ms: p.wallMs, kernel_ms: inKernels, outside_kernels_ms: p.wallMs - inKernels, kernels };
  });
}

function report(spec: string): void {
  const rows = profileRows();
  if (spec.endsWith('.json')) { writeFileSync(spec, JSON.stringify({ phases: rows }, null, 2) + '\n'); return; }
  const out: string[] = ['', 'FMN_PROFILE: time by phase and kernel (ms)'];
  for (const r of rows) {
    out.push(`${r.phase}: wall ${r.wall_ms.toFixed(0)}, in kernels ${r.kernel_ms.toFixed(0)} (${(100 * r.kernel_ms / Math.max(r.wall_ms, 1e-9)).toFixed(0)}%), outside kernels ${r.outside_kernels_ms.toFixed(0)}`);
    for (const k of r.kernels.slice(0, 14)) {
      out.push(`  ${k.kernel.padEnd(34)}${String(k.calls).padStart(8)} calls ${k.ms.toFixed(0).padStart(7)} ms${k.gflops !== null ? `  ${k.gflops.toFixed(1)} GFLOP/s` : ''}`);
    }
  }
  process.stderr.write(out.join('\n') + '\n');
}
