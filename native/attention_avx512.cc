// Causal attention's products for AVX-512, without packing and without the upper triangle.
// attention.cc calls these when the AVX-512 GEMM variant is in use; otherwise it runs the same
// products as small strided GEMMs over the full T×T block. Both give the same bits: every
// element here is the GEMM's own chain of fused multiply-adds in k order (from zero, or from
// C when accumulating), and the terms left out are the products with the zeros above the
// diagonal of att / ds, which add nothing.
#include <immintrin.h>

#include <algorithm>

#include "attention_kernels.h"

#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,fma,avx2")

namespace fmn {
namespace attn512 {
namespace {

inline __mmask16 tailMask(long n) { return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1); }

}  // namespace

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
    else timesBlockRows<NV>(rows, c, ldc, P + i0, 1, ldp, X + d0, ldx, i0, T, m, true);
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

// C[j][:D] += Σ_{t ≥ j} P[t][j]·X[t][:D] (P zero above its diagonal), continuing C's chain in
// t order.
void lowerTransposedTimes(float* C, long ldc, const float* P, long ldp, const float* X, long ldx, long T, long D) {
  timesDispatch(C, ldc, P, ldp, X, ldx, T, D, true, false);
}

}  // namespace attn512
}  // namespace fmn
