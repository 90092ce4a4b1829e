/**
 * bf16 mixed precision: the rounding spec (roundToBf16), each native bf16 kernel path forced in
 * turn (AMX tiles, AVX512-BF16) against the float64 oracle on pre-rounded operands, and the
 * run-time dispatch: FMN_BF16 narrows it, and a CPU or kernel without a path falls back to fp32
 * with a note instead of failing. Paths this CPU lacks are skipped, saying so.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { roundToBf16 } from '../src/backend/js/bf16.ts';
import { matmul } from '../src/backend/js/matmul.ts';
import { addonPath, loadNativeAddon, type NativeAddon } from '../src/backend/native/index.ts';
import { testRng } from './util.ts';

const EPS32 = 2 ** -23;

describe('roundToBf16', () => {
  it('nearest even on ties, denormals to signed zero, inf kept, NaN quieted, overflow to inf', () => {
    const x = Float32Array.of(1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, -1.00390625, 2 ** -130, -(2 ** -130),
      Infinity, -Infinity, 3.4028234663852886e38, 1.5);
    const r = roundToBf16(x);
    expect(Array.from(r.slice(0, 4))).toEqual([1, 1 + 2 ** -6, 1 + 2 ** -7, -1]);
    expect(Object.is(r[4], 0)).toBe(true);
    expect(Object.is(r[5], -0)).toBe(true);
    expect(Array.from(r.slice(6, 9))).toEqual([Infinity, -Infinity, Infinity]);
    expect(r[9]).toBe(1.5);
    expect(Number.isNaN(roundToBf16(Float32Array.of(NaN))[0])).toBe(true);
    // every result is a bf16: its low 16 bits are zero
    const rng = testRng(5);
    const y = roundToBf16(Float32Array.from({ length: 1000 }, () => (rng() - 0.5) * 1e3));
    expect(new Uint32Array(y.buffer).every((u) => (u & 0xffff) === 0)).toBe(true);
  });
});

let addon: NativeAddon | string;
try { addon = loadNativeAddon(); } catch (e) { addon = (e as Error).message; }

describe('native bf16 kernels, each path forced', () => {
  if (typeof addon === 'string') {
    it.skip(`skipped: ${addon}`, () => {});
    return;
  }
  const a = addon;
  const info = a.bf16Info();
  // ragged shapes: M, N not multiples of 14, 16 or 32; K odd, K = 1, K past one depth block (512)
  const shapes: [number, number, number][] = [[1, 1, 1], [5, 3, 7], [37, 33, 19], [70, 515, 45], [17, 1100, 130]];
  for (const path of ['amx', 'avx512bf16'] as const) {
    if (!info[path]) {
      it.skip(`skipped: the ${path} path cannot run on this machine (${path === 'amx' ? 'no AMX, or the kernel refused tile state' : 'no AVX512-BF16'})`, () => {});
      continue;
    }
    it(`${path}: all orientations, ragged shapes, K = 0, overwrite and accumulate, 1 and 2 threads`, () => {
      const threads = a.getThreads();
      try {
        for (const t of [1, 2]) {
          a.setThreads(t);
          expect(a.setMatmulPrecision('bf16', path)).toBe(path);
          for (const [M, K, N] of shapes) {
            const rng = testRng(M * 131 + K * 7 + N + t);
            const A = Float32Array.from({ length: M * K }, () => 2 * rng() - 1);
            const B = Float32Array.from({ length: K * N }, () => 2 * rng() - 1);
            const C0 = Float32Array.from({ length: M * N }, () => 2 * rng() - 1);
            const Ar = Float64Array.from(roundToBf16(A)), Br = Float64Array.from(roundToBf16(B));
            for (const [tA, tB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
              for (const acc of [false, true]) {
                const want = Float64Array.from(C0);
                matmul(want, Ar, Br, M, N, K, tA, tB, acc);
                const got = C0.slice();
                a.matmul(got, A, B, M, N, K, tA, tB, acc);
                let err = 0, den = 0;
                for (let i = 0; i < M * N; i++) { err = Math.max(err, Math.abs(got[i] - want[i])); den = Math.max(den, Math.abs(want[i])); }
                // fp32 summation of K exact products: a few ulps · √K
                expect(err / den, `${path} ${tA ? 't' : 'n'}${tB ? 't' : 'n'} M=${M} K=${K} N=${N} acc=${acc} threads=${t}`)
                  .toBeLessThanOrEqual(8 * EPS32 * Math.sqrt(K) + 16 * EPS32);
              }
            }
          }
          const C = new Float32Array(6).fill(3);
          a.matmul(C, new Float32Array(0), new Float32Array(0), 2, 3, 0, false, false, true);
          expect(Array.from(C)).toEqual([3, 3, 3, 3, 3, 3]);
          a.matmul(C, new Float32Array(0), new Float32Array(0), 2, 3, 0, true, true, false);
          expect(Array.from(C)).toEqual([0, 0, 0, 0, 0, 0]);
        }
      } finally {
        a.setMatmulPrecision('fp32');
        a.setThreads(threads);
      }
    });
  }

  it('a forced path must be one of amx, avx512bf16; fp32 needs no path', () => {
    expect(() => a.setMatmulPrecision('bf16', 'sse' as 'amx')).toThrow(/force must be amx or avx512bf16/);
    expect(() => a.setMatmulPrecision('fp16' as 'bf16')).toThrow(/precision must be fp32 or bf16/);
    expect(a.setMatmulPrecision('fp32')).toBe('fp32');
  });
});

/** bf16Info and the backend's mode line in a fresh process with `env` (FMN_BF16 is read once). */
function childInfo(env: Record<string, string>): { info: ReturnType<NativeAddon['bf16Info']>; used: string } {
  const code = `const a = require(${JSON.stringify(addonPath)}); const used = a.setMatmulPrecision('bf16');
    const C = new Float32Array(4); a.matmul(C, new Float32Array([1,2,3,4]), new Float32Array([1,0,0,1]), 2, 2, 2, false, false, false);
    if (C.join() !== '1,2,3,4') throw new Error('wrong product ' + C.join());
    console.log(JSON.stringify({ info: a.bf16Info(), used }));`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 20_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('bf16 dispatch (FMN_BF16, in child processes)', () => {
  if (typeof addon === 'string') {
    it.skip(`skipped: ${addon}`, () => {});
    return;
  }
  const here = addon.bf16Info();
  it('FMN_BF16=off: fp32 kernels, said so', () => {
    const { info, used } = childInfo({ FMN_BF16: 'off' });
    expect(info.path).toBe('none');
    expect(used).toBe('fp32');
    expect(info.note).toMatch(/FMN_BF16=off/);
  });
  it('FMN_SIMD=avx2 (a CPU without AVX-512, simulated): fp32 kernels, said so', () => {
    const { info, used } = childInfo({ FMN_SIMD: 'avx2', FMN_BF16: '' });
    expect(used).toBe('fp32');
    expect(info.path).toBe('none');
    if (here.avx512bf16) expect(info.note).toMatch(/FMN_SIMD=avx2/);
  });
  it('FMN_BF16=avx512bf16 keeps off AMX; FMN_BF16=amx and the default take AMX when granted', () => {
    const v = childInfo({ FMN_BF16: 'avx512bf16' });
    expect(v.used).toBe(here.avx512bf16 ? 'avx512bf16' : 'fp32');
    const x = childInfo({ FMN_BF16: 'amx' });
    const d = childInfo({ FMN_BF16: '' });
    const best = here.amx ? 'amx' : here.avx512bf16 ? 'avx512bf16' : 'fp32';
    expect(x.used).toBe(best);
    expect(d.used).toBe(best);
    if (!here.avx512bf16) expect(d.info.note).toMatch(/no AVX512-BF16.*fp32/);
    else if (!here.amx) expect(d.info.note).toMatch(/AVX512-BF16 vdpbf16ps \(/);
    else expect(d.info.note).toBe('AMX tiles');
  });
});
