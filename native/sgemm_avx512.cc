// AVX-512 sgemm variant: 14×32 register tile (28 zmm accumulators, 2 B vectors, 1 broadcast).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "sgemm_args.h"

#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,fma,avx2")

namespace fmn {
namespace avx512 {

#include "sgemm_driver.h"

struct Kernel {
  static constexpr int MR = 14, NR = 32;
// KC·NR·4 = 32 KiB B micro-panel (L1); MC·KC·4 = 168 KiB A block (L2). Tuned by bench.
#ifndef FMN_KC
#define FMN_KC 256
#define FMN_MC 168
#endif
  static constexpr int KC = FMN_KC, MC = FMN_MC, NC = 2048;

  // C (MR×NR at c, row stride ldc) (+)= Σ_k a[k][0..MR) ⊗ b[k][0..NR)
  static void micro(int kc, const float* a, const float* b, float* c, long ldc, bool overwrite) {
    __m512 acc[MR][2];
#pragma GCC unroll 14
    for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int k = 0; k < kc; ++k, a += MR, b += NR) {
      const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 14
      for (int r = 0; r < MR; ++r) {
        const __m512 ar = _mm512_set1_ps(a[r]);
        acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
      }
    }
#pragma GCC unroll 14
    for (int r = 0; r < MR; ++r) {
      float* cr = c + r * ldc;
      if (overwrite) {
        _mm512_storeu_ps(cr, acc[r][0]);
        _mm512_storeu_ps(cr + 16, acc[r][1]);
      } else {
        _mm512_storeu_ps(cr, _mm512_add_ps(_mm512_loadu_ps(cr), acc[r][0]));
        _mm512_storeu_ps(cr + 16, _mm512_add_ps(_mm512_loadu_ps(cr + 16), acc[r][1]));
      }
    }
  }
};

void range(const GemmArgs& g, int i0, int i1, int j0, int j1) { gemmRange<Kernel>(g, i0, i1, j0, j1); }

}  // namespace avx512

const GemmVariant kGemmAvx512 = {"avx512", avx512::Kernel::MR, avx512::Kernel::NR, avx512::range};

}  // namespace fmn
