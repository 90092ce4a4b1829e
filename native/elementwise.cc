// Elementwise sums. Twin: src/backend/js/elementwise.ts.
// addBuffers: out = a + b (a residual connection, and a gradient added into another).
// addColumnSums: out (C) += Σ_i inp (N, C) row by row, the bias gradient of a linear layer. Every
// column is one chain of adds in row order starting from out's value, so the bits are the
// reference's on every ISA, block and thread count.
#include "kernels.h"
#include "parallel.h"

namespace fmn {
namespace {

FMN_CLONES void addRange(float* out, const float* a, const float* b, long i0, long i1) {
  for (long i = i0; i < i1; ++i) out[i] = a[i] + b[i];
}

constexpr long kBlock = 64;  // columns kept in registers while the rows stream past

FMN_CLONES void colSumRange(float* __restrict out, const float* __restrict inp, long N, long C, long j0, long j1) {
  for (long jb = j0; jb < j1; jb += kBlock) {
    if (j1 - jb >= kBlock) {
      float acc[kBlock];
      for (long k = 0; k < kBlock; ++k) acc[k] = out[jb + k];
      for (long i = 0; i < N; ++i) {
        const float* r = inp + i * C + jb;
        for (long k = 0; k < kBlock; ++k) acc[k] += r[k];
      }
      for (long k = 0; k < kBlock; ++k) out[jb + k] = acc[k];
    } else {
      for (long i = 0; i < N; ++i) {
        const float* r = inp + i * C;
        for (long j = jb; j < j1; ++j) out[j] += r[j];
      }
    }
  }
}

}  // namespace

void addBuffers(float* out, const float* a, const float* b, long n) {
  parallelFor(n, 2, [&](long i0, long i1) { addRange(out, a, b, i0, i1); });
}

void addColumnSums(float* out, const float* inp, long N, long C) {
  // threads split the columns in whole blocks (no two write one cache line)
  const long blocks = (C + kBlock - 1) / kBlock;
  parallelFor(blocks, N * kBlock, [&](long a, long b) { colSumRange(out, inp, N, C, a * kBlock, std::min(C, b * kBlock)); });
}

}  // namespace fmn
