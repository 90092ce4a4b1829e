// Row softmax forward and backward. Twin: src/backend/js/activation.ts.
#include <cmath>

#include "kernels.h"
#include "lanes.h"
#include "parallel.h"
#include "vmath.h"

namespace fmn {

// One row: y = e^(x − max) / Σ e^(x − max). Returns Σ (cross-entropy needs it).
FMN_CLONES float softmaxRow(float* y, const float* x, long C, float* rowMax) {
  float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
  for (long c = 0; c < C; ++c) mx = x[c] > mx ? x[c] : mx;
  const float sum = laneSum<float>(C, [&](long c) {
    const float e = expFast(x[c] - mx);
    y[c] = e;
    return e;
  });
  const float inv = 1.0f / sum;
  for (long c = 0; c < C; ++c) y[c] *= inv;
  if (rowMax) *rowMax = mx;
  return sum;
}

namespace {

// d softmax: dx += y ⊙ (g − Σ g·y)
FMN_CLONES void softmaxBwdRow(float* dx, const float* y, const float* g, long C) {
  const float dot = laneDot<float>(C, [&](long c) { return g[c]; }, [&](long c) { return y[c]; });
  for (long c = 0; c < C; ++c) dx[c] += y[c] * (g[c] - dot);
}

}  // namespace

void softmaxForward(float* out, const float* inp, long N, long C) {
  parallelFor(N, C * 8, [&](long a, long b) {
    for (long i = a; i < b; ++i) softmaxRow(out + i * C, inp + i * C, C, nullptr);
  });
}

void softmaxBackward(float* dinp, const float* out, const float* dout, long N, long C) {
  parallelFor(N, C * 4, [&](long a, long b) {
    for (long i = a; i < b; ++i) softmaxBwdRow(dinp + i * C, out + i * C, dout + i * C, C);
  });
}

}  // namespace fmn
