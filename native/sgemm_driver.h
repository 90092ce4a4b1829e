// The blocked GEMM loop nest (BLIS / Goto), templated on a micro-kernel `KT` with
//   KT::MR, KT::NR            register tile (rows of op(A) × columns of op(B))
//   KT::micro(kc, a, b, c, ldc, start, lds)  C tile = S + a-panel · b-panel, accumulated in
//                             registers loaded from S first (then one FMA per k): S's rows at
//                             `start` with stride lds (C itself, or a bias row with lds 0), or
//                             zero when start is null. Full tile only.
//   KT::kPartRows, KT::microRows(mr, …)   micro's chain on the first mr < MR rows of a packed
//                             panel, mr rows of C read and written; kPartRows false: a ragged
//                             panel runs the full tile on a copy aside.
//   KT::kDirectA, KT::microDirect(kc, a, lda, b, c, ldc, start, lds)   the same with op(A)'s
//                             MR rows read in place (a[r·lda + k]), for blocks that serve few B
//                             panels (Blocks::directKc, kDirectPanels); kDirectA false: never.
// and the cache blocks `Blocks` (A block MC×KC and B micro-panel KC×NR in L2) chosen at run
// time from the cache sizes. Because the micro-kernel continues C's chain rather than adding a
// separate partial sum, C[i][j] is fma(a[i][K-1], b[K-1][j], … fma(a[i][0], b[0][j], c0)) for
// any KC: the blocking (and so the CPU's cache sizes) never changes a result's bits.
// Included inside a per-ISA namespace after `#pragma GCC target`, so everything here is
// compiled once per instruction set (no shared inline functions across variants).
// Needs <algorithm>, <cstring>, <type_traits>, <vector> and sgemm_args.h included first.

// Pack rows i0..i0+mc of op(A), depth p0..p0+kc, into MR-row panels: ap[panel][k][r].
// Rows past mc are zero so the micro-kernel always runs a full tile. A kernel with
// kFastPack packs both cases itself (KT::packARows: in-register transposes; KT::packAColsBlock:
// the whole block, k outermost).
template <class KT>
static void packA(const GemmArgs& g, int i0, int mc, int p0, int kc, float* ap) {
  constexpr int MR = KT::MR;
  if constexpr (KT::kFastPack) {
    if (g.rsA == 1 && g.csA != 1) {
      KT::packAColsBlock(g.A + i0 + (long)p0 * g.csA, g.csA, mc, kc, ap);
      return;
    }
  }
  for (int ip = 0; ip < mc; ip += MR, ap += (long)MR * kc) {
    const int mr = std::min(MR, mc - ip);
    const float* a = g.A + (i0 + ip) * g.rsA + p0 * g.csA;
    if constexpr (KT::kFastPack) {
      if (g.csA == 1) {
        KT::packARows(a, g.rsA, mr, kc, ap);
        continue;
      }
    }
    if (g.rsA == 1 && mr == MR) {
      // transA: a column of op(A) is contiguous
      for (int k = 0; k < kc; ++k)
        for (int r = 0; r < MR; ++r) ap[k * MR + r] = a[k * g.csA + r];
    } else {
      // op(A) rows are contiguous: read along k, write with stride MR
      for (int r = 0; r < mr; ++r)
        for (int k = 0; k < kc; ++k) ap[k * MR + r] = a[r * g.rsA + k * g.csA];
      for (int r = mr; r < MR; ++r)
        for (int k = 0; k < kc; ++k) ap[k * MR + r] = 0.f;
    }
  }
}

