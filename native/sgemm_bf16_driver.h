// The bf16 mixed-precision GEMM loop nest: the fp32 driver's blocking (sgemm_driver.h), but the
// A and B panels are converted to bf16 (round to nearest even, as VCVTNEPS2BF16: denormals
// flushed to zero) while they are packed, and the micro-kernel accumulates in fp32 and writes
// fp32 C. Templated on a micro-kernel `KT` with
//   KT::MR, KT::NR            register / tile block (rows of op(A) × columns of op(B))
//   KT::KP                    depth granularity: kc is zero-padded to kcp, a multiple of KP
//   KT::blocks()              the cache blocks (Blocks: the deepest pass kc, MC fixed or from
//                             the pass depth, NC), kc a multiple of KP
//   KT::packA(g, i0, mr, p0, kc, kcp, ap)   one MR-row panel of op(A), MR·kcp bf16
//   KT::kPairedA              A panels laid out as packPairs<MR> (then a transposed op(A) is
//                             packed a block at a time, packPairsBlock)
//   KT::micro(kcp, a, b, c, ldc, start, lds) C tile = S + a-panel · b-panel, the accumulators
//                             started from S (rows at `start`, stride lds: C's values, or with
//                             kBiasRow a bias row at lds 0), zero when start is null (each
//                             element one chain through every pass: the blocking never changes
//                             a result), full tile only
//   KT::kBiasRow              micro takes a bias row (lds 0) as S; else a bias is filled into C first
//   KT::begin(), KT::end()    per-call setup (AMX: tile configuration / release)
// B panels are always pair-interleaved: bp[p][j][2] = (op(B)[2p][j], op(B)[2p+1][j]), NR
// columns, as both vdpbf16ps and the AMX B tile read them.
// Included inside a per-ISA namespace after `#pragma GCC target` naming avx512bf16.
// Needs <immintrin.h>, <algorithm>, <cstdint>, <cstring>, <vector>, sgemm_args.h first.

// n floats at x (clamped to [0, 16]), zero past n, as fp32 lanes; nothing past n is read.
static inline __m512 load16(const float* x, int n) {
  if (n <= 0) return _mm512_setzero_ps();
  const __mmask16 m = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
  return _mm512_maskz_loadu_ps(m, x);
}

// Along k: n (≤ 32) floats contiguous in k, zero past n → 16 pair words (x[2q], x[2q+1]).
static inline __m512i pairsAlongK(const float* x, int n) {
  // VCVTNE2PS2BF16: lanes 0-15 from its second operand, 16-31 from its first
  return (__m512i)_mm512_cvtne2ps_pbh(load16(x + 16, n - 16), load16(x, n));
}

// Across: x and y contiguous over t (n ≤ 16 valid, y may be null = zeros) → 16 pair words (x[t], y[t]).
static inline __m512i pairsAcross(const float* x, const float* y, int n) {
  const __m512i both = (__m512i)_mm512_cvtne2ps_pbh(y ? load16(y, n) : _mm512_setzero_ps(), load16(x, n));   // x0..x15 y0..y15
  const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                       23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  return _mm512_permutexvar_epi16(idx, both);                                                            // x0 y0 x1 y1 …
}

// 16 words at w to dst[0], dst[stride], …, the first n of them.
static inline void scatterWords(__m512i w, uint32_t* dst, long stride, int n) {
  alignas(64) uint32_t tmp[16];
  _mm512_store_si512(tmp, w);
  for (int t = 0; t < n; ++t) dst[t * stride] = tmp[t];
}

#include "transpose16.h"

