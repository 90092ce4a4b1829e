// Causal attention's products for AVX-512, without packing and without the upper triangle.
// attention.cc calls these when the AVX-512 GEMM variant is in use; otherwise it runs the same
// products as small strided GEMMs over the full T×T block. Both give the same bits: every
// element here is the GEMM's own chain of fused multiply-adds in k order (from zero, or from
// C when accumulating), and the terms left out are the products with the zeros above the
// diagonal of att / ds, which add nothing.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "attention_kernels.h"

#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,fma,avx2")
#include "vmath_avx512.h"

namespace fmn {
namespace attn512 {
namespace {

inline __mmask16 tailMask(long n) { return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1); }

#include "transpose16.h"

using vmath512::expFast16;

// The largest of 16 lanes (exact in any order). The maskz forms keep GCC 12 from warning about
// the undefined vectors its unmasked intrinsics start from.
inline float laneMax(__m512 v) {
  __m256 m = _mm256_max_ps(_mm512_maskz_extractf32x8_ps(0xFF, v, 0), _mm512_maskz_extractf32x8_ps(0xFF, v, 1));
  __m128 q = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  q = _mm_max_ps(q, _mm_movehl_ps(q, q));
  q = _mm_max_ss(q, _mm_shuffle_ps(q, q, 1));
  return _mm_cvtss_f32(q);
}

}  // namespace

// xT (hs, T) = x (T, hs) with row stride rs, in 16×16 blocks transposed in registers.
void transposeHead(float* xT, const float* x, long rs, long T, long hs) {
  for (long j0 = 0; j0 < T; j0 += 16) {
    const long nj = std::min(16L, T - j0);
    for (long d0 = 0; d0 < hs; d0 += 16) {
      const __mmask16 md = tailMask(hs - d0);
      __m512i r[16];
      for (long i = 0; i < 16; ++i)
        r[i] = i < nj ? _mm512_castps_si512(_mm512_maskz_loadu_ps(md, x + (j0 + i) * rs + d0)) : _mm512_setzero_si512();
      transpose16(r);
      const __mmask16 mj = tailMask(nj);
      const long nd = std::min(16L, hs - d0);
      for (long i = 0; i < nd; ++i) _mm512_mask_storeu_ps(xT + (d0 + i) * T + j0, mj, _mm512_castsi512_ps(r[i]));
    }
  }
}

// x·scale, rounded: kept from being fused into the subtraction that follows (the generic row
// stores the product before it subtracts).
inline __m512 scaled(__m512 x, __m512 vs) {
  __m512 v = _mm512_mul_ps(x, vs);
  __asm__("" : "+v"(v));
  return v;
}

// The causal rows go in groups of 16, t0 ≤ t < t0 + 16 with t0 a multiple of 16: every row of a
// group has the same t0/16 full vectors before the diagonal block (columns t0 … t0+15), where row
// t0 + r has r + 1 terms. So the loops over a group's rows all run the same number of times (a
// row-by-row loop over t + 1 terms ends at a different count on every row, one mispredicted
// branch each, which had made the rows' serial parts queue instead of overlap), and the serial
// parts of lanes.h's order are done for all 16 rows at once with the group's vectors transposed:
// lane r of column j holds row r's term j, so "each leftover term added into lane 0 in order"
// is one masked add per column, and "0 + lane 0 + … + lane 15" one add per lane — every row's
// additions in the order the generic row computes them, so the same bits.

// Rows r < rows of the group's sums acc[r] (16 lanes) with the leftover terms of the diagonal
// block dg[r] (lanes ≤ r) added into lane 0 in order for r < 15 (row 15's diagonal vector is a
// full one, already in its sum), then each row's 0 + lane 0 + … + lane 15: lane r of the result.
// fma: the leftovers are products dg·dg2 added with a fused multiply-add (lanes.h's laneDot).
template <bool kFma>
inline __m512 groupTotals(__m512 acc[16], __m512 dg[16], __m512 dg2[16]) {
  transpose16(acc);
  transpose16(dg);
  if (kFma) transpose16(dg2);
  __m512 lane0 = acc[0];
#pragma GCC unroll 15
  for (int j = 0; j < 15; ++j) {   // column j: rows j ≤ r < 15
    const __mmask16 k = (__mmask16)(0x7FFFu & (0xFFFFu << j));
    lane0 = kFma ? _mm512_mask3_fmadd_ps(dg[j], dg2[j], lane0, k) : _mm512_mask_add_ps(lane0, k, lane0, dg[j]);
  }
  acc[0] = lane0;
  __m512 total = _mm512_setzero_ps();
#pragma GCC unroll 16
  for (int l = 0; l < 16; ++l) total = _mm512_add_ps(total, acc[l]);
  return total;
}

// Row t of S (row stride ldS) becomes softmax(scale·S[t][0..t]) followed by zeros, for t < T:
// the products with scale, the max, expFast of each term minus the max, their sum in lanes.h's
// order and the products with its reciprocal — attention.cc's generic rows, bit for bit.
void causalSoftmaxRows(float* S, long ldS, long T, float scale) {
  const __m512 vs = _mm512_set1_ps(scale);
  for (long t0 = 0; t0 < T; t0 += 16) {
    const long rows = std::min(16L, T - t0), F = t0 / 16;
    const __mmask16 inRow = tailMask(T - t0);      // the diagonal block's columns inside a row
    alignas(64) float mxs[16], inv[16];
    __m512 acc[16], dg[16];
    for (long r = 0; r < rows; ++r) {              // each row's max of scale·s
      const float* a = S + (t0 + r) * ldS;
      __m512 mx = _mm512_set1_ps(-INFINITY);
      for (long f = 0; f < F; ++f) mx = _mm512_maskz_max_ps(0xFFFF, mx, _mm512_mul_ps(_mm512_loadu_ps(a + 16 * f), vs));
      const __mmask16 m = tailMask(r + 1);
      mx = _mm512_mask_max_ps(mx, m, mx, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, a + t0), vs));
      mxs[r] = laneMax(mx);
    }
    for (long r = 0; r < rows; ++r) {              // e = exp(scale·s − max), summed in 16 lanes
      float* a = S + (t0 + r) * ldS;
      const __m512 vmx = _mm512_set1_ps(mxs[r]);
      __m512 sum = _mm512_setzero_ps();
      for (long f = 0; f < F; ++f) {
        const __m512 e = expFast16(_mm512_sub_ps(scaled(_mm512_loadu_ps(a + 16 * f), vs), vmx));
        _mm512_storeu_ps(a + 16 * f, e);
        sum = _mm512_add_ps(sum, e);
      }
      const __mmask16 m = tailMask(r + 1);
      dg[r] = _mm512_maskz_mov_ps(m, expFast16(_mm512_sub_ps(scaled(_mm512_maskz_loadu_ps(m, a + t0), vs), vmx)));
      if (r == 15) sum = _mm512_add_ps(sum, dg[r]);
      acc[r] = sum;
    }
    for (long r = rows; r < 16; ++r) acc[r] = dg[r] = _mm512_setzero_ps();
    __m512 dgT[16];
    for (int r = 0; r < 16; ++r) dgT[r] = dg[r];
    _mm512_store_ps(inv, _mm512_div_ps(_mm512_set1_ps(1.0f), groupTotals<false>(acc, dgT, dgT)));
    for (long r = 0; r < rows; ++r) {              // normalize; zeros above the diagonal
      float* a = S + (t0 + r) * ldS;
      const __m512 vi = _mm512_set1_ps(inv[r]);
      for (long f = 0; f < F; ++f) _mm512_storeu_ps(a + 16 * f, _mm512_mul_ps(_mm512_loadu_ps(a + 16 * f), vi));
      _mm512_mask_storeu_ps(a + t0, inRow, _mm512_mul_ps(dg[r], vi));
      for (long j = t0 + 16; j < T; j += 16) _mm512_mask_storeu_ps(a + j, tailMask(T - j), _mm512_setzero_ps());
    }
  }
}

