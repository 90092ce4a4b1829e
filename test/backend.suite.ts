/**
 * The backend conformance suite: one set of tests that every Backend runs (js and native).
 * Oracle: the js reference run on Float64Array copies of the same float32 inputs, so the only
 * differences left are the backend's float32 arithmetic. Tolerances are tied to float32:
 * errors are measured as max|got − want| / max|want| and bounded by a few units of
 * EPS32 = 2⁻²³, times √K where K terms are summed (rounding errors of a sum of K terms grow
 * like √K for random signs).
 */
import { describe, expect, it } from 'vitest';
import type { Backend, Buf } from '../src/backend/backend.ts';
import { roundToBf16 } from '../src/backend/js/bf16.ts';
import { createJsBackend } from '../src/backend/js/index.ts';
import { testRng } from './util.ts';

const EPS32 = 2 ** -23;
/** Elementwise kernels: a few ulps of the largest value. */
const TOL_ELEM = 16 * EPS32;
/** Kernels that sum K terms per output. */
const tolSum = (K: number): number => 8 * EPS32 * Math.sqrt(Math.max(K, 1)) + TOL_ELEM;

/** n values uniform in [offset − scale, offset + scale). */
function rand(rng: () => number, n: number, scale = 1, offset = 0): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = offset + scale * (2 * rng() - 1);
  return a;
}

const f64 = (a: Float32Array): Float64Array => Float64Array.from(a);

/** max|got − want| / max|want| (absolute when want is all zeros). */
function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let num = 0, den = 0;
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(got[i])) return Infinity;
    num = Math.max(num, Math.abs(got[i] - want[i]));
    den = Math.max(den, Math.abs(want[i]));
  }
  return den === 0 ? num : num / den;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  const e = relErr(got, want);
  expect(e, `${what}: relative error ${e.toExponential(2)} > ${tol.toExponential(2)}`).toBeLessThanOrEqual(tol);
}

/** Bit-for-bit equality of two float32 arrays, reported as the first differing index (fast on large arrays). */
function expectSameBits(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length, what).toBe(want.length);
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length), w = new Uint32Array(want.buffer, want.byteOffset, want.length);
  let first = -1;
  for (let i = 0; i < g.length; i++) if (g[i] !== w[i]) { first = i; break; }
  expect(first === -1 ? 'same bits' : `first difference at ${first}: ${got[first]} vs ${want[first]}`, what).toBe('same bits');
}

/** A Float32Array view at a nonzero byteOffset, inside a larger buffer filled with a sentinel. */
function offsetView(a: Float32Array, pad = 5): { view: Float32Array; whole: Float32Array } {
  const whole = new Float32Array(a.length + 2 * pad).fill(-12345);
  whole.set(a, pad);
  return { view: whole.subarray(pad, pad + a.length), whole };
}
function expectPadsUntouched(whole: Float32Array, n: number, pad = 5): void {
  for (let i = 0; i < pad; i++) {
    expect(whole[i]).toBe(-12345);
    expect(whole[pad + n + i]).toBe(-12345);
  }
}

/**
 * Registers the conformance tests for one backend. `makeBackend` returns the backend, or a
 * string saying why it is unavailable (the tests are then skipped with that message).
 */
