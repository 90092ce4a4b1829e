// Sums in one fixed order on every instruction set. A `#pragma omp simd reduction` sums in as
// many lanes as the target clone's vector holds (16 floats in the x86-64-v4 clone, 8 in v3), so
// an AVX2-only CPU would add a row in another order than an AVX-512 one and differ in the last
// bits. These helpers spell out the order the v4 clone's reduction used: 16 lanes, lane l taking
// the terms l, l+16, l+32, …; the terms after the last full group of 16 go into lane 0 in order;
// then 0 + lane 0 + lane 1 + … + lane 15, left to right. Each lane is an independent chain, so
// the compiler may keep them in one zmm, two ymm or four xmm registers: the bits do not change.
// laneDot forms each step as one fused multiply-add, so contraction does not depend on the
// compiler either. x86-64-v3 (AVX2, FMA) and v4 (AVX-512) compute the same bits:
// test/isa.test.ts builds the kernels for each and compares. The pre-AVX2 `default` clone is
// outside that guarantee (no FMA: its other kernels round each product; here it calls libm's fma).
#pragma once
#include <cmath>

namespace fmn {

constexpr long kSumLanes = 16;

// sum[k] = Σ t[k] over j < n, each in the fixed order above, in one pass: term(j, t) sets the
// K terms of index j.
template <class Acc, int K, class Term>
static inline void laneSums(long n, Acc (&sum)[K], Term term) {
  Acc lane[K][kSumLanes];
  for (int k = 0; k < K; ++k)
    for (long l = 0; l < kSumLanes; ++l) lane[k][l] = 0;
  Acc t[K];
  long j = 0;
  for (; j + kSumLanes <= n; j += kSumLanes)
    for (long l = 0; l < kSumLanes; ++l) {
      term(j + l, t);
      for (int k = 0; k < K; ++k) lane[k][l] += t[k];
    }
  for (; j < n; ++j) {
    term(j, t);
    for (int k = 0; k < K; ++k) lane[k][0] += t[k];
  }
  for (int k = 0; k < K; ++k) {
    sum[k] = 0;
    for (long l = 0; l < kSumLanes; ++l) sum[k] += lane[k][l];
  }
}

// Σ term(j), j < n, in the fixed order above.
template <class Acc, class Term>
static inline Acc laneSum(long n, Term term) {
  Acc s[1];
  laneSums<Acc, 1>(n, s, [&](long j, Acc (&t)[1]) { t[0] = term(j); });
  return s[0];
}

// Σ a(j)·b(j), j < n, each step a fused multiply-add, in the fixed order above.
template <class Acc, class A, class B>
static inline Acc laneDot(long n, A a, B b) {
  Acc lane[kSumLanes];
  for (long l = 0; l < kSumLanes; ++l) lane[l] = 0;
  long j = 0;
  for (; j + kSumLanes <= n; j += kSumLanes)
    for (long l = 0; l < kSumLanes; ++l) lane[l] = std::fma(a(j + l), b(j + l), lane[l]);
  for (; j < n; ++j) lane[0] = std::fma(a(j), b(j), lane[0]);
  Acc s = 0;
  for (long l = 0; l < kSumLanes; ++l) s += lane[l];
  return s;
}

}  // namespace fmn