// Row t of ds (row stride ldds, datt on entry) becomes att ⊙ (datt − Σ datt·att) · scale over
// j ≤ t and zeros after: the dot as lanes.h's laneDot (fused multiply-adds, leftovers into lane
// 0), then (a · (ds − dot)) · scale — attention.cc's generic rows, bit for bit; in groups of 16
// rows, as the forward.
void causalSoftmaxBwdRows(float* ds, long ldds, const float* att, long lda, long T, float scale) {
  const __m512 vs = _mm512_set1_ps(scale);
  for (long t0 = 0; t0 < T; t0 += 16) {
    const long rows = std::min(16L, T - t0), F = t0 / 16;
    const __mmask16 inRow = tailMask(T - t0);
    alignas(64) float dots[16];
    __m512 acc[16], dd[16], ad[16];
    for (long r = 0; r < rows; ++r) {
      const float* d = ds + (t0 + r) * ldds;
      const float* a = att + (t0 + r) * lda;
      __m512 sum = _mm512_setzero_ps();
      for (long f = 0; f < F; ++f) sum = _mm512_fmadd_ps(_mm512_loadu_ps(d + 16 * f), _mm512_loadu_ps(a + 16 * f), sum);
      const __mmask16 m = tailMask(r + 1);
      dd[r] = _mm512_maskz_loadu_ps(m, d + t0);
      ad[r] = _mm512_maskz_loadu_ps(m, a + t0);
      if (r == 15) sum = _mm512_fmadd_ps(dd[r], ad[r], sum);
      acc[r] = sum;
    }
    for (long r = rows; r < 16; ++r) acc[r] = dd[r] = ad[r] = _mm512_setzero_ps();
    __m512 ddT[16], adT[16];
    for (int r = 0; r < 16; ++r) { ddT[r] = dd[r]; adT[r] = ad[r]; }
    _mm512_store_ps(dots, groupTotals<true>(acc, ddT, adT));
    for (long r = 0; r < rows; ++r) {
      float* d = ds + (t0 + r) * ldds;
      const float* a = att + (t0 + r) * lda;
      const __m512 dot = _mm512_set1_ps(dots[r]);
      for (long f = 0; f < F; ++f)
        _mm512_storeu_ps(d + 16 * f, _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(a + 16 * f), _mm512_sub_ps(_mm512_loadu_ps(d + 16 * f), dot)), vs));
      const __m512 g = _mm512_mul_ps(_mm512_mul_ps(ad[r], _mm512_sub_ps(dd[r], dot)), vs);
      _mm512_mask_storeu_ps(d + t0, inRow, _mm512_maskz_mov_ps(tailMask(r + 1), g));
      for (long j = t0 + 16; j < T; j += 16) _mm512_mask_storeu_ps(d + j, tailMask(T - j), _mm512_setzero_ps());
    }
  }
}