// Pack columns j0..j0+nc of op(B), depth p0..p0+kc, into NR-column panels: bp[panel][k][j].
// A kernel with kFastPack packs the transposed case (columns along k) itself (KT::packBCols).
// With `sums` (B row-major): sums[j] += each packed B[k][j], k in order (GemmArgs::colSumsB).
template <class KT>
static void packB(const GemmArgs& g, int j0, int nc, int p0, int kc, float* bp, float* sums = nullptr) {
  constexpr int NR = KT::NR;
  if (g.csB == 1 && nc >= NR && g.rsB >= 1024) {
    // B (K,N) with rows 4 KiB or more apart: row by row, each row's full panels in one
    // sequential read (panel by panel, every 128-byte piece of a row is on a page of its own,
    // where the hardware prefetcher does not follow)
    const int full = nc / NR;
    for (int k = 0; k < kc; ++k) {
      const float* b = g.B + (long)(p0 + k) * g.rsB + j0;
      for (int p = 0; p < full; ++p) std::memcpy(bp + (long)p * NR * kc + (long)k * NR, b + p * NR, NR * sizeof(float));
      if (sums != nullptr)
        for (int j = 0; j < full * NR; ++j) sums[j0 + j] += b[j];
    }
    bp += (long)full * NR * kc;
    j0 += full * NR;
    nc -= full * NR;
  }
  for (int jp = 0; jp < nc; jp += NR, bp += (long)NR * kc) {
    const int nr = std::min(NR, nc - jp);
    const float* b = g.B + (long)p0 * g.rsB + (j0 + jp) * g.csB;
    if constexpr (KT::kFastPack) {
      if (g.rsB == 1 && g.csB != 1) {
        KT::packBCols(b, g.csB, nr, kc, bp);
        continue;
      }
    }
    if (g.csB == 1 && nr == NR) {
      // B (K,N): a row of the panel is contiguous
      for (int k = 0; k < kc; ++k) std::memcpy(bp + k * NR, b + k * g.rsB, NR * sizeof(float));
      if (sums != nullptr) {
        float acc[NR];
        for (int j = 0; j < NR; ++j) acc[j] = sums[j0 + jp + j];
        for (int k = 0; k < kc; ++k)
          for (int j = 0; j < NR; ++j) acc[j] += b[k * g.rsB + j];
        for (int j = 0; j < NR; ++j) sums[j0 + jp + j] = acc[j];
      }
    } else {
      // transB (N,K) or a ragged edge: read along k, write with stride NR
      for (int j = 0; j < nr; ++j)
        for (int k = 0; k < kc; ++k) bp[k * NR + j] = b[k * g.rsB + j * g.csB];
      if (sums != nullptr)
        for (int j = 0; j < nr; ++j) {
          float acc = sums[j0 + jp + j];
          for (int k = 0; k < kc; ++k) acc += b[k * g.rsB + j];
          sums[j0 + jp + j] = acc;
        }
      for (int j = nr; j < NR; ++j)
        for (int k = 0; k < kc; ++k) bp[k * NR + j] = 0.f;
    }
  }
}

// 64-byte aligned scratch that lives as long as the thread and only grows.
static float* scratch(std::vector<float>& v, long n) {
  if ((long)v.size() < n + 16) v.resize(n + 16);
  auto p = reinterpret_cast<uintptr_t>(v.data());
  return reinterpret_cast<float*>((p + 63) & ~uintptr_t(63));
}

// Whether KT's micro-kernels take a second product's panels (KT::kTail; false when absent).
template <class KT, class = void>
struct HasTail { static constexpr bool value = false; };
template <class KT>
struct HasTail<KT, std::void_t<decltype(KT::kTail)>> { static constexpr bool value = KT::kTail; };
template <class KT>
static constexpr bool kTailOf() { return HasTail<KT>::value; }

// One tile: op(A)'s MR rows read in place at ad (row stride lda) when `direct`, else its packed
// panel a.
// With kc2 > 0, the second product's packed panels a2, b2 follow: in the same registers when the
// kernel takes them (KT::kTail), else as a second micro call from the stored tile.
template <class KT>
static inline void microTile(bool direct, int kc, const float* ad, long lda, const float* a, const float* b, float* c,
                             long ldc, const float* start, long lds, int kc2 = 0, const float* a2 = nullptr,
                             const float* b2 = nullptr) {
  if constexpr (kTailOf<KT>()) {
    if constexpr (KT::kDirectA) {
      if (direct) return KT::microDirect(kc, ad, lda, b, c, ldc, start, lds, kc2, a2, b2);
    }
    return KT::micro(kc, a, b, c, ldc, start, lds, kc2, a2, b2);
  } else {
    if constexpr (KT::kDirectA) {
      if (direct) KT::microDirect(kc, ad, lda, b, c, ldc, start, lds);
      else KT::micro(kc, a, b, c, ldc, start, lds);
    } else {
      KT::micro(kc, a, b, c, ldc, start, lds);
    }
    if (kc2 > 0) KT::micro(kc2, a2, b2, c, ldc, c, ldc);
  }
}

