// GELU (tanh form) and SiLU, forward and backward. Twin: src/backend/js/activation.ts.
#include "activation_kernels.h"
#include "kernels.h"
#include "parallel.h"
#include "sgemm.h"
#include "vmath.h"

namespace fmn {
namespace {

constexpr float kGeluK = 0.7978845608028654f;  // √(2/π)

// 0.5 x (1 + tanh u) = x σ(2u), u = √(2/π)(x + 0.044715 x³)
FMN_CLONES void geluFwdRange(float* out, const float* inp, long i0, long i1) {
  for (long i = i0; i < i1; ++i) {
    const float x = inp[i];
    const float u = kGeluK * (x + 0.044715f * x * x * x);
    out[i] = x * sigmoidFast(2.0f * u);
  }
}

// d gelu = 0.5 (1 + tanh u) + 0.5 x (1 − tanh² u) u',  tanh u = 2σ(2u) − 1
template <bool kAcc>
FMN_CLONES void geluBwdRange(float* dinp, const float* inp, const float* dout, long i0, long i1) {
  for (long i = i0; i < i1; ++i) {
    const float x = inp[i];
    const float u = kGeluK * (x + 0.044715f * x * x * x);
    const float th = 2.0f * sigmoidFast(2.0f * u) - 1.0f;
    const float du = kGeluK * (1.0f + 3.0f * 0.044715f * x * x);
    const float d = dout[i] * (0.5f * (1.0f + th) + 0.5f * x * (1.0f - th * th) * du);
    if (kAcc) dinp[i] += d; else dinp[i] = d + 0.0f;   // + 0: a −0 comes out +0, as added into zeros
  }
}

FMN_CLONES void siluFwdRange(float* out, const float* inp, long i0, long i1) {
  for (long i = i0; i < i1; ++i) out[i] = inp[i] * sigmoidFast(inp[i]);
}

// d silu = σ(x) (1 + x (1 − σ(x)))
template <bool kAcc>
FMN_CLONES void siluBwdRange(float* dinp, const float* inp, const float* dout, long i0, long i1) {
  for (long i = i0; i < i1; ++i) {
    const float x = inp[i], s = sigmoidFast(x);
    const float d = dout[i] * s * (1.0f + x * (1.0f - s));
    if (kAcc) dinp[i] += d; else dinp[i] = d + 0.0f;   // + 0: a −0 comes out +0, as added into zeros
  }
}

constexpr long kCost = 16;  // rough operations per element, for the parallel threshold

}  // namespace

void geluForward(float* out, const float* inp, long n) {
  const bool fast = simdAvx512();
  parallelFor(n, kCost, [&](long a, long b) { geluFwdRange(out, inp, fast ? gelu512::forward(out, inp, a, b) : a, b); });
}
void geluBackward(float* dinp, const float* inp, const float* dout, long n, bool accumulate) {
  const bool fast = simdAvx512();
  parallelFor(n, kCost, [&](long a, long b) {
    if (accumulate) geluBwdRange<true>(dinp, inp, dout, fast ? gelu512::backward<true>(dinp, inp, dout, a, b) : a, b);
    else geluBwdRange<false>(dinp, inp, dout, fast ? gelu512::backward<false>(dinp, inp, dout, a, b) : a, b);
  });
}
void siluForward(float* out, const float* inp, long n) {
  parallelFor(n, kCost, [&](long a, long b) { siluFwdRange(out, inp, a, b); });
}
void siluBackward(float* dinp, const float* inp, const float* dout, long n, bool accumulate) {
  parallelFor(n, kCost, [&](long a, long b) {
    if (accumulate) siluBwdRange<true>(dinp, inp, dout, a, b);
    else siluBwdRange<false>(dinp, inp, dout, a, b);
  });
}

}  // namespace fmn
