// AVX-512 sgemm variant: 14×32 register tile (28 zmm accumulators, 2 B vectors, 1 broadcast).
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "sgemm_args.h"

#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,fma,avx2")

namespace fmn {
namespace avx512 {

#include "sgemm_driver.h"

#include "transpose16.h"

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
      transpose16(v);
#pragma GCC unroll 16
      for (int t = 0; t < 16; ++t) _mm512_mask_storeu_ps(ap + (long)(k + t) * MR, m, v[t]);
    }
    for (; k < kc; ++k)
      for (int r = 0; r < MR; ++r) ap[(long)k * MR + r] = r < mr ? a[r * rsA + k] : 0.f;
  }

  // The whole MC×KC block of a transposed op(A) (a[k·csA + r], r contiguous), k outermost: each
  // k reads the block's mc contiguous floats once and hands MR of them to each panel (one masked
  // load and store per panel; rows past mc zero), fetching rows ahead. Panel by panel instead,
  // every panel re-read the kc rows' cache lines, 56 bytes a row — too short a run for the
  // hardware prefetcher: the tn GEMM ran at 0.90–0.98× OpenBLAS (Zen 5).
  static void packAColsBlock(const float* a, long csA, int mc, int kc, float* ap) {
    const int panels = (mc + MR - 1) / MR;
    const __mmask16 m = (1u << MR) - 1;
    const __mmask16 last = (__mmask16)((1u << (mc - (panels - 1) * MR)) - 1);
    constexpr int kAhead = 16;   // rows ahead: a k row is only mc floats, too short for the hardware prefetcher
    for (int k = 0; k < kc; ++k) {
      const float* row = a + (long)k * csA;
      float* dst = ap + (long)k * MR;
      if (k + kAhead < kc) {
        const float* ahead = row + kAhead * csA;
        for (int f = 0; f < mc; f += 16) _mm_prefetch(reinterpret_cast<const char*>(ahead + f), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(ahead + mc - 1), _MM_HINT_T0);
      }
      for (int p = 0; p < panels; ++p) {
        const __m512 v = p + 1 < panels ? _mm512_maskz_loadu_ps(m, row + p * MR) : _mm512_maskz_loadu_ps(last, row + p * MR);
        _mm512_mask_storeu_ps(dst + (long)p * MR * kc, m, v);
      }
    }
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
        transpose16(v);
#pragma GCC unroll 16
        for (int t = 0; t < 16; ++t) _mm512_store_ps(bp + (long)(k + t) * NR + h, v[t]);
      }
    }
    for (; k < kc; ++k)
      for (int j = 0; j < NR; ++j) bp[(long)k * NR + j] = j < nr ? b[j * csB + k] : 0.f;
  }

  // the accumulators from S (rows at start, stride lds) or zero; and back to C
  template <int R = MR>
  static inline void startTile(__m512 (&acc)[R][2], const float* start, long lds) {
#pragma GCC unroll 14
    for (int r = 0; r < R; ++r) {
      acc[r][0] = start == nullptr ? _mm512_setzero_ps() : _mm512_loadu_ps(start + r * lds);
      acc[r][1] = start == nullptr ? _mm512_setzero_ps() : _mm512_loadu_ps(start + r * lds + 16);
    }
  }
  template <int R = MR>
  static inline void storeTile(const __m512 (&acc)[R][2], float* c, long ldc) {
#pragma GCC unroll 14
    for (int r = 0; r < R; ++r) {
      _mm512_storeu_ps(c + r * ldc, acc[r][0]);
      _mm512_storeu_ps(c + r * ldc + 16, acc[r][1]);
    }
  }

  // acc += Σ_k a[k][0..R) ⊗ b[k][0..NR), k in order, over packed panels
  template <int R>
  static inline void fmaPanels(__m512 (&acc)[R][2], int kc, const float* a, const float* b) {
    for (int k = 0; k < kc; ++k, a += MR, b += NR) {
      _mm_prefetch((const char*)(a + 8 * MR), _MM_HINT_T0);   // the A panel streams from L2
      const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 14
      for (int r = 0; r < R; ++r) {
        const __m512 ar = _mm512_set1_ps(a[r]);
        acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
      }
    }
  }

  // C (MR×NR at c, row stride ldc) = S + Σ_k a[k][0..MR) ⊗ b[k][0..NR), the accumulators
  // starting from S (rows at `start`, row stride lds: C itself, or a bias row with lds 0), or
  // from zero when start is null; then, with kc2 > 0, + Σ_k a2[k] ⊗ b2[k] over a second pair of
  // packed panels before C is stored (matmulPlus's second product: each chain goes on over its
  // terms in registers, no store and reload between)
  static void micro(int kc, const float* a, const float* b, float* c, long ldc, const float* start, long lds,
                    int kc2 = 0, const float* a2 = nullptr, const float* b2 = nullptr) {
    microPart<MR>(kc, a, b, c, ldc, start, lds, kc2, a2, b2);
  }
  // micro on the first R rows of a packed MR-row panel, R rows of C read and written: a ragged
  // last panel (M = 128 is nine panels and two rows) costs its rows, not a full tile's
  template <int R>
  static void microPart(int kc, const float* a, const float* b, float* c, long ldc, const float* start, long lds,
                        int kc2 = 0, const float* a2 = nullptr, const float* b2 = nullptr) {
    __m512 acc[R][2];
    startTile<R>(acc, start, lds);
    fmaPanels<R>(acc, kc, a, b);
    if (kc2 > 0) fmaPanels<R>(acc, kc2, a2, b2);
    storeTile<R>(acc, c, ldc);
  }
  // the micro-kernels take a second product's panels (sgemm_driver.h's microTile)
  static constexpr bool kTail = true;
  static constexpr bool kPartRows = true;
  using MicroFn = void (*)(int, const float*, const float*, float*, long, const float*, long, int, const float*, const float*);
  template <int... R>
  static constexpr std::array<MicroFn, sizeof...(R)> partKernels(std::integer_sequence<int, R...>) {
    return {&microPart<R + 1>...};
  }
  static void microRows(int mr, int kc, const float* a, const float* b, float* c, long ldc, const float* start, long lds,
                        int kc2 = 0, const float* a2 = nullptr, const float* b2 = nullptr) {
    static constexpr auto kernels = partKernels(std::make_integer_sequence<int, MR - 1>{});   // heights 1 … MR − 1
    kernels[mr - 1](kc, a, b, c, ldc, start, lds, kc2, a2, b2);
  }
  // micro with op(A) read in place, its rows along k (a[r·lda + k]): no packed panel. Three row
  // pointers five rows apart and offsets of 1–4 rows keep the 14 broadcasts' addresses in
  // registers.
  static constexpr bool kDirectA = true;
  static void microDirect(int kc, const float* a, long lda, const float* b, float* c, long ldc, const float* start, long lds,
                          int kc2 = 0, const float* a2 = nullptr, const float* b2 = nullptr) {
    __m512 acc[MR][2];
    startTile(acc, start, lds);
    const float* q0 = a;
    const float* q1 = a + 5 * lda;
    const float* q2 = a + 10 * lda;
    for (int k = 0; k < kc; ++k, b += NR) {
      const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 14
      for (int r = 0; r < MR; ++r) {
        const float* q = r < 5 ? q0 : r < 10 ? q1 : q2;
        const __m512 ar = _mm512_set1_ps(q[(r % 5) * lda + k]);
        acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
      }
    }
    if (kc2 > 0) fmaPanels<MR>(acc, kc2, a2, b2);
    storeTile(acc, c, ldc);
  }
};