template <class KT>
static void gemmRange(const GemmArgs& g, int i0, int i1, int j0, int j1, const Blocks& bl) {
  constexpr int MR = KT::MR, NR = KT::NR;
  // a second product (matmulPlus) with no first one to ride on: one GEMM after the other
  if (g.A2 != nullptr && g.K == 0) {
    gemmRange<KT>(mainProduct(g), i0, i1, j0, j1, bl);
    gemmRange<KT>(plusProduct(g), i0, i1, j0, j1, bl);
    return;
  }
  const int NC = bl.nc;
  // the depth in evened-out passes of at most bl.kc; the A block's rows from that depth
  const int KC = passDepth(g.K, bl.kc, 8);
  const int MC = blockRows(bl, KC, MR, 4);
  if (i1 <= i0 || j1 <= j0) return;
  // K = 0: op(A)·op(B) is the zero matrix
  if (g.K == 0) {
    if (g.bias) fillBiasRows(g, i0, i1, j0, j1);
    else if (!g.accumulate)
      for (int i = i0; i < i1; ++i) std::memset(g.C + i * g.ldc + j0, 0, (j1 - j0) * sizeof(float));
    return;
  }
  // the column sums of op(B) (GemmArgs::colSumsB), by the range that starts at row 0
  float* sums = g.colSumsB != nullptr && i0 == 0 ? g.colSumsB : nullptr;
  thread_local std::vector<float> abuf, bbuf, a2buf, b2buf;
  float* ap = scratch(abuf, (long)MC * KC);
  float* bp = scratch(bbuf, (long)KC * ((NC + NR - 1) / NR * NR));
  alignas(64) float edge[MR * NR];
  // the second product (matmulPlus): its packed panels, applied to each tile after the last pass
  const bool plus = g.A2 != nullptr;
  const GemmArgs g2 = plus ? plusProduct(g) : g;
  const int K2 = plus ? g.K2 : 0;
  float* a2p = plus ? scratch(a2buf, (long)MC * K2) : nullptr;
  float* b2p = plus ? scratch(b2buf, (long)K2 * ((NC + NR - 1) / NR * NR)) : nullptr;

  for (int jc = j0; jc < j1; jc += NC) {                       // 5th loop: NC columns
    const int nc = std::min(NC, j1 - jc);
    if (plus) packB<KT>(g2, jc, nc, 0, K2, b2p);
    for (int pc = 0; pc < g.K; pc += KC) {                      // 4th loop: KC depth
      const int kc = std::min(KC, g.K - pc);
      const bool last = pc + kc >= g.K;
      const bool tail = plus && last;                           // the second product rides this pass
      packB<KT>(g, jc, nc, pc, kc, bp, sums);
      for (int ic = i0; ic < i1; ic += MC) {                    // 3rd loop: MC rows
        const int mc = std::min(MC, i1 - ic);
        // few B panels to serve: op(A)'s full MR-row panels are read in place, not packed first
        // (a ragged last panel still is); not when its rows lie a multiple of 4 KiB apart (all
        // 14 would share a few L1 sets)
        bool direct = false;
        if constexpr (KT::kDirectA)
          direct = g.csA == 1 && kc <= bl.directKc && nc <= kDirectPanels * NR && g.rsA % 1024 != 0;
        const int packFrom = direct ? mc / MR * MR : 0;
        if (packFrom < mc) packA<KT>(g, ic + packFrom, mc - packFrom, pc, kc, ap + (long)packFrom * kc);
        if (tail) packA<KT>(g2, ic, mc, 0, K2, a2p);
        for (int jr = 0; jr < nc; jr += NR) {                   // 2nd loop: NR columns
          const int nr = std::min(NR, nc - jr);
          const float* b = bp + (long)jr * kc;
          const float* b2 = tail ? b2p + (long)jr * K2 : nullptr;
          for (int ir = 0; ir < mc; ir += MR) {                 // 1st loop: MR rows
            const int mr = std::min(MR, mc - ir);
            float* c = g.C + (long)(ic + ir) * g.ldc + jc + jr;
            const TileStart s = tileStart(g, pc, jc + jr, c);   // a bias-first tile's C is written, never read
            // the next tile's C rows, on their way to L1 while this one computes (its chain starts from C)
            if (s.p == c && ir + MR < mc)
              for (int r = 0; r < MR; ++r) {
                __builtin_prefetch(c + (MR + r) * g.ldc, 1, 3);
                __builtin_prefetch(c + (MR + r) * g.ldc + NR - 1, 1, 3);
              }
            const float* ad = g.A + (long)(ic + ir) * g.rsA + pc;   // the tile's rows of op(A) in place (direct)
            const float* a = ap + (long)ir * kc;                    // or packed
            const float* a2 = tail ? a2p + (long)ir * K2 : nullptr;
            if (mr == MR && nr == NR) {   // (with the second product's K2 terms after the last pass's)
              microTile<KT>(direct, kc, ad, g.rsA, a, b, c, g.ldc, s.p, s.ld, tail ? K2 : 0, a2, b2);
              continue;
            }
            if constexpr (KT::kPartRows) {
              if (nr == NR) {   // a ragged panel, full width: its mr rows only, from its packed panel
                if constexpr (kTailOf<KT>()) KT::microRows(mr, kc, a, b, c, g.ldc, s.p, s.ld, tail ? K2 : 0, a2, b2);
                else {
                  KT::microRows(mr, kc, a, b, c, g.ldc, s.p, s.ld);
                  if (tail) KT::microRows(mr, K2, a2, b2, c, g.ldc, c, g.ldc);
                }
                continue;
              }
            }
            // ragged tile: the full tile aside (the valid part of its start copied in), then the valid part back
            if (s.p != nullptr) {
              std::memset(edge, 0, sizeof edge);
              for (int r = 0; r < mr; ++r) std::memcpy(edge + r * NR, s.p + r * s.ld, nr * sizeof(float));
            }
            const float* es = s.p != nullptr ? edge : nullptr;
            microTile<KT>(direct && mr == MR, kc, ad, g.rsA, a, b, edge, NR, es, NR, tail ? K2 : 0, a2, b2);
            for (int r = 0; r < mr; ++r) std::memcpy(c + r * g.ldc, edge + r * NR, nr * sizeof(float));
          }
        }
      }
    }
  }
}