// Pair-interleaved panel of R lanes: out[p][t] (words) = (X(t, 2p), X(t, 2p+1)) for lanes t < len
// (zero for t ≥ len and for 2p ≥ kc), where X(t, k) = X[t·rsT + k·csK] and p < kcp/2.
template <int R>
static void packPairs(const float* X, long rsT, long csK, int len, int kc, int kcp, uint16_t* out16) {
  uint32_t* out = reinterpret_cast<uint32_t*>(out16);
  const int np = kcp / 2;
  if (rsT == 1) {
    // lanes contiguous (op(B) rows; a transposed op(A) goes through packPairsBlock): interleave
    // rows 2p and 2p+1
    for (int p = 0; p < np; ++p) {
      const int k = 2 * p;
      const float* x = k < kc ? X + k * csK : nullptr;
      const float* y = k + 1 < kc ? X + (k + 1) * csK : nullptr;
      for (int t0 = 0; t0 < R; t0 += 16) {
        const int n = std::min(16, R - t0);
        const int valid = std::max(0, std::min(n, len - t0));
        const __m512i w = x && valid > 0 ? pairsAcross(x + t0, y ? y + t0 : nullptr, valid) : _mm512_setzero_si512();
        const __mmask16 m = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
        _mm512_mask_storeu_epi32(out + (long)p * R + t0, m, w);
      }
    }
  } else if (csK == 1) {
    // k contiguous (op(A) rows, or a transposed op(B)): convert 16 lanes × 16 pairs along k,
    // transpose in registers, store one row of 16 lanes per pair
    for (int t0 = 0; t0 < R; t0 += 16) {
      const int n = std::min(16, R - t0), valid = std::max(0, std::min(n, len - t0));
      const __mmask16 m = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
      for (int p0 = 0; p0 < np; p0 += 16) {
        __m512i r[16];
        for (int q = 0; q < 16; ++q)
          r[q] = q < valid ? pairsAlongK(X + (long)(t0 + q) * rsT + 2 * p0, kc - 2 * p0) : _mm512_setzero_si512();
        transpose16(r);
        for (int pp = 0; pp < std::min(16, np - p0); ++pp) _mm512_mask_storeu_epi32(out + (long)(p0 + pp) * R + t0, m, r[pp]);
      }
    }
  } else {
    // any strides (not produced by sgemm's orientations; kept for completeness)
    alignas(64) float pair[32];
    for (int t = 0; t < R; ++t)
      for (int p0 = 0; p0 < np; p0 += 16) {
        const int n = std::min(16, np - p0);
        for (int q = 0; q < 32; ++q) {
          const int k = 2 * p0 + q;
          pair[q] = t < len && k < kc ? X[t * rsT + (long)k * csK] : 0.f;
        }
        scatterWords(pairsAlongK(pair, 32), out + (long)p0 * R + t, R, n);
      }
  }
}

// packPairs over a whole block of mc lanes contiguous in memory (a transposed op(A)): the R-lane
// panels one after another (panel q at out16 + q·R·kcp), the pairs outermost, so each k row's mc
// floats are read once for every panel rather than once per panel, and fetched ahead.
template <int R>
static void packPairsBlock(const float* X, long csK, int mc, int kc, int kcp, uint16_t* out16) {
  uint32_t* out = reinterpret_cast<uint32_t*>(out16);
  const int np = kcp / 2, panels = (mc + R - 1) / R;
  constexpr int kAhead = 16;
  static_assert(R <= 16, "one 16-lane chunk per panel");
  for (int p = 0; p < np; ++p) {
    const int k = 2 * p;
    const float* x = k < kc ? X + k * csK : nullptr;
    const float* y = k + 1 < kc ? X + (k + 1) * csK : nullptr;
    for (int q = k + kAhead; q < std::min(kc, k + kAhead + 2); ++q) {
      const float* ahead = X + (long)q * csK;
      for (int t = 0; t < mc; t += 16) _mm_prefetch(reinterpret_cast<const char*>(ahead + t), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(ahead + mc - 1), _MM_HINT_T0);
    }
    const __mmask16 m = (__mmask16)((1u << R) - 1);
    for (int q = 0; q < panels; ++q) {
      const int valid = std::min(R, mc - q * R);
      const __m512i w = x ? pairsAcross(x + q * R, y ? y + q * R : nullptr, valid) : _mm512_setzero_si512();
      _mm512_mask_storeu_epi32(out + (long)q * R * np + (long)p * R, m, w);
    }
  }
}

