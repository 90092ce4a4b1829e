// Measures the sustained FP32 FMA rate of one core: 16 independent FMA chains (more than
// latency × throughput on current cores), timed for about `seconds`.
#include <immintrin.h>

#include <chrono>

#include "kernels.h"

namespace fmn {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int NA = 16;
constexpr long kIters = 1 << 20;

// One timing loop per instruction set; FMA/SET1/REDUCE name the intrinsics, W the lanes.
#define FMN_PEAK_LOOP(V, W, FMA, SET1, ADD)                            \
  V acc[NA];                                                           \
  for (int i = 0; i < NA; ++i) acc[i] = SET1(0.001f * i);              \
  const V x = SET1(0.9999f), y = SET1(1e-4f);                          \
  long iters = 0;                                                      \
  const auto t0 = Clock::now();                                        \
  double elapsed = 0;                                                  \
  do {                                                                 \
    for (long n = 0; n < kIters; ++n) {                                \
      _Pragma("GCC unroll 16") for (int i = 0; i < NA; ++i)            \
          acc[i] = FMA(acc[i], x, y);                                  \
    }                                                                  \
    iters += kIters;                                                   \
    elapsed = std::chrono::duration<double>(Clock::now() - t0).count(); \
  } while (elapsed < seconds);                                         \
  V s = acc[0];                                                        \
  for (int i = 1; i < NA; ++i) s = ADD(s, acc[i]);                     \
  volatile float keep = ((float*)&s)[0];                               \
  (void)keep;                                                          \
  return 2.0 * W * NA * iters / elapsed / 1e9;

__attribute__((target("avx512f"))) double peak512(double seconds) {
  FMN_PEAK_LOOP(__m512, 16, _mm512_fmadd_ps, _mm512_set1_ps, _mm512_add_ps)
}

__attribute__((target("avx2,fma"))) double peak256(double seconds) {
  FMN_PEAK_LOOP(__m256, 8, _mm256_fmadd_ps, _mm256_set1_ps, _mm256_add_ps)
}

// No FMA: a multiply and an add, counted as 2 flops per lane.
inline __m128 mulAdd128(__m128 a, __m128 b, __m128 c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
double peak128(double seconds) { FMN_PEAK_LOOP(__m128, 4, mulAdd128, _mm_set1_ps, _mm_add_ps) }

}  // namespace

double peakGflops(double seconds) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return peak512(seconds);
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return peak256(seconds);
  return peak128(seconds);
}

}  // namespace fmn
