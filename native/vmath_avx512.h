// vmath.h's expFast on 16 lanes, for the AVX-512 kernels (include after their
// `#pragma GCC target("avx512f,…")`). Operation for operation as GCC compiles the scalar
// function for x86-64-v3/v4 (the polynomial's steps contracted to fused multiply-adds, p·r·r + r
// as fma(p·r, r, r)), so every lane has the scalar function's bits (test/isa.test.ts and
// test/determinism.test.ts compare these paths with the generic ones).
//
// The N-vector forms do each step for all N vectors before the next: one exponential is a chain
// of ~50 cycles' latency, and a loop that computed one vector at a time kept the core waiting on
// it (GELU: 1.3-1.7x from four in step).
#pragma once
#include <immintrin.h>

namespace fmn {
namespace vmath512 {

// x clamped to [−87.3, 88.3] (a NaN passes through: max and min return their second operand
// then, as the scalar function's comparisons do), split as e^x = er · two: er = e^r by the
// polynomial, two = 2^n from the exponent bits. (The maskz forms keep GCC 12 from warning about
// the undefined vectors its unmasked intrinsics start from.)
template <int N>
inline void expParts(const __m512 (&x)[N], __m512 (&er)[N], __m512 (&two)[N]) {
  __m512 n[N], r[N], p[N];
#pragma GCC unroll 8
  for (int i = 0; i < N; ++i) {
    const __m512 xc = _mm512_maskz_min_ps(0xFFFF, _mm512_set1_ps(88.3f), _mm512_maskz_max_ps(0xFFFF, _mm512_set1_ps(-87.3f), x[i]));
    n[i] = _mm512_maskz_roundscale_ps(0xFFFF, _mm512_mul_ps(xc, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_CUR_DIRECTION);
    r[i] = _mm512_fnmadd_ps(n[i], _mm512_set1_ps(0.693359375f), xc);
  }
#pragma GCC unroll 8
  for (int i = 0; i < N; ++i) r[i] = _mm512_fmadd_ps(n[i], _mm512_set1_ps(2.12194440e-4f), r[i]);
#pragma GCC unroll 8
  for (int i = 0; i < N; ++i) p[i] = _mm512_fmadd_ps(_mm512_set1_ps(1.9875691500e-4f), r[i], _mm512_set1_ps(1.3981999507e-3f));
#pragma GCC unroll 8
  for (int i = 0; i < N; ++i) p[i] = _mm512_fmadd_ps(p[i], r[i], _mm512_set1_ps(8.3334519073e-3f));
#pragma GCC unroll 8
  for (int i = 0; i < N; ++i) p[i] = _mm512_fmadd_ps(p[i], r[i], _mm512_set1_ps(4.1665795894e-2f));
#pragma GCC unroll 8
  for (int i = 0; i < N; ++i) p[i] = _mm512_fmadd_ps(p[i], r[i], _mm512_set1_ps(1.6666665459e-1f));
#pragma GCC unroll 8
  for (int i = 0; i < N; ++i) p[i] = _mm512_fmadd_ps(p[i], r[i], _mm512_set1_ps(5.0000001201e-1f));
#pragma GCC unroll 8
  for (int i = 0; i < N; ++i) {
    er[i] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p[i], r[i]), r[i], r[i]), _mm512_set1_ps(1.0f));
    two[i] = _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xFFFF, _mm512_add_epi32(_mm512_maskz_cvttps_epi32(0xFFFF, n[i]), _mm512_set1_epi32(127)), 23));
  }
}

// Lanes below −87.3 (where the scalar function returns 0).
inline __mmask16 underflows(__m512 x) { return _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.3f), _CMP_LT_OQ); }

// expFast on 16 lanes.
inline __m512 expFast16(__m512 x) {
  const __m512 xs[1] = {x};
  __m512 er[1], two[1];
  expParts(xs, er, two);
  return _mm512_maskz_mul_ps((__mmask16)~underflows(x), er[0], two[0]);
}

}  // namespace vmath512
}  // namespace fmn
