// The operands of one GEMM as strided views, shared by every instruction-set variant.
// op(A)[i,k] = A[i*rsA + k*csA], op(B)[k,j] = B[k*rsB + j*csB], C[i,j] = C[i*ldc + j].
#pragma once

#include <cstdint>

namespace fmn {

struct GemmArgs {
  const float* A;
  long rsA, csA;
  const float* B;
  long rsB, csB;
  float* C;
  long ldc;
  int M, N, K;
  bool accumulate;
  // when set (with accumulate true): row vector of N whose element j starts the chain of every
  // C[i][j] in place of C's old value; written into each C tile just before the tile is first
  // computed (in cache), so y = x W + b costs no separate pass over y
  const float* bias;
  // matmulPlus's second product (null: none; K2 > 0 when set): C += op(A2)·op(B2) after
  // op(A)·op(B), op(A2) (M, K2), op(B2) (K2, N) — each element's chain continues over the K2
  // terms, so the bits of a second GEMM accumulating into C, applied to each C tile after its
  // last pass (in the micro-kernel's registers where it takes them, else from the stored tile)
  const float* A2 = nullptr;
  long rsA2 = 0, csA2 = 0;
  const float* B2 = nullptr;
  long rsB2 = 0, csB2 = 0;
  int K2 = 0;
  // op(B) already packed whole by this (bf16) variant for this K and N (variant.packB's layout):
  // the driver reads its panels instead of converting and packing B again (null: pack B)
  const uint16_t* packedB = nullptr;
  // When set (op(B) row-major, csB == 1; fp32 variants): colSumsB[j] += Σ_k op(B)[k][j] for the
  // range's columns, each column one chain of float adds in k order from its old value — the
  // bits of addColumnSums(colSumsB, B, K, N) — done while B is packed (a linear layer's bias
  // gradient from dy, read once for dW and db). Only a range that starts at row 0 sums: a product
  // split along M packs B in every chunk.
  float* colSumsB = nullptr;
};

// colSumsB[j] += Σ_k op(B)[k][j] for j0 ≤ j < j1 (column chains in k order), on paths that do
// not pack B (the skinny kernels).
static inline void sumColumnsB(const GemmArgs& g, int j0, int j1) {
  for (int k = 0; k < g.K; ++k) {
    const float* b = g.B + (long)k * g.rsB;
    for (int j = j0; j < j1; ++j) g.colSumsB[j] += b[j];
  }
}

// A GemmArgs without its second product, and the second product as a GEMM of its own that
// accumulates into C: the paths that do not fuse it run these one after the other.
static inline GemmArgs mainProduct(const GemmArgs& g) {
  GemmArgs h = g;
  h.A2 = nullptr;
  h.B2 = nullptr;
  h.K2 = 0;
  return h;
}
static inline GemmArgs plusProduct(const GemmArgs& g) {
  GemmArgs h = mainProduct(g);
  h.A = g.A2; h.rsA = g.rsA2; h.csA = g.csA2;
  h.B = g.B2; h.rsB = g.rsB2; h.csB = g.csB2;
  h.K = g.K2;
  h.accumulate = true;
  h.bias = nullptr;
  h.colSumsB = nullptr;
  return h;
}

// Where a C tile's accumulators start (the micro-kernels' `start`, `lds`), on the pass that
// begins at depth p0, for the tile whose first column is j: the bias row (stride 0) on a product's
// first pass when it has a bias; nothing (zero) on the first pass when overwriting; else C itself.
struct TileStart {
  const float* p;
  long ld;
};
static inline TileStart tileStart(const GemmArgs& g, int p0, int j, const float* c) {
  if (p0 == 0 && g.bias != nullptr) return {g.bias + j, 0};
  if (p0 == 0 && !g.accumulate) return {nullptr, 0};
  return {c, g.ldc};
}

// C[i0:i1, j0:j1] = bias[j0:j1] in every row (paths that start from a filled C instead). Defined
// in sgemm.cc (built for the baseline ISA) so every variant may call it.
void fillBiasRows(const GemmArgs& g, int i0, int i1, int j0, int j1);

// Cache blocks of the loop nest (sgemm_driver.h): A block MC×KC, B micro-panel KC×NR, NC columns.
// kc is the deepest pass; mc is fixed when > 0 (FMN_GEMM_BLOCKS), else chosen for each product
// from the depth of its passes so that the A block takes aBytes of L2.
struct Blocks {
  int kc, mc, nc;
  long aBytes;
  // passes at most this deep, with few B panels (nc ≤ kDirectPanels·NR), read op(A) in place
  // when its rows run along k (the micro-kernel's 14 rows then stay in L1), not packed; 0: never
  int directKc;
};

// The B panels an A block must serve to pay for packing it (sgemm_driver.h, Zen 5: reading A in
// place 2–13% faster up to 16 panels of 32 columns at passes ≤ 768 deep, 4–9% slower at 32–96).
constexpr int kDirectPanels = 16;

// The two helpers below are static: each ISA's translation unit (compiled under its own target
// pragma) gets its own copy, so the linker never hands the baseline code an AVX-512 one.

// The depth of each pass over K: at most kcMax (rounded down to `step`), the passes evened out
// and each a multiple of `step` (K 2048 at kcMax 1360, step 8: two of 1024, not 1360 + 688).
static inline int passDepth(int K, int kcMax, int step) {
  const int cap = kcMax / step * step > step ? kcMax / step * step : step;
  const int passes = K > cap ? (K + cap - 1) / cap : 1;
  const int even = ((K + passes - 1) / passes + step - 1) / step * step;
  return even < cap ? even : cap;
}

// MC for passes of depth kc: the A block (MC×kc) in bl.aBytes, a multiple of MR.
static inline int blockRows(const Blocks& bl, int kc, int MR, int bytes) {
  if (bl.mc > 0) return bl.mc;
  const long rows = bl.aBytes / ((long)(kc > 0 ? kc : 1) * bytes) / MR * MR;
  return (int)(rows < MR ? MR : rows > 4096 / MR * MR ? 4096 / MR * MR : rows);
}

// The blocks for a MR×NR micro-kernel on `bytes`-wide packed elements, from this CPU's L2 and
// L1d sizes (sysconf), computed once per call site; FMN_GEMM_BLOCKS=KC,MC,NC overrides
// them (tuning). They change speed only, never a result: every element of C is one chain of
// fused multiply-adds in k order, however k is cut (see sgemm_driver.h).
Blocks gemmBlocks(int MR, int NR, int bytes);

// One variant: tile sizes (for splitting work between threads) and the blocked routine that
// computes the sub-block C[i0:i1, j0:j1] on the calling thread.
struct GemmVariant {
  const char* name;
  int MR, NR;
  void (*range)(const GemmArgs& g, int i0, int i1, int j0, int j1);
  // bf16 variants: op(B) (K, N) packed whole as `range` packs it, pass after pass, into
  // packedBElems(K, N) elements (64-byte aligned), columns j0 ≤ j < j1 of it (j0 a multiple of
  // NR) by one packB call; `range` reads them through g.packedB. Null on the fp32 variants
  // (their packing is a copy, a percent of a product).
  long (*packedBElems)(int K, int N) = nullptr;
  void (*packB)(const GemmArgs& g, uint16_t* out, int j0, int j1) = nullptr;
};

// Any strides, on the calling thread (attention uses it on strided q/k/v views).
void sgemmStridedSerial(const GemmArgs& g);

extern const GemmVariant kGemmAvx512;
extern const GemmVariant kGemmAvx2;
extern const GemmVariant kGemmScalar;
// bf16 operands, fp32 accumulation (sgemm_bf16_*.cc); only sgemm() uses them, when asked.
extern const GemmVariant kGemmBf16Amx;
extern const GemmVariant kGemmBf16Avx512;

}  // namespace fmn
