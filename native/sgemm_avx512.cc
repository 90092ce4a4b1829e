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

#include "transpose16.h"

static inline void transpose16f(__m512 v[16]) { transpose16(reinterpret_cast<__m512i*>(v)); }

struct Kernel {
  static constexpr int MR = 14, NR = 32;
  static constexpr bool kFastPack = true;

  // One MR-row panel of op(A) whose rows run along k (a[r·rsA + k]): 16 k at a time, the rows
  // (mr valid, the rest zero) transposed in registers, one 14-lane store per k.
  static void packARows(const float* a, long rsA, int mr, int kc, float* ap) {
    constexpr __mmask16 m = (1u << MR) - 1;
    int k = 0;
    for (; k + 16 <= kc; k += 16) {
      __m512 v[16];
#pragma GCC unroll 16
      for (int r = 0; r < 16; ++r) v[r] = r < mr ? _mm512_loadu_ps(a + r * rsA + k) : _mm512_setzero_ps();
      transpose16f(v);
#pragma GCC unroll 16
      for (int t = 0; t < 16; ++t) _mm512_mask_storeu_ps(ap + (long)(k + t) * MR, m, v[t]);
    }
    for (; k < kc; ++k)
      for (int r = 0; r < MR; ++r) ap[(long)k * MR + r] = r < mr ? a[r * rsA + k] : 0.f;
  }

  // One MR-row panel of a transposed op(A) (a[k·csA + r], r contiguous): one masked load and
  // store of the mr valid rows per k, the rest zero.
  static void packACols(const float* a, long csA, int mr, int kc, float* ap) {
    const __mmask16 valid = (__mmask16)((1u << mr) - 1), m = (1u << MR) - 1;
    for (int k = 0; k < kc; ++k) _mm512_mask_storeu_ps(ap + (long)k * MR, m, _mm512_maskz_loadu_ps(valid, a + (long)k * csA));
  }

  // One NR-column panel of op(B) whose columns run along k (b[j·csB + k]): 16 columns × 16 k
  // transposed in registers, stored as two aligned half-rows of the panel.
  static void packBCols(const float* b, long csB, int nr, int kc, float* bp) {
    int k = 0;
    for (; k + 16 <= kc; k += 16) {
      for (int h = 0; h < NR; h += 16) {
        __m512 v[16];
#pragma GCC unroll 16
        for (int t = 0; t < 16; ++t) v[t] = h + t < nr ? _mm512_loadu_ps(b + (h + t) * csB + k) : _mm512_setzero_ps();
        transpose16f(v);
#pragma GCC unroll 16
        for (int t = 0; t < 16; ++t) _mm512_store_ps(bp + (long)(k + t) * NR + h, v[t]);
      }
    }
    for (; k < kc; ++k)
      for (int j = 0; j < NR; ++j) bp[(long)k * NR + j] = j < nr ? b[j * csB + k] : 0.f;
  }

  // C (MR×NR at c, row stride ldc) = Σ_k a[k][0..MR) ⊗ b[k][0..NR) (overwrite), else C + that sum
  // with C as the accumulators' starting value
  static void micro(int kc, const float* a, const float* b, float* c, long ldc, bool overwrite) {
    __m512 acc[MR][2];
    if (overwrite) {
#pragma GCC unroll 14
      for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    } else {
#pragma GCC unroll 14
      for (int r = 0; r < MR; ++r) {
        acc[r][0] = _mm512_loadu_ps(c + r * ldc);
        acc[r][1] = _mm512_loadu_ps(c + r * ldc + 16);
      }
    }
    for (int k = 0; k < kc; ++k, a += MR, b += NR) {
      _mm_prefetch((const char*)(a + 8 * MR), _MM_HINT_T0);   // the A panel streams from L2
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
      _mm512_storeu_ps(c + r * ldc, acc[r][0]);
      _mm512_storeu_ps(c + r * ldc + 16, acc[r][1]);
    }
  }
};

void range(const GemmArgs& g, int i0, int i1, int j0, int j1) {
  static const Blocks bl = gemmBlocks(Kernel::MR, Kernel::NR, 4);
  gemmRange<Kernel>(g, i0, i1, j0, j1, bl);
}

}  // namespace avx512

const GemmVariant kGemmAvx512 = {"avx512", avx512::Kernel::MR, avx512::Kernel::NR, avx512::range};

}  // namespace fmn