// Row-major panel of R rows: out[t][k] (bf16) = X(t, k), zero past len rows and past kc.
template <int R>
static void packRows(const float* X, long rsT, long csK, int len, int kc, int kcp, uint16_t* out) {
  if (csK == 1) {
    for (int t = 0; t < R; ++t) {
      uint16_t* o = out + (long)t * kcp;
      if (t >= len) { std::memset(o, 0, kcp * sizeof(uint16_t)); continue; }
      const float* x = X + t * rsT;
      for (int k0 = 0; k0 < kcp; k0 += 32) _mm512_storeu_si512(o + k0, pairsAlongK(x + k0, kc - k0));
    }
  } else {
    // rows are strided, k is not contiguous: build the pairs across 16 rows for 16 pairs,
    // transpose in registers, store 16 pairs (32 bf16) per row
    uint32_t* o32 = reinterpret_cast<uint32_t*>(out);
    const long rowWords = kcp / 2;
    for (int t0 = 0; t0 < R; t0 += 16) {
      const int n = std::min(16, R - t0), valid = std::max(0, std::min(n, len - t0));
      for (int p0 = 0; p0 < rowWords; p0 += 16) {
        __m512i r[16];
        for (int pp = 0; pp < 16; ++pp) {
          const int k = 2 * (p0 + pp);
          r[pp] = _mm512_setzero_si512();
          if (k >= kc || valid == 0) continue;
          if (rsT == 1) {
            r[pp] = pairsAcross(X + (long)k * csK + t0, k + 1 < kc ? X + (long)(k + 1) * csK + t0 : nullptr, valid);
          } else {
            alignas(64) float x[16] = {}, y[16] = {};
            for (int t = 0; t < valid; ++t) {
              x[t] = X[(t0 + t) * rsT + (long)k * csK];
              y[t] = k + 1 < kc ? X[(t0 + t) * rsT + (long)(k + 1) * csK] : 0.f;
            }
            r[pp] = pairsAcross(x, y, 16);
          }
        }
        transpose16(r);
        const int w = std::min<long>(16, rowWords - p0);
        const __mmask16 m = w >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << w) - 1);
        for (int q = 0; q < n; ++q) _mm512_mask_storeu_epi32(o32 + (long)(t0 + q) * rowWords + p0, m, r[q]);
      }
    }
  }
}

// 64-byte aligned bf16 scratch that lives as long as the thread and only grows.
static uint16_t* scratch16(std::vector<uint16_t>& v, long n) {
  if ((long)v.size() < n + 32) v.resize(n + 32);
  auto p = reinterpret_cast<uintptr_t>(v.data());
  return reinterpret_cast<uint16_t*>((p + 63) & ~uintptr_t(63));
}

// op(B) packed whole, as gemmRangeBf16 packs it block by block: pass after pass (depth KC, the
// last zero-padded to kcp), each pass its NR-column panels for all N columns (Np of them, N
// rounded up to NR), so the pass at depth pc starts at pc·Np (every earlier pass is KC deep, a
// multiple of KP) and the panel of column j at j·kcp within it.
template <class KT>
static long packedBElemsBf16(int K, int N) {
  constexpr int NR = KT::NR, KP = KT::KP;
  const int KC = passDepth(K, KT::blocks().kc, KP > 8 ? KP : 8);
  const long Np = (long)(N + NR - 1) / NR * NR;
  long n = 0;
  for (int pc = 0; pc < K; pc += KC) n += (long)((std::min(KC, K - pc) + KP - 1) / KP * KP) * Np;
  return n;
}

// Columns j0 ≤ j < j1 of it (j0 a multiple of NR; threads pack disjoint ranges of one block).
template <class KT>
static void packBWholeBf16(const GemmArgs& g, uint16_t* out, int j0, int j1) {
  constexpr int NR = KT::NR, KP = KT::KP;
  const int KC = passDepth(g.K, KT::blocks().kc, KP > 8 ? KP : 8);
  const long Np = (long)(g.N + NR - 1) / NR * NR;
  for (int pc = 0; pc < g.K; pc += KC) {
    const int kc = std::min(KC, g.K - pc), kcp = (kc + KP - 1) / KP * KP;
    for (int jp = j0; jp < std::min(j1, g.N); jp += NR)
      packPairs<NR>(g.B + (long)pc * g.rsB + (long)jp * g.csB, g.csB, g.rsB, std::min(NR, g.N - jp), kc, kcp,
                    out + (long)pc * Np + (long)jp * kcp);
  }
}

