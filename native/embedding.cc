// Token and position embeddings. Twin: src/backend/js/embedding.ts.
// embeddingForward: out (N, C) = weight[ids], a gather of rows.
// embeddingBackward: dweight[ids[i], :] += dout[i, :] for i = 0 … N−1. A row of dweight may
// receive many i (a repeated token); every element of it is one chain of adds in i order, so the
// bits are the reference's on every ISA and thread count: threads split the columns, not the rows.
#include <cstring>

#include "kernels.h"
#include "parallel.h"

namespace fmn {
namespace {

constexpr long kBlock = 64;  // columns per task: whole cache lines, no two threads write one

FMN_CLONES void scatterAddRange(float* __restrict dw, const float* __restrict g, const int32_t* ids, long N,
                                long C, long j0, long j1) {
  for (long i = 0; i < N; ++i) {
    float* d = dw + (long)ids[i] * C;
    const float* s = g + i * C;
    for (long j = j0; j < j1; ++j) d[j] += s[j];
  }
}

}  // namespace

void embeddingForward(float* out, const float* weight, const int32_t* ids, long N, long C) {
  parallelFor(N, C, [&](long a, long b) {
    for (long i = a; i < b; ++i) std::memcpy(out + i * C, weight + (long)ids[i] * C, sizeof(float) * C);
  });
}

void embeddingBackward(float* dweight, const float* dout, const int32_t* ids, long N, long C) {
  const long blocks = (C + kBlock - 1) / kBlock;
  parallelFor(blocks, N * kBlock, [&](long a, long b) {
    scatterAddRange(dweight, dout, ids, N, C, a * kBlock, std::min(C, b * kBlock));
  });
}

}  // namespace fmn