// One block of lowerRowsTimesT: R rows (rows ≤ R valid) × up to 32 columns.
template <int R>
inline void rowsTimesTBlock(float* S, long ldS, const float* A, long lda, const float* BT, long ldbt, long K, long rows, __mmask16 m0, __mmask16 m1) {
  __m512 acc[R][2];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (long d = 0; d < K; ++d) {
    const float* b = BT + d * ldbt;
    const __m512 b0 = _mm512_maskz_loadu_ps(m0, b), b1 = _mm512_maskz_loadu_ps(m1, b + 16);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 a = _mm512_set1_ps(A[r * lda + d]);
      acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    if (r >= rows) break;
    _mm512_mask_storeu_ps(S + r * ldS, m0, acc[r][0]);
    _mm512_mask_storeu_ps(S + r * ldS + 16, m1, acc[r][1]);
  }
}

// S[t][j] = Σ_d A[t][d]·BT[d][j] for t < T and the column blocks of 32 that reach j ≤ t (the
// rest of a row is left as it was; the softmax zeroes everything above the diagonal). Eight
// rows at a time; the last rows of A are read only when they exist.
void lowerRowsTimesT(float* S, long ldS, const float* A, long lda, const float* BT, long ldbt, long T, long K) {
  constexpr long R = 8;
  for (long t0 = 0; t0 < T; t0 += R) {
    const long rows = std::min(R, T - t0);
    const long jEnd = std::min(T, t0 + rows);          // columns j < jEnd hold all j ≤ t of these rows
    for (long j0 = 0; j0 < jEnd; j0 += 32) {
      const long nj = std::min(32L, jEnd - j0);
      const __mmask16 m0 = tailMask(nj), m1 = tailMask(nj - 16);
      float* s = S + t0 * ldS + j0;
      const float* a = A + t0 * lda;
      const float* b = BT + j0;
      switch (rows) {
        case 8: rowsTimesTBlock<8>(s, ldS, a, lda, b, ldbt, K, rows, m0, m1); break;
        case 7: rowsTimesTBlock<7>(s, ldS, a, lda, b, ldbt, K, rows, m0, m1); break;
        case 6: rowsTimesTBlock<6>(s, ldS, a, lda, b, ldbt, K, rows, m0, m1); break;
        case 5: rowsTimesTBlock<5>(s, ldS, a, lda, b, ldbt, K, rows, m0, m1); break;
        case 4: rowsTimesTBlock<4>(s, ldS, a, lda, b, ldbt, K, rows, m0, m1); break;
        case 3: rowsTimesTBlock<3>(s, ldS, a, lda, b, ldbt, K, rows, m0, m1); break;
        case 2: rowsTimesTBlock<2>(s, ldS, a, lda, b, ldbt, K, rows, m0, m1); break;
        default: rowsTimesTBlock<1>(s, ldS, a, lda, b, ldbt, K, rows, m0, m1); break;
      }
    }
  }
}