export function backendSuite(name: string, makeBackend: () => Backend | string): void {
  const made = makeBackend();
  const ref = createJsBackend();
  if (typeof made === 'string') {
    describe(`backend ${name}`, () => {
      it.skip(`skipped: ${made}`, () => {});
    });
    return;
  }
  const be: Backend = made;

  /** Runs `fn` with the backend set to `threads`, restoring the previous count. */
  function withThreads<T>(threads: number, fn: () => T): T {
    const before = be.threads;
    be.setThreads(threads);
    try { return fn(); } finally { be.setThreads(before); }
  }

  describe(`backend ${name} (${be.name})`, () => {
    // ---------------------------------------------------------------- matmul
    describe('matmul', () => {
      const shapes: [number, number, number][] = [
        [1, 1, 1], [1, 17, 3], [3, 17, 33], [17, 3, 65], [33, 65, 130], [65, 130, 17], [130, 33, 257], [7, 257, 1],
      ];
      for (const [M, K, N] of shapes) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const op = `${transA ? 't' : 'n'}${transB ? 't' : 'n'}`;
            it(`${op} M=${M} K=${K} N=${N}, overwrite and accumulate`, () => {
              const rng = testRng(M * 1000003 + K * 1009 + N * 7 + (transA ? 1 : 0) + (transB ? 2 : 0));
              const A = rand(rng, M * K), B = rand(rng, K * N), C0 = rand(rng, M * N);
              for (const accumulate of [false, true]) {
                const want = f64(C0);
                ref.matmul(want, f64(A), f64(B), M, N, K, transA, transB, accumulate);
                const got = C0.slice();
                be.matmul(got, A, B, M, N, K, transA, transB, accumulate);
                expectClose(got, want, tolSum(K), `matmul ${op} accumulate=${accumulate}`);
              }
            });
          }
        }
      }

      // a bias starts each element's chain: the bits of filling C's rows with it and accumulating,
      // on every path (blocked tiles and ragged edges, K in several passes, skinny N ≤ 8 and M ≤ 8, K = 0, bf16), threads 1 and 2
      for (const [M, K, N] of [[1, 1, 1], [5, 17, 3], [6, 40, 7], [33, 65, 130], [640, 128, 384], [130, 600, 97], [45, 2900, 70], [3, 0, 9]] as const) {
        it(`bias: M=${M} K=${K} N=${N}, the bits of a filled C accumulated, fp32 and bf16`, () => {
          const rng = testRng(M * 31 + K * 7 + N);
          const A = rand(rng, M * K), B = rand(rng, K * N), bias = rand(rng, N);
          const precisions = be.name === 'js' ? ['fp32'] as const : ['fp32', 'bf16'] as const;
          for (const precision of precisions) {
            be.setMatmulPrecision(precision);
            try {
              for (const threads of [1, 2]) {
                const filled = new Float32Array(M * N);
                for (let i = 0; i < M; i++) filled.set(bias, i * N);
                withThreads(threads, () => be.matmul(filled, A, B, M, N, K, false, false, true));
                const { view: got, whole } = offsetView(new Float32Array(M * N).fill(NaN));
                withThreads(threads, () => be.matmul(got, A, B, M, N, K, false, false, false, bias));
                expect(got, `${precision}, ${threads} thread(s)`).toEqual(filled);
                expectPadsUntouched(whole, M * N);
              }
            } finally { be.setMatmulPrecision('fp32'); }
          }
        });
      }

      // colSumsB: op(B)'s column sums (a linear layer's bias gradient, summed while dW's product
      // packs dy): each column one float32 chain in k order from its old value, on every path —
      // panels packed from B's rows, rows ≥ 4 KiB apart (packed row by row), ragged columns, K in
      // several passes, skinny N ≤ 8 and M ≤ 8, K = 0, M = 0, split along M and along N at two
      // threads, both orientations of A and B, overwrite and accumulate, bf16 — and the product's
      // bits unchanged
      for (const [M, K, N] of [[33, 65, 130], [640, 128, 384], [130, 600, 97], [45, 2900, 70], [6, 40, 7], [5, 17, 300], [200, 64, 1100], [3, 0, 9], [0, 5, 6]] as const) {
        if (be.name === 'js' && M * N * K > 1e6) continue;
        it(`colSumsB: M=${M} K=${K} N=${N}, op(B)'s column sums in k order, the product's bits unchanged`, () => {
          const rng = testRng(M * 131 + K * 17 + N * 3);
          const A = rand(rng, M * K), B = rand(rng, K * N), C0 = rand(rng, M * N), start = rand(rng, N);
          const precisions = be.name === 'js' ? ['fp32'] as const : ['fp32', 'bf16'] as const;
          for (const transB of [false, true]) {
            const want = start.slice();   // op(B)[k][j] = B[k·N + j], or B[j·K + k] transposed
            for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) want[j] = Math.fround(want[j] + B[transB ? j * K + k : k * N + j]);
            for (const precision of precisions) {
              be.setMatmulPrecision(precision);
              try {
                for (const [transA, accumulate, threads] of [[false, false, 1], [true, true, 2], [true, false, 2], [false, true, 1]] as const) {
                  const plain = C0.slice();
                  withThreads(threads, () => be.matmul(plain, A, B, M, N, K, transA, transB, accumulate));
                  const got = C0.slice();
                  const whole = new Float32Array(N + 2).fill(-12345), sums = whole.subarray(1, N + 1);
                  sums.set(start);
                  withThreads(threads, () => be.matmul(got, A, B, M, N, K, transA, transB, accumulate, undefined, sums));
                  const what = `${precision} trans ${transA}/${transB} accumulate ${accumulate}, ${threads} thread(s)`;
                  expect(Array.from(sums), what).toEqual(Array.from(want));
                  expect([whole[0], whole[N + 1]], what).toEqual([-12345, -12345]);
                  expect(Buffer.from(got.buffer).equals(Buffer.from(plain.buffer)), `${what}: the product`).toBe(true);
                }
              } finally { be.setMatmulPrecision('fp32'); }
            }
          }
        });
      }

      // matmulPlus: a second product riding the first (LoRA's u Bᵀ on x W + b, du A on dy Wᵀ):
      // the bits of matmul, then matmul accumulating, on every path — blocked tiles and ragged
      // edges (rows and columns), K in several passes, skinny N ≤ 8 and M ≤ 8, K = 0, K2 = 0,
      // every orientation of both products, overwrite / accumulate / bias, threads 1 and 2, bf16
      for (const [M, K, N, K2] of [[33, 65, 130, 8], [640, 128, 384, 8], [130, 600, 97, 3], [45, 2900, 70, 8], [6, 40, 7, 8], [5, 17, 300, 2], [3, 0, 9, 4], [29, 31, 45, 0]] as const) {
        if (be.name === 'js' && M * N * (K + K2) > 1e6) continue;   // the js twin is the two calls themselves
        it(`matmulPlus: M=${M} K=${K} N=${N} K2=${K2}, the bits of two matmuls`, () => {
          const rng = testRng(M * 131 + K * 17 + N * 3 + K2);
          const A = rand(rng, M * K), B = rand(rng, K * N), A2 = rand(rng, M * K2), B2 = rand(rng, K2 * N), bias = rand(rng, N), C0 = rand(rng, M * N);
          const precisions = be.name === 'js' ? ['fp32'] as const : ['fp32', 'bf16'] as const;
          for (const precision of precisions) {
            be.setMatmulPrecision(precision);
            try {
              for (const [tA, tB, tA2, tB2] of [[false, false, false, true], [false, true, false, false], [true, false, true, true], [true, true, true, false]] as const) {
                for (const mode of ['overwrite', 'accumulate', 'bias'] as const) {
                  for (const threads of [1, 2]) {
                    const acc = mode === 'accumulate', b = mode === 'bias' ? bias : undefined;
                    const want = C0.slice();
                    withThreads(threads, () => {
                      be.matmul(want, A, B, M, N, K, tA, tB, acc, b);
                      be.matmul(want, A2, B2, M, N, K2, tA2, tB2, true);
                    });
                    const { view: got, whole } = offsetView(C0.slice());
                    withThreads(threads, () => be.matmulPlus(got, A, B, M, N, K, tA, tB, acc, b, A2, B2, K2, tA2, tB2));
                    expectSameBits(got, want, `${precision} ${tA ? 't' : 'n'}${tB ? 't' : 'n'} + ${tA2 ? 't' : 'n'}${tB2 ? 't' : 'n'} ${mode}, ${threads} thread(s)`);
                    expectPadsUntouched(whole, M * N);
                  }
                }
              }
            } finally { be.setMatmulPrecision('fp32'); }
          }
        });
      }

      // LoRA's weight gradients, `tn` with one side ≤ 8 (dA = duᵀ·x, dB = dyᵀ·u): the same bits as
      // the product on an explicitly transposed copy of A (another kernel), overwriting and
      // accumulating, one thread and two, wide sides past one 1024-column block and ragged
      for (const [M, K, N] of [[8, 41, 70], [3, 640, 1030], [70, 41, 8], [1030, 33, 5], [8, 7, 8]] as const) {
        it(`tn with a side ≤ 8: M=${M} K=${K} N=${N}, the bits of nn on Aᵀ`, () => {
          const rng = testRng(M * 13 + K * 5 + N);
          const A = rand(rng, K * M), B = rand(rng, K * N), C0 = rand(rng, M * N);
          const At = new Float32Array(M * K);
          for (let k = 0; k < K; k++) for (let i = 0; i < M; i++) At[i * K + k] = A[k * M + i];
          for (const accumulate of [false, true]) {
            for (const threads of [1, 2]) {
              const want = C0.slice(), got = C0.slice();
              withThreads(threads, () => be.matmul(want, At, B, M, N, K, false, false, accumulate));
              withThreads(threads, () => be.matmul(got, A, B, M, N, K, true, false, accumulate));
              expect(got, `accumulate=${accumulate}, ${threads} thread(s)`).toEqual(want);
            }
          }
        });
      }

      // a narrow product reads op(A) in place, a wide one packs it first (sgemm_driver.h): the
      // first columns of a wide product carry the narrow product's bits, every orientation,
      // overwriting, accumulating and with a bias, ragged rows, one thread and two
      for (const [M, K] of [[45, 128], [640, 136], [31, 700]] as const) {
        it(`op(A) read in place or packed: M=${M} K=${K}, the same bits`, () => {
          const rng = testRng(M * 3 + K);
          const N = 100, wide = 1056;   // N: three full B panels and a ragged one
          const A = rand(rng, M * K), Bw = rand(rng, K * wide), C0 = rand(rng, M * wide), bias = rand(rng, wide);
          for (const transB of [false, true]) {
            // op(B) (K, wide) stored (K, wide) or (wide, K); the narrow one is its first N columns
            const Bs = transB ? new Float32Array(wide * K) : Bw;
            if (transB) for (let k = 0; k < K; k++) for (let j = 0; j < wide; j++) Bs[j * K + k] = Bw[k * wide + j];
            const Bn = new Float32Array(K * N);
            for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) Bn[transB ? j * K + k : k * N + j] = Bw[k * wide + j];
            for (const mode of ['overwrite', 'accumulate', 'bias'] as const) {
              for (const threads of [1, 2]) {
                const Cw = C0.slice(), Cn = new Float32Array(M * N);
                for (let i = 0; i < M; i++) Cn.set(C0.subarray(i * wide, i * wide + N), i * N);
                const acc = mode === 'accumulate';
                withThreads(threads, () => be.matmul(Cw, A, Bs, M, wide, K, false, transB, acc, mode === 'bias' ? bias : undefined));
                withThreads(threads, () => be.matmul(Cn, A, Bn, M, N, K, false, transB, acc, mode === 'bias' ? bias.subarray(0, N) : undefined));
                const first = new Float32Array(M * N);
                for (let i = 0; i < M; i++) first.set(Cw.subarray(i * wide, i * wide + N), i * N);
                expect(Cn, `transB=${transB} ${mode}, ${threads} thread(s)`).toEqual(first);
              }
            }
          }
        });
      }

      // a last row panel of 1–13 rows (the AVX-512 kernel's 14-row panels) computes only its
      // rows: each row's bits as when it sits in a full panel of a taller product
      it('a ragged last row panel of every height: the bits of the same rows in full panels', () => {
        const rng = testRng(1413);
        const K = 37, tall = 28;
        for (const N of [64, 80]) {   // whole 32-column panels; and a ragged one
          const At = rand(rng, tall * K), B = rand(rng, K * N), C0 = rand(rng, tall * N), bias = rand(rng, N);
          const AtT = new Float32Array(K * tall);   // op(A) = Aᵀ stored (K, tall)
          for (let i = 0; i < tall; i++) for (let k = 0; k < K; k++) AtT[k * tall + i] = At[i * K + k];
          for (let M = 15; M < tall; M++) {
            const AT = new Float32Array(K * M);
            for (let k = 0; k < K; k++) AT.set(AtT.subarray(k * tall, k * tall + M), k * M);
            for (const transA of [false, true]) {
              for (const mode of ['overwrite', 'accumulate', 'bias'] as const) {
                const acc = mode === 'accumulate', b = mode === 'bias' ? bias : undefined;
                const Ct = C0.slice(), C = C0.slice(0, M * N);
                be.matmul(Ct, transA ? AtT : At, B, tall, N, K, transA, false, acc, b);
                be.matmul(C, transA ? AT : At.subarray(0, M * K), B, M, N, K, transA, false, acc, b);
                expect(C, `M=${M} N=${N} transA=${transA} ${mode}`).toEqual(Ct.subarray(0, M * N));
              }
            }
          }
        }
      });

      it('bias with accumulate, or a bias or colSumsB shorter than N, is an error', () => {
        const C = new Float32Array(6);
        expect(() => be.matmul(C, new Float32Array(4), new Float32Array(6), 2, 3, 2, false, false, true, new Float32Array(3))).toThrow(/bias/);
        expect(() => be.matmul(C, new Float32Array(4), new Float32Array(6), 2, 3, 2, false, false, false, new Float32Array(2))).toThrow(/bias/);
        const sums = new Float32Array(2).fill(7);
        expect(() => be.matmul(C, new Float32Array(4), new Float32Array(6), 2, 3, 2, false, false, false, undefined, sums)).toThrow(/colSumsB/);
        expect(Array.from(sums)).toEqual([7, 7]);
      });

      it('K = 0 gives zeros (overwrite) or leaves C (accumulate)', () => {
        const C = new Float32Array(6).fill(3);
        be.matmul(C, new Float32Array(0), new Float32Array(0), 2, 3, 0, false, false, true);
        expect(Array.from(C)).toEqual([3, 3, 3, 3, 3, 3]);
        be.matmul(C, new Float32Array(0), new Float32Array(0), 2, 3, 0, false, false, false);
        expect(Array.from(C)).toEqual([0, 0, 0, 0, 0, 0]);
      });

      it('subarray views with nonzero byteOffset; nothing outside C is written', () => {
        const rng = testRng(42);
        const [M, K, N] = [33, 65, 17];
        const A = offsetView(rand(rng, M * K), 3), B = offsetView(rand(rng, K * N), 7);
        const C = offsetView(rand(rng, M * N), 5);
        const want = f64(C.view);
        ref.matmul(want, f64(A.view), f64(B.view), M, N, K, false, true, true);
        be.matmul(C.view, A.view, B.view, M, N, K, false, true, true);
        expectClose(C.view, want, tolSum(K), 'matmul on views');
        expectPadsUntouched(C.whole, M * N, 5);
      });

      it('threads = 2 agrees with threads = 1 and with the oracle on every orientation', () => {
        const rng = testRng(7);
        const [M, K, N] = [130, 257, 65];  // M·N·K above the parallel threshold
        const A = rand(rng, M * K), B = rand(rng, K * N);
        for (const [tA, tB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
          const want = new Float64Array(M * N);
          ref.matmul(want, f64(A), f64(B), M, N, K, tA, tB, false);
          const one = new Float32Array(M * N), two = new Float32Array(M * N);
          withThreads(1, () => be.matmul(one, A, B, M, N, K, tA, tB, false));
          withThreads(2, () => be.matmul(two, A, B, M, N, K, tA, tB, false));
          expectClose(two, want, tolSum(K), 'threads=2 vs oracle');
          expectClose(two, one, tolSum(K), 'threads=2 vs threads=1');
        }
        // a wide problem (split along N rather than M)
        const [m, k, n] = [17, 130, 2048];
        const a = rand(rng, m * k), b = rand(rng, k * n);
        const want = new Float64Array(m * n);
        ref.matmul(want, f64(a), f64(b), m, n, k, false, false, false);
        const got = new Float32Array(m * n);
        withThreads(2, () => be.matmul(got, a, b, m, n, k, false, false, false));
        expectClose(got, want, tolSum(k), 'wide matmul, threads=2');
      });
    });

    // ---------------------------------------------------------------- matmul, bf16 precision
    // Spec: the product of the operands rounded to bf16, accumulated in fp32. Products of two
    // bf16 are exact in fp32, so against the float64 oracle on pre-rounded operands only the
    // summation order differs: the fp32 tolerance holds. K crosses the bf16 kernels' depth
    // blocks (512) and their padding (odd K, K mod 32 ≠ 0); M, N are not multiples of any tile.
    describe('matmul, bf16 precision', () => {
      function withBf16<T>(fn: () => T): T {
        const before = be.matmulMode.precision;
        be.setMatmulPrecision('bf16');
        try { return fn(); } finally { be.setMatmulPrecision(before); }
      }
      const shapes: [number, number, number][] = [[1, 1, 1], [3, 17, 33], [33, 65, 130], [45, 1025, 37]];
      for (const [M, K, N] of shapes) {
        it(`all orientations M=${M} K=${K} N=${N}, overwrite and accumulate, against the oracle on bf16-rounded operands`, () => {
          const rng = testRng(M * 7919 + K * 31 + N);
          const A = rand(rng, M * K), B = rand(rng, K * N), C0 = rand(rng, M * N);
          const Ar = f64(roundToBf16(A)), Br = f64(roundToBf16(B));
          for (const [tA, tB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
            for (const accumulate of [false, true]) {
              const want = f64(C0);
              ref.matmul(want, Ar, Br, M, N, K, tA, tB, accumulate);
              const got = C0.slice();
              const mode = withBf16(() => { be.matmul(got, A, B, M, N, K, tA, tB, accumulate); return be.matmulMode; });
              const what = `bf16 (${mode.kernel}) ${tA ? 't' : 'n'}${tB ? 't' : 'n'} accumulate=${accumulate}`;
              if (mode.kernel === 'fp32') continue;   // no bf16 path on this CPU: fp32, checked above
              expectClose(got, want, tolSum(K), what);
            }
          }
        });
      }

      it('rounds its operands: differs from fp32 by bf16, not fp32, rounding; fp32 is bit-identical before and after', () => {
        const rng = testRng(99);
        const [M, K, N] = [40, 300, 50];
        const A = rand(rng, M * K), B = rand(rng, K * N);
        const fp32a = new Float32Array(M * N), fp32b = new Float32Array(M * N), bf = new Float32Array(M * N);
        be.matmul(fp32a, A, B, M, N, K, false, false, false);
        const mode = withBf16(() => { be.matmul(bf, A, B, M, N, K, false, false, false); return be.matmulMode; });
        be.matmul(fp32b, A, B, M, N, K, false, false, false);
        expect(Array.from(fp32b)).toEqual(Array.from(fp32a));
        expect(be.matmulMode.precision).toBe('fp32');
        if (mode.kernel === 'fp32') return;
        // bf16 keeps 8 significant bits: relative error ~2^-9 per operand, far above fp32's
        expect(relErr(bf, fp32a)).toBeGreaterThan(1e-4);
        expect(relErr(bf, fp32a)).toBeLessThan(2e-2);
      });

      // freezeOperands: a frozen B is converted and packed once per orientation and shape, and
      // the products read that: the bits of the same product on an unfrozen copy, on every path
      // (ragged tiles, K in two passes, skinny shapes, K = 0), every orientation, overwrite /
      // accumulate / bias, matmulPlus, threads 1 and 2; and fp32 unaffected
      // ([700, 400, 340]: at two threads the unfrozen product packs B once for both halves of M)
      for (const [M, K, N] of [[33, 65, 130], [640, 128, 384], [130, 600, 97], [45, 2900, 70], [700, 400, 340], [5, 17, 300], [6, 40, 7], [3, 0, 9]] as const) {
        if (be.name === 'js' && M * N * K > 1e6) continue;   // js packs nothing: the small shapes show it
        it(`freezeOperands: M=${M} K=${K} N=${N}, the bits of the unfrozen product, bf16 and fp32`, () => {
          const rng = testRng(M * 37 + K * 11 + N);
          const A = rand(rng, M * K), B = rand(rng, K * N), bias = rand(rng, N), C0 = rand(rng, M * N);
          const A2 = rand(rng, M * 8), B2 = rand(rng, 8 * N), copy = B.slice();
          const release = be.freezeOperands([B]);
          try {
            for (const precision of ['bf16', 'fp32'] as const) {
              be.setMatmulPrecision(precision);
              for (const [tA, tB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
                for (const mode of ['overwrite', 'accumulate', 'bias'] as const) {
                  for (const threads of [1, 2]) {
                    const acc = mode === 'accumulate', b = mode === 'bias' ? bias : undefined;
                    const what = `${be.matmulMode.kernel} ${tA ? 't' : 'n'}${tB ? 't' : 'n'} ${mode}, ${threads} thread(s)`;
                    const want = C0.slice(), got = C0.slice();
                    withThreads(threads, () => { be.matmul(want, A, copy, M, N, K, tA, tB, acc, b); be.matmul(got, A, B, M, N, K, tA, tB, acc, b); });
                    expectSameBits(got, want, what);
                    const wantPlus = C0.slice(), gotPlus = C0.slice();
                    withThreads(threads, () => {
                      be.matmulPlus(wantPlus, A, copy, M, N, K, tA, tB, acc, b, A2, B2, 8, false, tB);
                      be.matmulPlus(gotPlus, A, B, M, N, K, tA, tB, acc, b, A2, B2, 8, false, tB);
                    });
                    expectSameBits(gotPlus, wantPlus, `matmulPlus ${what}`);
                  }
                }
              }
            }
          } finally { release(); be.setMatmulPrecision('fp32'); }
        });
      }

      it('freezeOperands: the packed form is what a frozen product reads (a write to B is not seen until the release); fp32 reads B', () => {
        const rng = testRng(7);
        const [M, K, N] = [40, 300, 50];
        const A = rand(rng, M * K), B = rand(rng, K * N);
        const product = () => { const C = new Float32Array(M * N); be.matmul(C, A, B, M, N, K, false, true, false); return C; };
        const release = be.freezeOperands([B, B]);   // a buffer named twice is held once
        try {
          const kernel = withBf16(() => be.matmulMode.kernel);
          const before = withBf16(product);
          B.fill(0);
          const afterWrite = withBf16(product);
          expect(Array.from(product()).every((x) => x === 0), 'fp32 reads B as it is').toBe(true);
          if (be.name === 'js' || kernel === 'fp32') expect(Array.from(afterWrite).every((x) => x === 0)).toBe(true);
          else expectSameBits(afterWrite, before, `${kernel}: the packed B, not the written one`);
        } finally { release(); }
        release();   // a second release changes nothing
        expect(Array.from(withBf16(product)).every((x) => x === 0), 'after the release B is read again').toBe(true);
        // holds nest: B frozen twice stays frozen until the last release
        B.set(rand(testRng(8), K * N));
        const r1 = be.freezeOperands([B]), r2 = be.freezeOperands([B]);
        const held = withBf16(product);
        r1();
        B.fill(0);
        const stillHeld = withBf16(product);
        r2();
        if (be.name !== 'js' && withBf16(() => be.matmulMode.kernel) !== 'fp32') expectSameBits(stillHeld, held, 'held by the second declaration');
        expect(Array.from(withBf16(product)).every((x) => x === 0), 'released by both').toBe(true);
      });

      it('K = 0, views at nonzero offsets, threads = 2', () => {
        withBf16(() => {
          const C = new Float32Array(6).fill(3);
          be.matmul(C, new Float32Array(0), new Float32Array(0), 2, 3, 0, false, false, true);
          expect(Array.from(C)).toEqual([3, 3, 3, 3, 3, 3]);
          be.matmul(C, new Float32Array(0), new Float32Array(0), 2, 3, 0, false, false, false);
          expect(Array.from(C)).toEqual([0, 0, 0, 0, 0, 0]);

          const rng = testRng(43);
          const [M, K, N] = [33, 65, 17];
          const A = offsetView(rand(rng, M * K), 3), B = offsetView(rand(rng, K * N), 7);
          const Cv = offsetView(rand(rng, M * N), 5);
          const want = f64(Cv.view);
          ref.matmul(want, f64(roundToBf16(A.view)), f64(roundToBf16(B.view)), M, N, K, false, true, true);
          be.matmul(Cv.view, A.view, B.view, M, N, K, false, true, true);
          if (be.matmulMode.kernel !== 'fp32') expectClose(Cv.view, want, tolSum(K), 'bf16 matmul on views');
          expectPadsUntouched(Cv.whole, M * N, 5);

          const [m, k, n] = [130, 257, 65];
          const a = rand(rng, m * k), b = rand(rng, k * n);
          for (const [tA, tB] of [[false, false], [true, true]] as const) {
            const w = new Float64Array(m * n);
            ref.matmul(w, f64(roundToBf16(a)), f64(roundToBf16(b)), m, n, k, tA, tB, false);
            const two = new Float32Array(m * n);
            withThreads(2, () => be.matmul(two, a, b, m, n, k, tA, tB, false));
            if (be.matmulMode.kernel !== 'fp32') expectClose(two, w, tolSum(k), 'bf16 threads=2 vs oracle');
          }
        });
      });
    });

    // ---------------------------------------------------------------- norms
    describe('layernorm', () => {
      const cases: [string, number, number, number][] = [  // label, N, C, row offset
        ['C=7', 5, 7, 0], ['B·T=1', 1, 64, 0], ['C=768', 9, 768, 0.3], ['near-constant rows', 6, 33, 5],
      ];
      for (const [label, N, C, offset] of cases) {
        it(`forward and backward, ${label}`, () => {
          const rng = testRng(N * 31 + C);
          // near-constant rows: 5 ± 1e-3 tells (x − mean)·rstd from x·rstd − mean·rstd and std+eps from sqrt(var+eps)
          const spread = label === 'near-constant rows' ? 1e-3 : 1;
          const inp = rand(rng, N * C, spread, offset), w = rand(rng, C, 1, 0.5), b = rand(rng, C);
          const eps = 1e-5;
          const out = new Float32Array(N * C), mean = new Float32Array(N), rstd = new Float32Array(N);
          const oW = new Float64Array(N * C), mW = new Float64Array(N), rW = new Float64Array(N);
          be.layernormForward(out, mean, rstd, inp, w, b, N, C, eps);
          ref.layernormForward(oW, mW, rW, f64(inp), f64(w), f64(b), N, C, eps);
          expectClose(mean, mW, tolSum(C), 'mean');
          expectClose(rstd, rW, tolSum(C), 'rstd');
          expectClose(out, oW, tolSum(C), 'out');
          // backward from the same saved statistics (float32 mean/rstd for both)
          const dout = rand(rng, N * C);
          const dinp = rand(rng, N * C), dw = rand(rng, C), db = rand(rng, C);
          const dinpW = f64(dinp), dwW = f64(dw), dbW = f64(db);
          be.layernormBackward(dinp, dw, db, dout, inp, w, mean, rstd, N, C);
          ref.layernormBackward(dinpW, dwW, dbW, f64(dout), f64(inp), f64(w), f64(mean), f64(rstd), N, C);
          expectClose(dinp, dinpW, tolSum(C), 'dinp');
          expectClose(dw, dwW, tolSum(N), 'dweight');
          expectClose(db, dbW, tolSum(N), 'dbias');
        });
      }
    });

    describe('rmsnorm', () => {
      for (const [N, C] of [[5, 7], [1, 64], [9, 768]] as const) {
        it(`forward and backward, N=${N} C=${C}`, () => {
          const rng = testRng(N * 17 + C);
          const inp = rand(rng, N * C, 2), w = rand(rng, C, 1, 0.5);
          const out = new Float32Array(N * C), rstd = new Float32Array(N);
          const oW = new Float64Array(N * C), rW = new Float64Array(N);
          be.rmsnormForward(out, rstd, inp, w, N, C, 1e-6);
          ref.rmsnormForward(oW, rW, f64(inp), f64(w), N, C, 1e-6);
          expectClose(rstd, rW, tolSum(C), 'rstd');
          expectClose(out, oW, tolSum(C), 'out');
          const dout = rand(rng, N * C), dinp = rand(rng, N * C), dw = rand(rng, C);
          const dinpW = f64(dinp), dwW = f64(dw);
          be.rmsnormBackward(dinp, dw, dout, inp, w, rstd, N, C);
          ref.rmsnormBackward(dinpW, dwW, f64(dout), f64(inp), f64(w), f64(rstd), N, C);
          expectClose(dinp, dinpW, tolSum(C), 'dinp');
          expectClose(dw, dwW, tolSum(N), 'dweight');
        });
      }

      it('large N with threads = 2 (parameter grads summed across threads)', () => {
        const rng = testRng(99);
        const [N, C] = [256, 200];
        const inp = rand(rng, N * C), w = rand(rng, C), dout = rand(rng, N * C);
        const mean = new Float32Array(N), rstd = new Float32Array(N), out = new Float32Array(N * C);
        const b = rand(rng, C);
        withThreads(2, () => be.layernormForward(out, mean, rstd, inp, w, b, N, C, 1e-5));
        const dinp = new Float32Array(N * C), dw = new Float32Array(C), db = new Float32Array(C);
        withThreads(2, () => be.layernormBackward(dinp, dw, db, dout, inp, w, mean, rstd, N, C));
        const dinpW = new Float64Array(N * C), dwW = new Float64Array(C), dbW = new Float64Array(C);
        ref.layernormBackward(dinpW, dwW, dbW, f64(dout), f64(inp), f64(w), f64(mean), f64(rstd), N, C);
        expectClose(dinp, dinpW, tolSum(C), 'dinp');
        expectClose(dw, dwW, tolSum(N), 'dweight');
        expectClose(db, dbW, tolSum(N), 'dbias');
        const rs = new Float32Array(N), dinp2 = new Float32Array(N * C), dw2 = new Float32Array(C);
        withThreads(2, () => be.rmsnormForward(out, rs, inp, w, N, C, 1e-6));
        withThreads(2, () => be.rmsnormBackward(dinp2, dw2, dout, inp, w, rs, N, C));
        const d2W = new Float64Array(N * C), dw2W = new Float64Array(C);
        ref.rmsnormBackward(d2W, dw2W, f64(dout), f64(inp), f64(w), f64(rs), N, C);
        expectClose(dinp2, d2W, tolSum(C), 'rms dinp');
        expectClose(dw2, dw2W, tolSum(N), 'rms dweight');
      });
    });

    // ---------------------------------------------------------------- activations
    describe('gelu / silu', () => {
      for (const n of [1, 7, 1000, 70001]) {  // 70001: above the parallel threshold, odd tail
        it(`forward and backward, n=${n}`, () => {
          const rng = testRng(n);
          const inp = rand(rng, n, 6), dout = rand(rng, n);
          for (const [fwd, bwd] of [['geluForward', 'geluBackward'], ['siluForward', 'siluBackward']] as const) {
            const out = new Float32Array(n), outW = new Float64Array(n);
            be[fwd](out, inp, n);
            ref[fwd](outW, f64(inp), n);
            expectClose(out, outW, TOL_ELEM, fwd);
            const dinp = rand(rng, n), dinpW = f64(dinp);
            withThreads(2, () => be[bwd](dinp, inp, dout, n, true));
            ref[bwd](dinpW, f64(inp), f64(dout), n, true);
            expectClose(dinp, dinpW, TOL_ELEM, bwd);
            // accumulate false: written, whatever dinp held (NaN here) unread; the same bits as adding into zeros
            const written = new Float32Array(n).fill(NaN), added = new Float32Array(n);
            withThreads(2, () => be[bwd](written, inp, dout, n, false));
            be[bwd](added, inp, dout, n, true);
            expect(written).toEqual(added);
          }
        });
      }

      it('tails: large |x| and tiny x', () => {
        const inp = Float32Array.from([-100, -30, -10, -1e-3, -1e-20, 0, 1e-20, 1e-3, 10, 30, 100]);
        const n = inp.length;
        for (const fwd of ['geluForward', 'siluForward'] as const) {
          const out = new Float32Array(n), outW = new Float64Array(n);
          be[fwd](out, inp, n);
          ref[fwd](outW, f64(inp), n);
          for (let i = 0; i < n; i++) expect(Math.abs(out[i] - outW[i])).toBeLessThanOrEqual(TOL_ELEM * Math.max(1, Math.abs(outW[i])));
        }
      });
    });

    // ---------------------------------------------------------------- softmax
    describe('softmax', () => {
      for (const [N, C, scale] of [[1, 7, 1], [5, 33, 1], [4, 257, 80], [3, 1, 80]] as const) {
        it(`forward and backward, N=${N} C=${C} logits ±${scale}`, () => {
          const rng = testRng(N * C + scale);
          const inp = rand(rng, N * C, scale);
          const out = new Float32Array(N * C), outW = new Float64Array(N * C);
          be.softmaxForward(out, inp, N, C);
          ref.softmaxForward(outW, f64(inp), N, C);
          expectClose(out, outW, tolSum(C), 'softmax');
          const dout = rand(rng, N * C), dinp = rand(rng, N * C), dinpW = f64(dinp);
          be.softmaxBackward(dinp, out, dout, N, C);
          ref.softmaxBackward(dinpW, f64(out), f64(dout), N, C);
          expectClose(dinp, dinpW, tolSum(C), 'd softmax');
        });
      }
    });

    // ---------------------------------------------------------------- elementwise add
    describe('addBuffers', () => {
      for (const n of [0, 1, 31, 70_001]) {
        it(`n=${n}: out = a + b, also in place (out = a), at 1 and 2 threads`, () => {
          const rng = testRng(n + 11);
          const A = rand(rng, n), B = rand(rng, n);
          const want = Float32Array.from(A, (x, i) => x + B[i]);
          for (const threads of [1, 2]) {
            const whole = new Float32Array(n + 2).fill(-12345), out = whole.subarray(1, n + 1);
            withThreads(threads, () => be.addBuffers(out, A, B, n));
            expect(Array.from(out)).toEqual(Array.from(want));
            expect(whole[0]).toBe(-12345);
            expect(whole[n + 1]).toBe(-12345);
            const inPlace = A.slice();
            withThreads(threads, () => be.addBuffers(inPlace, inPlace, B, n));
            expect(Array.from(inPlace)).toEqual(Array.from(want));
          }
        });
      }
    });

    // ---------------------------------------------------------------- column sums
    describe('addColumnSums', () => {
      for (const [N, C] of [[0, 5], [1, 1], [3, 17], [37, 64], [129, 200], [2048, 384]] as const) {
        it(`N=${N} C=${C}: each column one float32 chain in row order, at 1 and 2 threads`, () => {
          const rng = testRng(N + 7 * C);
          const inp = rand(rng, N * C), start = rand(rng, C);
          // the spec: a float32 add per row, rows in order, from out's value
          const want = start.slice();
          for (let i = 0; i < N; i++) for (let j = 0; j < C; j++) want[j] = Math.fround(want[j] + inp[i * C + j]);
          for (const threads of [1, 2]) {
            const whole = new Float32Array(C + 2).fill(-12345), out = whole.subarray(1, C + 1);
            out.set(start);
            withThreads(threads, () => be.addColumnSums(out, inp, N, C));
            expect(Array.from(out)).toEqual(Array.from(want));
            expect(whole[0]).toBe(-12345);
            expect(whole[C + 1]).toBe(-12345);
          }
        });
      }
    });

    // ---------------------------------------------------------------- embeddings
    describe('embeddingForward / embeddingBackward', () => {
      for (const [N, C, V] of [[0, 4, 3], [1, 1, 1], [37, 17, 5], [640, 128, 1024], [300, 200, 7]] as const) {
        it(`N=${N} C=${C} V=${V}: rows gathered; repeated ids scattered back as one float32 chain in order, at 1 and 2 threads`, () => {
          const rng = testRng(N + 3 * C + 11 * V);
          const weight = rand(rng, V * C), dout = rand(rng, N * C), start = rand(rng, V * C);
          const ids = Int32Array.from({ length: N }, () => Math.floor(rng() * V));
          const want = new Float32Array(N * C);
          for (let i = 0; i < N; i++) want.set(weight.subarray(ids[i] * C, (ids[i] + 1) * C), i * C);
          const wantGrad = start.slice();
          for (let i = 0; i < N; i++) for (let c = 0; c < C; c++) wantGrad[ids[i] * C + c] = Math.fround(wantGrad[ids[i] * C + c] + dout[i * C + c]);
          for (const threads of [1, 2]) {
            const { view: out, whole } = offsetView(new Float32Array(N * C));
            withThreads(threads, () => be.embeddingForward(out, weight, ids, N, C, V));
            expect(out).toEqual(want);
            expectPadsUntouched(whole, N * C);
            const { view: dw, whole: dwWhole } = offsetView(start);
            withThreads(threads, () => be.embeddingBackward(dw, dout, ids, N, C, V));
            expect(dw).toEqual(wantGrad);
            expectPadsUntouched(dwWhole, V * C);
          }
        });
      }

      it('an id outside [0, V) is a RangeError before anything is written', () => {
        const weight = new Float32Array(6).fill(1), out = new Float32Array(6), dw = new Float32Array(6);
        for (const bad of [-1, 3]) {
          const ids = Int32Array.from([0, bad, 1]);
          expect(() => be.embeddingForward(out, weight, ids, 3, 2, 3)).toThrow(RangeError);
          expect(() => be.embeddingBackward(dw, weight, ids, 3, 2, 3)).toThrow(/ids\[1\]/);
          expect(Array.from(out)).toEqual([0, 0, 0, 0, 0, 0]);
          expect(Array.from(dw)).toEqual([0, 0, 0, 0, 0, 0]);
        }
      });
    });

    // ---------------------------------------------------------------- attention
    describe('attention', () => {
      type Case = { label: string; B: number; T: number; nh: number; nkv: number; hs: number; packed: boolean; pad?: number };
      const cases: Case[] = [
        { label: 'MHA, T=1', B: 2, T: 1, nh: 2, nkv: 2, hs: 8, packed: false },
        { label: 'MHA, packed qkv', B: 2, T: 17, nh: 3, nkv: 3, hs: 7, packed: true },
        { label: 'GQA nh=4 nkv=2, packed qkv with 3 more columns a row', B: 2, T: 33, nh: 4, nkv: 2, hs: 16, packed: true, pad: 3 },
        { label: 'MQA nh=4 nkv=1', B: 1, T: 65, nh: 4, nkv: 1, hs: 8, packed: false },
      ];
      for (const c of cases) {
        it(`forward and backward, ${c.label}`, () => {
          const { B, T, nh, nkv, hs, packed } = c;
          const rng = testRng(B * 7 + T * 13 + nh * 17 + nkv);
          const C = nh * hs, Ckv = nkv * hs;
          // packed: one (B·T, C + 2·Ckv) buffer with q, k, v side by side; else three buffers
          const width = packed ? C + 2 * Ckv + (c.pad ?? 0) : 0;
          const qStride = packed ? width : C, kvStride = packed ? width : Ckv;
          const BT = B * T;
          const views = (buf: Float32Array | Float64Array): [Buf, Buf, Buf] =>
            packed ? [buf, buf.subarray(C), buf.subarray(C + Ckv)] : [buf.subarray(0, BT * C), buf.subarray(BT * C, BT * (C + Ckv)), buf.subarray(BT * (C + Ckv))];
          const total = packed ? BT * width : BT * (C + 2 * Ckv);
          const qkv = rand(rng, total, 2), qkvW = f64(qkv);
          const out = new Float32Array(BT * C), att = new Float32Array(B * nh * T * T).fill(7);
          const outW = new Float64Array(BT * C), attW = new Float64Array(B * nh * T * T);
          withThreads(2, () => be.attentionForward(out, att, ...views(qkv), B, T, nh, nkv, hs, qStride, kvStride));
          ref.attentionForward(outW, attW, ...views(qkvW), B, T, nh, nkv, hs, qStride, kvStride);
          expectClose(att, attW, tolSum(hs), 'att');
          expectClose(out, outW, tolSum(T * hs), 'out');
          const dout = rand(rng, BT * C);
          // accumulate: added into what the buffers held
          const dqkv = rand(rng, total), dqkvW = f64(dqkv);
          withThreads(2, () => be.attentionBackward(...views(dqkv), dout, att, ...views(qkv), B, T, nh, nkv, hs, qStride, kvStride, true));
          ref.attentionBackward(...views(dqkvW), f64(dout), f64(att), ...views(qkvW), B, T, nh, nkv, hs, qStride, kvStride, true);
          expectClose(dqkv, dqkvW, tolSum(T * hs), 'dq, dk, dv');
          // written: the heads' slices hold the gradient alone (the NaNs there unread), a packed row's pad columns keep theirs
          const isHead = (i: number) => !packed || i % width < C + 2 * Ckv;
          const written = Float32Array.from({ length: total }, (_, i) => (isHead(i) ? NaN : 5));
          const fromZero = new Float64Array(total).map((_, i) => (isHead(i) ? 0 : 5));
          for (const threads of [1, 2]) {
            const got = written.slice();
            withThreads(threads, () => be.attentionBackward(...views(got), dout, att, ...views(qkv), B, T, nh, nkv, hs, qStride, kvStride, false));
            const want = fromZero.slice();
            ref.attentionBackward(...views(want), f64(dout), f64(att), ...views(qkvW), B, T, nh, nkv, hs, qStride, kvStride, true);
            expectClose(got, want, tolSum(T * hs), `dq, dk, dv written, ${threads} threads`);
            // the bits of adding into zeros
            const added = new Float32Array(total).map((_, i) => (isHead(i) ? 0 : 5));
            withThreads(threads, () => be.attentionBackward(...views(added), dout, att, ...views(qkv), B, T, nh, nkv, hs, qStride, kvStride, true));
            expect(got).toEqual(added);
          }
        });
      }
    });

    // ---------------------------------------------------------------- cross-entropy
    describe('crossEntropy', () => {
      for (const [N, V, scale] of [[1, 7, 1], [6, 33, 80], [64, 1000, 4]] as const) {
        it(`forward and backward, N=${N} V=${V} logits ±${scale}, ignore_index rows`, () => {
          const rng = testRng(N * V + scale);
          const ignoreIndex = -100;
          const logits = rand(rng, N * V, scale);
          const targets = new Int32Array(N);
          for (let i = 0; i < N; i++) targets[i] = i % 3 === 2 ? ignoreIndex : Math.floor(rng() * V);
          const losses = new Float32Array(N).fill(9), probs = new Float32Array(N * V);
          const lossesW = new Float64Array(N), probsW = new Float64Array(N * V);
          withThreads(2, () => be.crossEntropyForward(losses, probs, logits, targets, N, V, ignoreIndex));
          ref.crossEntropyForward(lossesW, probsW, f64(logits), targets, N, V, ignoreIndex);
          expectClose(probs, probsW, tolSum(V), 'probs');
          // the loss is log Σ e^(x − max) + max − x_t: error relative to the logits' size
          for (let i = 0; i < N; i++) {
            expect(Math.abs(losses[i] - lossesW[i])).toBeLessThanOrEqual(tolSum(V) * (scale + Math.abs(lossesW[i])));
            if (targets[i] === ignoreIndex) expect(losses[i]).toBe(0);
          }
          const dlosses = rand(rng, N, 1, 1), dlogits = rand(rng, N * V), dlogitsW = f64(dlogits);
          const before = dlogits.slice();
          withThreads(2, () => be.crossEntropyBackward(dlogits, probs, targets, dlosses, N, V, ignoreIndex, true));
          ref.crossEntropyBackward(dlogitsW, f64(probs), targets, f64(dlosses), N, V, ignoreIndex, true);
          expectClose(dlogits, dlogitsW, TOL_ELEM, 'dlogits');
          for (let i = 0; i < N; i++) {
            if (targets[i] === ignoreIndex) expect(dlogits.subarray(i * V, (i + 1) * V)).toEqual(before.subarray(i * V, (i + 1) * V));
          }
          // not accumulating: the bits of adding into zeros, written over whatever the buffer held
          // or over the probabilities themselves (the tensor op's in-place first gradient)
          const intoZeros = new Float32Array(N * V), written = rand(rng, N * V), inPlace = probs.slice();
          withThreads(2, () => be.crossEntropyBackward(intoZeros, probs, targets, dlosses, N, V, ignoreIndex, true));
          withThreads(2, () => be.crossEntropyBackward(written, probs, targets, dlosses, N, V, ignoreIndex, false));
          withThreads(2, () => be.crossEntropyBackward(inPlace, inPlace, targets, dlosses, N, V, ignoreIndex, false));
          expect(Buffer.from(written.buffer).equals(Buffer.from(intoZeros.buffer)), 'written').toBe(true);
          expect(Buffer.from(inPlace.buffer).equals(Buffer.from(intoZeros.buffer)), 'in place').toBe(true);
        });
      }
    });

    // ---------------------------------------------------------------- adamw
    describe('adamwStep on one tensor', () => {
      for (const t of [1, 10, 1000]) {
        it(`one step at t=${t}, n=1001`, () => {
          const rng = testRng(t);
          const n = 1001;
          const p = rand(rng, n), g = rand(rng, n, 0.1), m = rand(rng, n, 0.01);
          const v = Float32Array.from(rand(rng, n, 1e-4), (x) => Math.abs(x));
          const pW = f64(p), mW = f64(m), vW = f64(v);
          be.adamwStep([p], [g], [m], [v], [0.1], 1e-3, 0.9, 0.999, 1e-8, t, 1);
          ref.adamwStep([pW], [f64(g)], [mW], [vW], [0.1], 1e-3, 0.9, 0.999, 1e-8, t, 1);
          expectClose(p, pW, TOL_ELEM, 'param');
          expectClose(m, mW, TOL_ELEM, 'm');
          expectClose(v, vW, TOL_ELEM, 'v');
        });
      }
    });

    describe('adamwStep (every tensor in one call)', () => {
      // sizes that put thread boundaries inside tensors, plus an empty one and a single element
      const sizes = [1001, 0, 7, 65_537, 1, 40_000];
      for (const gradScale of [1, 0.37]) {
        it(`the bits of scaleInPlace then a one-tensor step per tensor, gradScale ${gradScale}, at 1 and 2 threads`, () => {
          const rng = testRng(sizes.length + (gradScale === 1 ? 0 : 1));
          const make = () => sizes.map((n) => ({ p: rand(rng, n), g: rand(rng, n, 0.1), m: rand(rng, n, 0.01), v: Float32Array.from(rand(rng, n, 1e-4), (x) => Math.abs(x)) }));
          const base = make(), wds = sizes.map((_, i) => (i % 2 === 0 ? 0.1 : 0));
          const copy = () => base.map((x) => ({ p: x.p.slice(), g: x.g.slice(), m: x.m.slice(), v: x.v.slice() }));
          const want = copy();
          want.forEach((x, i) => {
            if (gradScale !== 1) be.scaleInPlace(x.g, x.g.length, gradScale);
            be.adamwStep([x.p], [x.g], [x.m], [x.v], [wds[i]], 1e-3, 0.9, 0.999, 1e-8, 7, 1);
          });
          for (const threads of [1, 2]) {
            const got = copy();
            withThreads(threads, () => be.adamwStep(got.map((x) => x.p), got.map((x) => x.g), got.map((x) => x.m), got.map((x) => x.v), wds, 1e-3, 0.9, 0.999, 1e-8, 7, gradScale));
            got.forEach((x, i) => {
              for (const k of ['p', 'g', 'm', 'v'] as const) expect(x[k], `tensor ${i} ${k}, ${threads} thread(s)`).toEqual(want[i][k]);
            });
          }
        });
      }

      it('mismatched entries or lengths are errors, before anything is updated', () => {
        const p = new Float32Array(4).fill(1), g = new Float32Array(4).fill(1), m = new Float32Array(4), v = new Float32Array(3);
        expect(() => be.adamwStep([p], [g], [m], [v], [0], 1e-3, 0.9, 0.999, 1e-8, 1, 1)).toThrow(/v\[0\]/);
        expect(() => be.adamwStep([p], [g], [m], [], [0], 1e-3, 0.9, 0.999, 1e-8, 1, 1)).toThrow(/entries/);
        expect(Array.from(p)).toEqual([1, 1, 1, 1]);
        expect(Array.from(m)).toEqual([0, 0, 0, 0]);
      });
    });

    // ---------------------------------------------------------------- gradient clipping's pieces
    describe('sumSquares / scaleInPlace', () => {
      for (const n of [0, 1, 17, 100_003]) {
        it(`n=${n}: the sum is one double chain in index order, continued from start; the scale rounds each product once`, () => {
          const rng = testRng(n + 3);
          const g = rand(rng, n, 3);
          let want = 0.25;
          for (let i = 0; i < n; i++) want += g[i] * g[i];
          expect(be.sumSquares(g, n, 0.25)).toBe(want);
          const s = 0.7310585786300049;
          const wantScaled = Float32Array.from(g, (x) => x * s);
          for (const threads of [1, 2]) {
            const whole = new Float32Array(n + 2).fill(-12345), h = whole.subarray(1, n + 1);
            h.set(g);
            withThreads(threads, () => be.scaleInPlace(h, n, s));
            expect(Array.from(h)).toEqual(Array.from(wantScaled));
            expect(whole[0]).toBe(-12345);
            expect(whole[n + 1]).toBe(-12345);
          }
        });
      }
    });

    // ---------------------------------------------------------------- dtype handling
    it('Float64Array inputs give exactly the js reference result', () => {
      const rng = testRng(5);
      const A = f64(rand(rng, 12)), B = f64(rand(rng, 12));
      const got = new Float64Array(9), want = new Float64Array(9);
      be.matmul(got, A, B, 3, 3, 4, false, false, false);
      ref.matmul(want, A, B, 3, 3, 4, false, false, false);
      expect(Array.from(got)).toEqual(Array.from(want));
    });

    it.skipIf(be.name === 'js')('wrong sizes throw a JS error instead of touching memory', () => {
      const small = new Float32Array(4);
      expect(() => be.matmul(small, small, small, 100, 100, 100, false, false, false)).toThrow(/elements/);
      expect(() => be.geluForward(small, small, 5)).toThrow(/elements/);
      expect(() => be.attentionForward(small, small, small, small, small, 1, 4, 2, 2, 2, 4, 4)).toThrow();
      expect(() => be.crossEntropyForward(small, small, small, Int32Array.from([7]), 1, 4, -1)).toThrow(/outside/);
      expect(() => be.matmul(small, small, small, -1, 2, 2, false, false, false)).toThrow(/non-negative/);
    });
  });
}