// Skinny products (LoRA's rank-r factors: N or M ≤ 8), where the 14×32 tile would compute mostly
// padding after packing all of the wide operand. Same chain per element as Kernel::micro —
// C's value (or nothing when overwriting), then one FMA per k in k order — so the same bits.

// C[i0:i1, j0:j0+n], n ≤ 8: R rows at a time, one 8-lane accumulator per row; op(A) read in
// place (a broadcast per row and k), op(B)'s n columns packed as K rows of 8 (zero-padded).
template <int R>
static void skinnyNRows(const GemmArgs& g, int i, int j0, __mmask8 mask, const float* bp, bool overwrite) {
  __m256 acc[R];
#pragma GCC unroll 24
  for (int r = 0; r < R; ++r)
    acc[r] = overwrite ? _mm256_setzero_ps() : _mm256_maskz_loadu_ps(mask, g.C + (long)(i + r) * g.ldc + j0);
  const float* a = g.A + (long)i * g.rsA;
  for (int k = 0; k < g.K; ++k, a += g.csA) {
    const __m256 b = _mm256_load_ps(bp + (long)k * 8);
#pragma GCC unroll 24
    for (int r = 0; r < R; ++r) acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(a[r * g.rsA]), b, acc[r]);
  }
#pragma GCC unroll 24
  for (int r = 0; r < R; ++r) _mm256_mask_storeu_ps(g.C + (long)(i + r) * g.ldc + j0, mask, acc[r]);
}