template <class KT>
static void gemmRangeBf16(const GemmArgs& g, int i0, int i1, int j0, int j1) {
  constexpr int MR = KT::MR, NR = KT::NR, KP = KT::KP;
  if (i1 <= i0 || j1 <= j0) return;
  if (!KT::kBiasRow && g.bias) {   // this kernel starts from a filled C
    fillBiasRows(g, i0, i1, j0, j1);
    GemmArgs h = g;
    h.bias = nullptr;
    return gemmRangeBf16<KT>(h, i0, i1, j0, j1);
  }
  // K = 0: op(A)·op(B) is the zero matrix
  if (g.K == 0) {
    if (g.bias) fillBiasRows(g, i0, i1, j0, j1);
    else if (!g.accumulate)
      for (int i = i0; i < i1; ++i) std::memset(g.C + i * g.ldc + j0, 0, (j1 - j0) * sizeof(float));
    return;
  }
  // the depth in evened-out passes of at most bl.kc, each a multiple of KP and of 8 (so only the
  // last pass is zero-padded); the A block's rows from that depth
  const Blocks& bl = KT::blocks();
  const int KC = passDepth(g.K, bl.kc, KP > 8 ? KP : 8);
  const int MC = blockRows(bl, KC, MR, 2), NC = bl.nc;
  thread_local std::vector<uint16_t> abuf, bbuf;
  const long MCr = (MC + MR - 1) / MR * MR, NCr = (NC + NR - 1) / NR * NR, Np = (long)(g.N + NR - 1) / NR * NR;
  uint16_t* ap = scratch16(abuf, MCr * KC);
  uint16_t* bp = g.packedB ? nullptr : scratch16(bbuf, (long)KC * NCr);
  alignas(64) float edge[MR * NR];
  KT::begin();

  for (int jc = j0; jc < j1; jc += NC) {                        // 5th loop: NC columns
    const int nc = std::min(NC, j1 - jc);
    for (int pc = 0; pc < g.K; pc += KC) {                      // 4th loop: KC depth
      const int kc = std::min(KC, g.K - pc), kcp = (kc + KP - 1) / KP * KP;
      // B: (kcp/2, NR, 2) panels, packed here or already (packBWholeBf16; jc is a multiple of NR)
      const uint16_t* bpc = g.packedB ? g.packedB + (long)pc * Np + (long)jc * kcp : bp;
      if (!g.packedB)
        for (int jp = 0; jp < nc; jp += NR)
          packPairs<NR>(g.B + (long)pc * g.rsB + (long)(jc + jp) * g.csB, g.csB, g.rsB, std::min(NR, nc - jp),
                        kc, kcp, bp + (long)jp * kcp);
      for (int ic = i0; ic < i1; ic += MC) {                    // 3rd loop: MC rows
        const int mc = std::min(MC, i1 - ic);
        bool packed = false;
        if constexpr (KT::kPairedA) {
          if (g.rsA == 1 && g.csA != 1) {
            packPairsBlock<MR>(g.A + ic + (long)pc * g.csA, g.csA, mc, kc, kcp, ap);
            packed = true;
          }
        }
        if (!packed)
          for (int ip = 0; ip < mc; ip += MR) KT::packA(g, ic + ip, std::min(MR, mc - ip), pc, kc, kcp, ap + (long)ip * kcp);
        for (int jr = 0; jr < nc; jr += NR) {                   // 2nd loop: NR columns
          const int nr = std::min(NR, nc - jr);
          const uint16_t* b = bpc + (long)jr * kcp;
          for (int ir = 0; ir < mc; ir += MR) {                 // 1st loop: MR rows
            const int mr = std::min(MR, mc - ir);
            const uint16_t* a = ap + (long)ir * kcp;
            float* c = g.C + (long)(ic + ir) * g.ldc + jc + jr;
            const TileStart s = tileStart(g, pc, jc + jr, c);   // a bias-first tile's C is written, never read
            if (mr == MR && nr == NR) {
              KT::micro(kcp, a, b, c, g.ldc, s.p, s.ld);
            } else {
              // ragged tile: the full tile aside (the valid part of its start copied in), then the valid part back
              if (s.p != nullptr) {
                std::memset(edge, 0, sizeof edge);
                for (int r = 0; r < mr; ++r) std::memcpy(edge + r * NR, s.p + r * s.ld, nr * sizeof(float));
              }
              KT::micro(kcp, a, b, edge, NR, s.p != nullptr ? edge : nullptr, NR);
              for (int r = 0; r < mr; ++r) std::memcpy(c + r * g.ldc, edge + r * NR, nr * sizeof(float));
            }
          }
        }
      }
    }
  }
  KT::end();
}
