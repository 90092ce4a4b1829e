// GELU (tanh form) forward and backward for AVX-512: activation.cc's generic loops operation for
// operation as GCC compiles them for x86-64-v3/v4 (its contractions spelled as fused
// multiply-adds here), four vectors in step so the exponentials' chains overlap. Same bits as
// the generic loops for every input, checked over all 2^32 floats (a NaN input gives a NaN whose
// sign bit may differ, as it already did between GCC's x86-64-v3 and v4 builds of those loops);
// test/isa.test.ts compares the two paths, tails included. activation.cc calls these when the
// AVX-512 GEMM variant is in use (simdAvx512).
#include <immintrin.h>

#include "activation_kernels.h"

#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,fma,avx2")
#include "vmath_avx512.h"

namespace fmn {
namespace gelu512 {
namespace {

constexpr int kStep = 4;   // vectors in step
inline __m512 S(float v) { return _mm512_set1_ps(v); }

// σ(2u) for x, the scalar loop's sigmoidFast(2u) with u = √(2/π)(x + 0.044715 x³): 1 / (1 + e),
// e = expFast(−2u), contracted as GCC does to 1 / fma(er, two, 1); where −2u underflows, e = 0
// and σ = 1.
inline void sigmoid2u(const __m512 (&x)[kStep], __m512 (&s)[kStep]) {
  __m512 y[kStep], er[kStep], two[kStep];
  __mmask16 under[kStep];
#pragma GCC unroll 4
  for (int i = 0; i < kStep; ++i) {
    __m512 t = _mm512_mul_ps(_mm512_mul_ps(x[i], S(0.044715f)), x[i]);
    t = _mm512_mul_ps(_mm512_fmadd_ps(t, x[i], x[i]), S(0.7978845608028654f));
    t = _mm512_add_ps(t, t);                                   // 2u
    y[i] = _mm512_xor_ps(t, S(-0.0f));                          // −2u
    under[i] = vmath512::underflows(y[i]);
  }
  vmath512::expParts(y, er, two);
#pragma GCC unroll 4
  for (int i = 0; i < kStep; ++i)
    s[i] = _mm512_mask_blend_ps(under[i], _mm512_div_ps(S(1.0f), _mm512_fmadd_ps(er[i], two[i], S(1.0f))), S(1.0f));
}

// Whole steps of kStep vectors over [i0, i1): x and σ(2u) for each step, handed to emit(i, x, s);
// returns where it stopped.
template <class Emit>
long inSteps(const float* inp, long i0, long i1, Emit emit) {
  long i = i0;
  for (; i + 16 * kStep <= i1; i += 16 * kStep) {
    __m512 x[kStep], s[kStep];
#pragma GCC unroll 4
    for (int v = 0; v < kStep; ++v) x[v] = _mm512_loadu_ps(inp + i + 16 * v);
    sigmoid2u(x, s);
    emit(i, x, s);
  }
  return i;
}

}  // namespace

// out[i] = x σ(2u).
long forward(float* out, const float* inp, long i0, long i1) {
  return inSteps(inp, i0, i1, [&](long i, const __m512 (&x)[kStep], const __m512 (&s)[kStep]) {
#pragma GCC unroll 4
    for (int v = 0; v < kStep; ++v) _mm512_storeu_ps(out + i + 16 * v, _mm512_mul_ps(x[v], s[v]));
  });
}

// dinp (+)= dout · (0.5 (1 + th) + 0.5 x (1 − th²) u'), th = 2σ(2u) − 1, u' = √(2/π)(1 + 3·0.044715 x²),
// as GCC contracts the scalar loop: th = fma(σ, 2, −1), 1 − th² = fnmadd(th, th, 1),
// 1 + 3·0.044715 x² = fma(0.134145 x, x, 1), the sum fma(0.5 x (1 − th²), u', 0.5 (1 + th)), and
// the product with dout fma(·, dout, 0) written or fma(·, dout, dinp) added.
template <bool kAcc>
long backward(float* dinp, const float* inp, const float* dout, long i0, long i1) {
  return inSteps(inp, i0, i1, [&](long i, const __m512 (&x)[kStep], const __m512 (&s)[kStep]) {
#pragma GCC unroll 4
    for (int v = 0; v < kStep; ++v) {
      const __m512 th = _mm512_fmadd_ps(s[v], S(2.0f), S(-1.0f));
      const __m512 half = _mm512_mul_ps(_mm512_add_ps(th, S(1.0f)), S(0.5f));
      const __m512 omt = _mm512_fnmadd_ps(th, th, S(1.0f));
      const __m512 du = _mm512_mul_ps(_mm512_fmadd_ps(_mm512_mul_ps(x[v], S(3.0f * 0.044715f)), x[v], S(1.0f)), S(0.7978845608028654f));
      const __m512 g = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_mul_ps(x[v], S(0.5f)), omt), du, half);
      const __m512 d = _mm512_loadu_ps(dout + i + 16 * v);
      _mm512_storeu_ps(dinp + i + 16 * v, _mm512_fmadd_ps(g, d, kAcc ? _mm512_loadu_ps(dinp + i + 16 * v) : _mm512_setzero_ps()));
    }
  });
}
template long backward<true>(float*, const float*, const float*, long, long);
template long backward<false>(float*, const float*, const float*, long, long);

}  // namespace gelu512
}  // namespace fmn