// [lo | hi] (the maskz forms keep GCC 12 from warning about the undefined vectors its unmasked
// intrinsics start from)
static inline __m512 pairOf(__m256 lo, __m256 hi) {
  return _mm512_maskz_insertf32x8(0xFFFF, _mm512_maskz_insertf32x8(0xFFFF, _mm512_setzero_ps(), lo, 0), hi, 1);
}

// The same for 2P rows whose k run is contiguous (csA = 1), two rows to a 16-lane accumulator
// (row i + 2p in lanes 0–7, i + 2p + 1 in 8–15) against bp2, each k's 8 columns twice: eight k
// of both rows are loaded into one vector and each k's pair of values is spread with one
// permute, so a 16-lane FMA does two rows' work (2.2× the 8-lane rows above on the SFT shapes).
// Each lane still takes C's value (or zero) then one FMA per k in k order: the same bits.
template <int P>
static void skinnyNPairs(const GemmArgs& g, int i, int j0, __mmask8 mask, const float* bp2, bool overwrite) {
  __m512 acc[P];
  float* c = g.C + (long)i * g.ldc + j0;
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p)
    acc[p] = overwrite ? _mm512_setzero_ps() : pairOf(_mm256_maskz_loadu_ps(mask, c + (long)(2 * p) * g.ldc), _mm256_maskz_loadu_ps(mask, c + (long)(2 * p + 1) * g.ldc));
  const float* a = g.A + (long)i * g.rsA;
  const __m512i lo8hi8 = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 8, 8, 8, 8, 8, 8, 8, 8);
  int k = 0;
  for (; k + 8 <= g.K; k += 8) {
    __m512 src[P];   // k … k+7 of rows 2p (lanes 0–7) and 2p + 1 (lanes 8–15)
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p)
      src[p] = pairOf(_mm256_loadu_ps(a + (long)(2 * p) * g.rsA + k), _mm256_loadu_ps(a + (long)(2 * p + 1) * g.rsA + k));
#pragma GCC unroll 8
    for (int kk = 0; kk < 8; ++kk) {
      const __m512 b = _mm512_load_ps(bp2 + (long)(k + kk) * 16);
      const __m512i idx = _mm512_add_epi32(lo8hi8, _mm512_set1_epi32(kk));
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) acc[p] = _mm512_fmadd_ps(_mm512_maskz_permutexvar_ps(0xFFFF, idx, src[p]), b, acc[p]);
    }
  }
  for (; k < g.K; ++k) {
    const __m512 b = _mm512_load_ps(bp2 + (long)k * 16);
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p) {
      const __m512 x = _mm512_mask_broadcastss_ps(_mm512_set1_ps(a[(long)(2 * p) * g.rsA + k]), 0xFF00,
                                                  _mm_load_ss(a + (long)(2 * p + 1) * g.rsA + k));
      acc[p] = _mm512_fmadd_ps(x, b, acc[p]);
    }
  }
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p) {
    _mm256_mask_storeu_ps(c + (long)(2 * p) * g.ldc, mask, _mm512_maskz_extractf32x8_ps(0xFF, acc[p], 0));
    _mm256_mask_storeu_ps(c + (long)(2 * p + 1) * g.ldc, mask, _mm512_maskz_extractf32x8_ps(0xFF, acc[p], 1));
  }
}

