// bf16 mixed-precision sgemm on AVX512-BF16 (Zen 4, Cooper Lake, Sapphire Rapids): 14×32
// register tile of fp32 accumulators; each vdpbf16ps adds two k steps (a bf16 pair of op(A),
// broadcast, times the pair-interleaved B panel). Chosen at run time (sgemm.cc) only on a CPU
// that reports AVX512-BF16.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "sgemm_args.h"

#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16,fma,avx2")

namespace fmn {
namespace bf16avx512 {

#include "sgemm_bf16_driver.h"

struct Kernel {
  static constexpr bool kPairedA = true;
  static constexpr int MR = 14, NR = 32, KP = 2;
  // from the caches as the fp32 kernel's (gemmBlocks), at two bytes an element: passes up to
  // 2,048 deep with a 1 MiB L2 (K 768 in one pass, not 512 + 256), the A block a quarter of L2
  static const Blocks& blocks() {
    static const Blocks bl = gemmBlocks(MR, NR, 2);
    return bl;
  }

  static void begin() {}
  static void end() {}

  // A panel pair-interleaved like B: ap[p][r] words = (op(A)[r][2p], op(A)[r][2p+1]).
  static void packA(const GemmArgs& g, int i0, int mr, int p0, int kc, int kcp, uint16_t* ap) {
    packPairs<MR>(g.A + (long)i0 * g.rsA + (long)p0 * g.csA, g.rsA, g.csA, mr, kc, kcp, ap);
  }

  // C (MR×NR at c, row stride ldc) = S + Σ_p a[p][0..MR) ⊙ b[p][0..NR), two k per step, the
  // accumulators starting from S (rows at `start`, stride lds: C, or a bias row at lds 0), or
  // from zero when start is null
  static constexpr bool kBiasRow = true;
  static void micro(int kcp, const uint16_t* a16, const uint16_t* b16, float* c, long ldc, const float* start, long lds) {
    const uint32_t* a = reinterpret_cast<const uint32_t*>(a16);
    const uint32_t* b = reinterpret_cast<const uint32_t*>(b16);
    __m512 acc[MR][2];
    if (start == nullptr) {
#pragma GCC unroll 14
      for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    } else {
#pragma GCC unroll 14
      for (int r = 0; r < MR; ++r) {
        acc[r][0] = _mm512_loadu_ps(start + r * lds);
        acc[r][1] = _mm512_loadu_ps(start + r * lds + 16);
      }
    }
    for (int p = 0; p < kcp / 2; ++p, a += MR, b += NR) {
      const __m512bh b0 = (__m512bh)_mm512_load_si512(b), b1 = (__m512bh)_mm512_load_si512(b + 16);
#pragma GCC unroll 14
      for (int r = 0; r < MR; ++r) {
        const __m512bh ar = (__m512bh)_mm512_set1_epi32((int)a[r]);
        acc[r][0] = _mm512_dpbf16_ps(acc[r][0], ar, b0);
        acc[r][1] = _mm512_dpbf16_ps(acc[r][1], ar, b1);
      }
    }
#pragma GCC unroll 14
    for (int r = 0; r < MR; ++r) {
      _mm512_storeu_ps(c + r * ldc, acc[r][0]);
      _mm512_storeu_ps(c + r * ldc + 16, acc[r][1]);
    }
  }
};

void range(const GemmArgs& g, int i0, int i1, int j0, int j1) { gemmRangeBf16<Kernel>(g, i0, i1, j0, j1); }
long packedBElems(int K, int N) { return packedBElemsBf16<Kernel>(K, N); }
void packB(const GemmArgs& g, uint16_t* out, int j0, int j1) { packBWholeBf16<Kernel>(g, out, j0, j1); }

}  // namespace bf16avx512

const GemmVariant kGemmBf16Avx512 = {"avx512bf16", bf16avx512::Kernel::MR, bf16avx512::Kernel::NR, bf16avx512::range,
                                   bf16avx512::packedBElems, bf16avx512::packB};

}  // namespace fmn
