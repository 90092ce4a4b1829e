// AVX2+FMA sgemm variant: 6×16 register tile (12 ymm accumulators).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "sgemm_args.h"

#pragma GCC target("avx2,fma")

namespace fmn {
namespace avx2 {

#include "sgemm_driver.h"

struct Kernel {
  static constexpr bool kFastPack = false;
  static constexpr bool kDirectA = false;   // op(A) always packed
  static constexpr bool kPartRows = false;  // a ragged panel runs the full tile aside
  static constexpr int MR = 6, NR = 16;

  // as the AVX-512 kernel: C = the sum (overwrite) or C + the sum, accumulated from C
  static void micro(int kc, const float* a, const float* b, float* c, long ldc, const float* start, long lds) {
    __m256 acc[MR][2];
    if (start == nullptr) {
#pragma GCC unroll 6
      for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    } else {
#pragma GCC unroll 6
      for (int r = 0; r < MR; ++r) {
        acc[r][0] = _mm256_loadu_ps(start + r * lds);
        acc[r][1] = _mm256_loadu_ps(start + r * lds + 8);
      }
    }
    for (int k = 0; k < kc; ++k, a += MR, b += NR) {
      const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
      for (int r = 0; r < MR; ++r) {
        const __m256 ar = _mm256_broadcast_ss(a + r);
        acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
      }
    }
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      _mm256_storeu_ps(c + r * ldc, acc[r][0]);
      _mm256_storeu_ps(c + r * ldc + 8, acc[r][1]);
    }
  }
};

void range(const GemmArgs& g, int i0, int i1, int j0, int j1) {
  static const Blocks bl = gemmBlocks(Kernel::MR, Kernel::NR, 4);
  gemmRange<Kernel>(g, i0, i1, j0, j1, bl);
}

}  // namespace avx2

const GemmVariant kGemmAvx2 = {"avx2", avx2::Kernel::MR, avx2::Kernel::NR, avx2::range};

}  // namespace fmn