static void skinnyN(const GemmArgs& g, int i0, int i1, int j0, int j1) {
  const int n = j1 - j0;
  thread_local std::vector<float> bbuf, b2buf;
  float* bp = scratch(bbuf, (long)g.K * 8);
  for (int k = 0; k < g.K; ++k)
    for (int j = 0; j < 8; ++j) bp[(long)k * 8 + j] = j < n ? g.B[(long)k * g.rsB + (long)(j0 + j) * g.csB] : 0.f;
  const __mmask8 mask = (__mmask8)((1u << n) - 1);
  const bool overwrite = !g.accumulate;
  int i = i0;
  if (g.csA == 1 && i1 - i0 >= 16) {   // rows with a contiguous k run: in pairs
    float* bp2 = scratch(b2buf, (long)g.K * 16);
    for (int k = 0; k < g.K; ++k) {
      std::memcpy(bp2 + (long)k * 16, bp + (long)k * 8, 8 * sizeof(float));
      std::memcpy(bp2 + (long)k * 16 + 8, bp + (long)k * 8, 8 * sizeof(float));
    }
    for (; i + 16 <= i1; i += 16) skinnyNPairs<8>(g, i, j0, mask, bp2, overwrite);
  }
  for (; i + 24 <= i1; i += 24) skinnyNRows<24>(g, i, j0, mask, bp, overwrite);
  for (; i + 8 <= i1; i += 8) skinnyNRows<8>(g, i, j0, mask, bp, overwrite);
  for (; i + 2 <= i1; i += 2) skinnyNRows<2>(g, i, j0, mask, bp, overwrite);
  for (; i < i1; ++i) skinnyNRows<1>(g, i, j0, mask, bp, overwrite);
}

// C[i0:i0+R, j0:j1], R ≤ 8 rows, op(B) row-major (csB = 1): 32 columns at a time in two
// accumulators per row, op(B)'s rows read in place, a broadcast of op(A) per row and k.
template <int R>
static void skinnyMRows(const GemmArgs& g, int i0, int j0, int j1) {
  const bool overwrite = !g.accumulate;
  for (int j = j0; j < j1; j += 32) {
    const int w = std::min(32, j1 - j);
    const __mmask16 m0 = (__mmask16)(w >= 16 ? 0xFFFF : (1u << w) - 1);
    const __mmask16 m1 = (__mmask16)(w >= 32 ? 0xFFFF : w > 16 ? (1u << (w - 16)) - 1 : 0);
    __m512 acc[R][2];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      float* c = g.C + (long)(i0 + r) * g.ldc + j;
      acc[r][0] = overwrite ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m0, c);
      acc[r][1] = overwrite ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m1, c + 16);
    }
    const float* a = g.A + (long)i0 * g.rsA;
    const float* b = g.B + j;
    for (int k = 0; k < g.K; ++k, a += g.csA, b += g.rsB) {
      const __m512 b0 = _mm512_maskz_loadu_ps(m0, b), b1 = _mm512_maskz_loadu_ps(m1, b + 16);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m512 ar = _mm512_set1_ps(a[r * g.rsA]);
        acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      float* c = g.C + (long)(i0 + r) * g.ldc + j;
      _mm512_mask_storeu_ps(c, m0, acc[r][0]);
      _mm512_mask_storeu_ps(c + 16, m1, acc[r][1]);
    }
  }
}

static void skinnyM(const GemmArgs& g, int i0, int i1, int j0, int j1) {
  switch (i1 - i0) {
    case 1: return skinnyMRows<1>(g, i0, j0, j1);
    case 2: return skinnyMRows<2>(g, i0, j0, j1);
    case 3: return skinnyMRows<3>(g, i0, j0, j1);
    case 4: return skinnyMRows<4>(g, i0, j0, j1);
    case 5: return skinnyMRows<5>(g, i0, j0, j1);
    case 6: return skinnyMRows<6>(g, i0, j0, j1);
    case 7: return skinnyMRows<7>(g, i0, j0, j1);
    default: return skinnyMRows<8>(g, i0, j0, j1);
  }
}

