// The blocked GEMM loop nest (BLIS / Goto), templated on a micro-kernel `KT` with
//   KT::MR, KT::NR            register tile (rows of op(A) × columns of op(B))
//   KT::MC, KT::KC, KT::NC    cache blocks: A block (MC×KC) in L2, B micro-panel (KC×NR) in L1
//   KT::micro(kc, a, b, c, ldc, overwrite)   C tile (+)= a-panel · b-panel, full tile only.
// Included inside a per-ISA namespace after `#pragma GCC target`, so everything here is
// compiled once per instruction set (no shared inline functions across variants).
// Needs <algorithm>, <cstring>, <vector> and sgemm_args.h included first.

// Pack rows i0..i0+mc of op(A), depth p0..p0+kc, into MR-row panels: ap[panel][k][r].
// Rows past mc are zero so the micro-kernel always runs a full tile.
template <int MR>
static void packA(const GemmArgs& g, int i0, int mc, int p0, int kc, float* ap) {
  for (int ip = 0; ip < mc; ip += MR, ap += (long)MR * kc) {
    const int mr = std::min(MR, mc - ip);
    const float* a = g.A + (i0 + ip) * g.rsA + p0 * g.csA;
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
template <int NR>
static void packB(const GemmArgs& g, int j0, int nc, int p0, int kc, float* bp) {
  for (int jp = 0; jp < nc; jp += NR, bp += (long)NR * kc) {
    const int nr = std::min(NR, nc - jp);
    const float* b = g.B + (long)p0 * g.rsB + (j0 + jp) * g.csB;
    if (g.csB == 1 && nr == NR) {
      // B (K,N): a row of the panel is contiguous
      for (int k = 0; k < kc; ++k) std::memcpy(bp + k * NR, b + k * g.rsB, NR * sizeof(float));
    } else {
      // transB (N,K) or a ragged edge: read along k, write with stride NR
      for (int j = 0; j < nr; ++j)
        for (int k = 0; k < kc; ++k) bp[k * NR + j] = b[k * g.rsB + j * g.csB];
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

template <class KT>
static void gemmRange(const GemmArgs& g, int i0, int i1, int j0, int j1) {
  constexpr int MR = KT::MR, NR = KT::NR;
  if (i1 <= i0 || j1 <= j0) return;
  // K = 0: op(A)·op(B) is the zero matrix
  if (g.K == 0) {
    if (!g.accumulate)
      for (int i = i0; i < i1; ++i) std::memset(g.C + i * g.ldc + j0, 0, (j1 - j0) * sizeof(float));
    return;
  }
  thread_local std::vector<float> abuf, bbuf;
  float* ap = scratch(abuf, (long)KT::MC * KT::KC);
  float* bp = scratch(bbuf, (long)KT::KC * ((KT::NC + NR - 1) / NR * NR));
  alignas(64) float edge[MR * NR];

  for (int jc = j0; jc < j1; jc += KT::NC) {                    // 5th loop: NC columns
    const int nc = std::min(KT::NC, j1 - jc);
    for (int pc = 0; pc < g.K; pc += KT::KC) {                  // 4th loop: KC depth
      const int kc = std::min(KT::KC, g.K - pc);
      const bool overwrite = !g.accumulate && pc == 0;
      packB<NR>(g, jc, nc, pc, kc, bp);
      for (int ic = i0; ic < i1; ic += KT::MC) {                // 3rd loop: MC rows
        const int mc = std::min(KT::MC, i1 - ic);
        packA<MR>(g, ic, mc, pc, kc, ap);
        for (int jr = 0; jr < nc; jr += NR) {                   // 2nd loop: NR columns
          const int nr = std::min(NR, nc - jr);
          const float* b = bp + (long)jr * kc;
          for (int ir = 0; ir < mc; ir += MR) {                 // 1st loop: MR rows
            const int mr = std::min(MR, mc - ir);
            const float* a = ap + (long)ir * kc;
            float* c = g.C + (long)(ic + ir) * g.ldc + jc + jr;
            if (mr == MR && nr == NR) {
              KT::micro(kc, a, b, c, g.ldc, overwrite);
            } else {
              // ragged tile: compute the full tile aside, then write the valid part
              KT::micro(kc, a, b, edge, NR, true);
              for (int r = 0; r < mr; ++r)
                for (int j = 0; j < nr; ++j)
                  c[r * g.ldc + j] = overwrite ? edge[r * NR + j] : c[r * g.ldc + j] + edge[r * NR + j];
            }
          }
        }
      }
    }
  }
}
