/**
 * The non-GEMM kernels give the same bits on an AVX2-only CPU as on an AVX-512 one.
 *
 * Those kernels are built once per instruction-set level (GCC target clones, native/parallel.h)
 * and the loader picks one for the CPU, so this machine alone never runs the x86-64-v3 clone.
 * This test compiles the kernels of native/ with test/native/isa_kernels.cc twice, each with one
 * level only (-DFMN_NO_CLONES -march=x86-64-v3, -march=x86-64-v4), runs both on the same inputs
 * and compares the hashes of every kernel's outputs. The v3 build also runs with FMN_SIMD=avx2, so
 * that its GEMM and attention take the AVX2 path an AVX2-only CPU takes: that run is the whole
 * AVX2 machine. Before native/lanes.h the softmax, cross-entropy and attention lines differed
 * (their sums ran in 8 lanes on v3 and 16 on v4).
 *
 * Needs g++ on x86-64 (node-gyp's compiler; skipped, saying so, without it); the v4 build runs
 * only on a CPU with AVX-512 (skipped otherwise: the AVX2 path is then the one in use anyway).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

function why(): string | null {
  if (arch() !== 'x64') return `not x86-64 (${arch()})`;
  const gxx = spawnSync('g++', ['--version'], { encoding: 'utf8' });
  if (gxx.error || gxx.status !== 0) return 'no g++ on PATH';
  return null;
}
const skip = why();

function hasAvx512(): boolean {
  try {
    const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1].split(/\s+/) ?? [];
    return ['avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl'].every((f) => flags.includes(f));
  } catch { return false; }
}

describe('the non-GEMM kernels give the same bits at every instruction-set level', () => {
  if (skip !== null) { it.skip(`skipped: ${skip}`, () => {}); return; }
  const dir = mkdtempSync(join(tmpdir(), 'fmn-isa-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const sources = readdirSync(join(ROOT, 'native')).filter((f) => f.endsWith('.cc') && f !== 'binding.cc').map((f) => join(ROOT, 'native', f));

  /** Compiles the driver and the kernels for one level, the two levels at once (one per core). */
  async function build(levels: string[]): Promise<void> {
    await Promise.all(levels.map((level) => new Promise<void>((resolve, reject) => {
      const args = ['-O3', '-std=c++17', '-fno-math-errno', '-fopenmp-simd', '-DFMN_NO_CLONES', `-march=x86-64-${level}`,
        ...sources, join(ROOT, 'test/native/isa_kernels.cc'), '-o', join(dir, `isa-${level}`), '-ldl', '-lpthread'];
      const p = spawn('g++', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => { err += d; });
      p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`g++ -march=x86-64-${level} failed:\n${err}`))));
    })));
  }
  const run = (level: string, env: Record<string, string> = {}): string =>
    execFileSync(join(dir, `isa-${level}`), { encoding: 'utf8', env: { ...process.env, ...env } });

  it('x86-64-v3 (AVX2, FMA) against x86-64-v4 (AVX-512), kernel by kernel', async () => {
    const avx512 = hasAvx512();
    await build(avx512 ? ['v3', 'v4'] : ['v3']);
    const v3 = run('v3'), v3avx2 = run('v3', { FMN_SIMD: 'avx2' });
    const lines = v3.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(15);   // every kernel reported
    // the v3 clones with the AVX2 GEMM and attention path: what an AVX2-only machine runs
    expect(v3avx2).toBe(v3);
    if (!avx512) return;
    const v4 = run('v4').trim().split('\n');
    const diff = lines.filter((l, i) => l !== v4[i]);
    expect(diff, `kernels whose bits differ between x86-64-v3 and v4: ${diff.join(', ')}`).toEqual([]);
  }, 240_000);
});