// Skinny `tn` products with both operands stored k-major (op(A) = Aᵀ with A (K, M), op(B) = B
// (K, N) row-major): LoRA's weight gradients dA = duᵀ·x (M = r ≤ 8) and dB = dyᵀ·u (N = r ≤ 8),
// K the batch's tokens. The narrow operand P (K × s, s ≤ 8) is broadcast, the wide one X (K × w)
// streamed row by row — each row's w floats contiguous, read once — into an s × w block of sums
// held in L1 (at most kTnCols columns at a time). The kernels above read such an X a 32-column
// strip at a time down all K rows, one 128-byte run per row: 40 GFLOP/s at two threads on the
// SFT shapes. Each sum is C's value (or zero when overwriting) then one FMA per k in k order,
// so the same bits as every other path. `wideIsN`: X is op(B) and the block is C's rows
// (dA); otherwise X is op(A) and the block is C transposed (dB).
constexpr int kTnCols = 1024;

template <int S>
static void tnStream(const float* P, long ldp, const float* X, long ldx, int K, int w, float* T, long ldt) {
  const int full = w / 16 * 16;
  const __mmask16 tail = (__mmask16)((1u << (w - full)) - 1);
  int k = 0;
  // X's rows ~8 KiB ahead are asked for while a sweep runs: dA's X is the layer's input, saved
  // in the forward and long gone from the caches, and the stores into T between the loads kept
  // the hardware prefetcher to ~11 GB/s (1.9× slower than with this, cold, on the SFT shapes)
  const int ahead = std::max(2, (2048 / std::max(w, 1) + 1) & ~1);
  const long pd = (long)ahead * ldx;
  for (; k + 2 <= K; k += 2) {   // two rows of X a sweep: each sum loaded and stored once for two FMAs
    __m512 p0[S], p1[S];
#pragma GCC unroll 8
    for (int r = 0; r < S; ++r) {
      p0[r] = _mm512_set1_ps(P[(long)k * ldp + r]);
      p1[r] = _mm512_set1_ps(P[(long)(k + 1) * ldp + r]);
    }
    const float* x0 = X + (long)k * ldx;
    const float* x1 = x0 + ldx;
    const bool pfOn = k + ahead + 1 < K;
    for (int c = 0; c < full; c += 16) {
      if (pfOn) { _mm_prefetch((const char*)(x0 + c + pd), _MM_HINT_T0); _mm_prefetch((const char*)(x1 + c + pd), _MM_HINT_T0); }
      const __m512 a = _mm512_loadu_ps(x0 + c), b = _mm512_loadu_ps(x1 + c);
#pragma GCC unroll 8
      for (int r = 0; r < S; ++r) {
        float* t = T + r * ldt + c;
        _mm512_store_ps(t, _mm512_fmadd_ps(p1[r], b, _mm512_fmadd_ps(p0[r], a, _mm512_load_ps(t))));
      }
    }
    if (tail) {
      const __m512 a = _mm512_maskz_loadu_ps(tail, x0 + full), b = _mm512_maskz_loadu_ps(tail, x1 + full);
#pragma GCC unroll 8
      for (int r = 0; r < S; ++r) {
        float* t = T + r * ldt + full;
        _mm512_store_ps(t, _mm512_fmadd_ps(p1[r], b, _mm512_fmadd_ps(p0[r], a, _mm512_load_ps(t))));
      }
    }
  }
  for (; k < K; ++k) {
    const float* x0 = X + (long)k * ldx;
    for (int c = 0; c < w; c += 16) {
      const __mmask16 m = c + 16 <= w ? (__mmask16)0xFFFF : tail;
      const __m512 a = _mm512_maskz_loadu_ps(m, x0 + c);
#pragma GCC unroll 8
      for (int r = 0; r < S; ++r) {
        float* t = T + r * ldt + c;
        _mm512_store_ps(t, _mm512_fmadd_ps(_mm512_set1_ps(P[(long)k * ldp + r]), a, _mm512_load_ps(t)));
      }
    }
  }
}