// One block of the row-times-matrix products: C's R rows × NV·16 columns (masked at the end),
// C (+)= Σ_{j < n} coef(r, j) · X[j·ldx …], with coef(r, j) = P[r·rs + j·cs].
template <int R, int NV>
inline void timesBlock(float* C, long ldc, const float* P, long rs, long cs, const float* X, long ldx, long j0, long j1,
                       const __mmask16* m, bool load) {
  __m512 acc[R][NV];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = load ? _mm512_maskz_loadu_ps(m[v], C + r * ldc + 16 * v) : _mm512_setzero_ps();
  for (long j = j0; j < j1; ++j) {
    const float* x = X + j * ldx;
    __m512 xv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) xv[v] = _mm512_maskz_loadu_ps(m[v], x + 16 * v);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 p = _mm512_set1_ps(P[r * rs + j * cs]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(p, xv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm512_mask_storeu_ps(C + r * ldc + 16 * v, m[v], acc[r][v]);
}

// Rows per block for NV vectors of accumulators (≤ 24 registers of them).
template <int NV> constexpr int rowsFor() { return NV == 1 ? 8 : NV == 2 ? 8 : NV == 3 ? 6 : 4; }

// The R-row block with the runtime row count `rows` ≤ rowsFor<NV>().
template <int NV>
inline void timesBlockRows(long rows, float* C, long ldc, const float* P, long rs, long cs, const float* X, long ldx, long j0, long j1,
                           const __mmask16* m, bool load) {
  switch (rows) {
    case 8: if constexpr (rowsFor<NV>() >= 8) { timesBlock<8, NV>(C, ldc, P, rs, cs, X, ldx, j0, j1, m, load); return; } break;
    case 7: if constexpr (rowsFor<NV>() >= 7) { timesBlock<7, NV>(C, ldc, P, rs, cs, X, ldx, j0, j1, m, load); return; } break;
    case 6: if constexpr (rowsFor<NV>() >= 6) { timesBlock<6, NV>(C, ldc, P, rs, cs, X, ldx, j0, j1, m, load); return; } break;
    case 5: if constexpr (rowsFor<NV>() >= 5) { timesBlock<5, NV>(C, ldc, P, rs, cs, X, ldx, j0, j1, m, load); return; } break;
    case 4: timesBlock<4, NV>(C, ldc, P, rs, cs, X, ldx, j0, j1, m, load); return;
    case 3: timesBlock<3, NV>(C, ldc, P, rs, cs, X, ldx, j0, j1, m, load); return;
    case 2: timesBlock<2, NV>(C, ldc, P, rs, cs, X, ldx, j0, j1, m, load); return;
    default: timesBlock<1, NV>(C, ldc, P, rs, cs, X, ldx, j0, j1, m, load); return;
  }
}

// Both products over row blocks: `lower` C[t] (+)= Σ_{j ≤ t} P[t][j]·X[j] (the block runs j up
// to its last row); otherwise C[j] += Σ_{t ≥ j} P[t][j]·X[t] (from the block's first row).
template <int NV>
void timesAll(float* C, long ldc, const float* P, long ldp, const float* X, long ldx, long T, long d0, long nd, bool accumulate, bool lower) {
  constexpr long R = rowsFor<NV>();
  __mmask16 m[NV];
  for (int v = 0; v < NV; ++v) m[v] = tailMask(nd - 16 * v);
  for (long i0 = 0; i0 < T; i0 += R) {
    const long rows = std::min(R, T - i0);
    float* c = C + i0 * ldc + d0;
    if (lower) timesBlockRows<NV>(rows, c, ldc, P + i0 * ldp, ldp, 1, X + d0, ldx, 0, i0 + rows, m, accumulate);
    else timesBlockRows<NV>(rows, c, ldc, P + i0, 1, ldp, X + d0, ldx, i0, T, m, accumulate);
  }
}

void timesDispatch(float* C, long ldc, const float* P, long ldp, const float* X, long ldx, long T, long D, bool accumulate, bool lower) {
  for (long d0 = 0; d0 < D; d0 += 64) {
    const long nd = std::min(64L, D - d0);
    switch ((nd + 15) / 16) {
      case 1: timesAll<1>(C, ldc, P, ldp, X, ldx, T, d0, nd, accumulate, lower); break;
      case 2: timesAll<2>(C, ldc, P, ldp, X, ldx, T, d0, nd, accumulate, lower); break;
      case 3: timesAll<3>(C, ldc, P, ldp, X, ldx, T, d0, nd, accumulate, lower); break;
      default: timesAll<4>(C, ldc, P, ldp, X, ldx, T, d0, nd, accumulate, lower); break;
    }
  }
}

// C[t][:D] (+)= Σ_{j ≤ t} P[t][j]·X[j][:D], P zero above its diagonal; `accumulate` continues
// C's chain, otherwise it starts from zero.
void lowerTimes(float* C, long ldc, const float* P, long ldp, const float* X, long ldx, long T, long D, bool accumulate) {
  timesDispatch(C, ldc, P, ldp, X, ldx, T, D, accumulate, true);
}

// C[j][:D] (+)= Σ_{t ≥ j} P[t][j]·X[t][:D] (P zero above its diagonal), in t order: continuing
// C's chain when `accumulate`, otherwise from zero (C's old values unread).
void lowerTransposedTimes(float* C, long ldc, const float* P, long ldp, const float* X, long ldx, long T, long D, bool accumulate) {
  timesDispatch(C, ldc, P, ldp, X, ldx, T, D, accumulate, false);
}

}  // namespace attn512
}  // namespace fmn