static void skinnyTn(const GemmArgs& g, int i0, int i1, int j0, int j1, bool wideIsN) {
  // P (K × s): the narrow side's k-major operand; X (K × w): the wide side's
  const int s = wideIsN ? i1 - i0 : j1 - j0;
  const int w0 = wideIsN ? j0 : i0, w1 = wideIsN ? j1 : i1;
  const float* P = wideIsN ? g.A + i0 : g.B + j0;
  const long ldp = wideIsN ? g.csA : g.rsB;
  const float* Xb = wideIsN ? g.B : g.A;
  const long ldx = wideIsN ? g.rsB : g.csA;
  thread_local std::vector<float> tbuf;
  const long ldt = kTnCols;
  float* T = scratch(tbuf, 8 * ldt);
  const bool overwrite = !g.accumulate;
  for (int c0 = w0; c0 < w1; c0 += kTnCols) {
    const int w = std::min(kTnCols, w1 - c0);
    const int wpad = (w + 15) / 16 * 16;
    // the block's sums start from C (rows of it, or its columns when transposed) or from zero
    for (int r = 0; r < s; ++r) {
      float* t = T + r * ldt;
      if (overwrite) std::memset(t, 0, w * sizeof(float));
      else if (wideIsN) std::memcpy(t, g.C + (long)(i0 + r) * g.ldc + c0, w * sizeof(float));
      else for (int c = 0; c < w; ++c) t[c] = g.C[(long)(c0 + c) * g.ldc + j0 + r];
      std::memset(t + w, 0, (wpad - w) * sizeof(float));
    }
    const float* X = Xb + c0;
    switch (s) {
      case 1: tnStream<1>(P, ldp, X, ldx, g.K, w, T, ldt); break;
      case 2: tnStream<2>(P, ldp, X, ldx, g.K, w, T, ldt); break;
      case 3: tnStream<3>(P, ldp, X, ldx, g.K, w, T, ldt); break;
      case 4: tnStream<4>(P, ldp, X, ldx, g.K, w, T, ldt); break;
      case 5: tnStream<5>(P, ldp, X, ldx, g.K, w, T, ldt); break;
      case 6: tnStream<6>(P, ldp, X, ldx, g.K, w, T, ldt); break;
      case 7: tnStream<7>(P, ldp, X, ldx, g.K, w, T, ldt); break;
      default: tnStream<8>(P, ldp, X, ldx, g.K, w, T, ldt); break;
    }
    for (int r = 0; r < s; ++r) {
      const float* t = T + r * ldt;
      if (wideIsN) std::memcpy(g.C + (long)(i0 + r) * g.ldc + c0, t, w * sizeof(float));
      else for (int c = 0; c < w; ++c) g.C[(long)(c0 + c) * g.ldc + j0 + r] = t[c];
    }
  }
}

void range(const GemmArgs& g, int i0, int i1, int j0, int j1) {
  static const Blocks bl = gemmBlocks(Kernel::MR, Kernel::NR, 4);
  if (g.K > 0 && i1 > i0 && j1 > j0 && (j1 - j0 <= 8 || (i1 - i0 <= 8 && g.csB == 1))) {
    if (g.A2 != nullptr) {   // the skinny kernels take one product: matmulPlus's two in turn
      range(mainProduct(g), i0, i1, j0, j1);
      range(plusProduct(g), i0, i1, j0, j1);
      return;
    }
    if (g.colSumsB != nullptr && i0 == 0) sumColumnsB(g, j0, j1);   // (they do not pack B)
    GemmArgs h = g;   // the skinny kernels start from a filled C
    h.colSumsB = nullptr;
    if (g.bias) {
      fillBiasRows(g, i0, i1, j0, j1);
      h.bias = nullptr;
    }
    if (g.rsA == 1 && g.csA != 1 && g.csB == 1 && g.rsB != 1) return skinnyTn(h, i0, i1, j0, j1, i1 - i0 <= 8);
    if (j1 - j0 <= 8) return skinnyN(h, i0, i1, j0, j1);
    return skinnyM(h, i0, i1, j0, j1);
  }
  gemmRange<Kernel>(g, i0, i1, j0, j1, bl);
}

}  // namespace avx512

const GemmVariant kGemmAvx512 = {"avx512", avx512::Kernel::MR, avx512::Kernel::NR, avx512::range};

}  // namespace fmn
