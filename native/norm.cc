// LayerNorm and RMSNorm, forward and backward. Twin: src/backend/js/norm.ts.
// Row statistics are summed in double: on near-constant rows a float32 mean loses the digits
// that (x − mean) keeps. Rows are split between threads; backward's dweight/dbias sums go
// to one scratch row per task, added up at the end.
#include <cmath>
#include <vector>

#include "kernels.h"
#include "lanes.h"
#include "parallel.h"

namespace fmn {
namespace {

FMN_CLONES void layernormRow(float* y, float* meanOut, float* rstdOut, const float* x, const float* w,
                             const float* b, long C, float eps) {
  // mean
  const double s = laneSum<double>(C, [&](long c) { return (double)x[c]; });
  const double m = s / C;
  // mean as hi + lo floats, so x − mean keeps its digits in float arithmetic
  const float mHi = (float)m, mLo = (float)(m - mHi);
  // biased variance, as PyTorch
  const double v = laneSum<double>(C, [&](long c) {
    const float d = (x[c] - mHi) - mLo;
    return (double)d * d;   // exact in double: no rounding for a contraction to change
  });
  // rstd
  const float r = (float)(1.0 / std::sqrt(v / C + eps));
  for (long c = 0; c < C; ++c) y[c] = ((x[c] - mHi) - mLo) * r * w[c] + b[c];
  *meanOut = mHi;
  *rstdOut = r;
}

// dx += rstd (g − mean(g) − x̂ mean(g x̂)),  g = dout ⊙ w,  x̂ = (x − mean) rstd
// The six arrays never overlap; saying so (__restrict) lets GCC vectorize the update loop,
// which it left scalar for want of a runtime check covering every pair (the same fused
// multiply-adds per element either way, so the same bits).
FMN_CLONES void layernormBwdRow(float* __restrict dx, float* __restrict dw, float* __restrict db, const float* __restrict dy,
                                const float* __restrict x, const float* __restrict w, float m, float r, long C) {
  double sums[2];   // Σ g, Σ g·x̂
  laneSums<double, 2>(C, sums, [&](long c, double (&t)[2]) {
    const float xh = (x[c] - m) * r, g = dy[c] * w[c];
    t[0] = g;
    t[1] = (double)g * xh;   // exact in double
  });
  const float gMean = (float)(sums[0] / C), gxMean = (float)(sums[1] / C);
  for (long c = 0; c < C; ++c) {
    const float xh = (x[c] - m) * r;
    db[c] += dy[c];
    dw[c] += dy[c] * xh;
    dx[c] += r * (dy[c] * w[c] - gMean - xh * gxMean);
  }
}

FMN_CLONES void rmsnormRow(float* y, float* rstdOut, const float* x, const float* w, long C, float eps) {
  const double ss = laneSum<double>(C, [&](long c) { return (double)x[c] * x[c]; });   // squares exact in double
  const float r = (float)(1.0 / std::sqrt(ss / C + eps));
  for (long c = 0; c < C; ++c) y[c] = x[c] * r * w[c];
  *rstdOut = r;
}

// dx += rstd (g − x̂ mean(g x̂)),  g = dout ⊙ w,  x̂ = x rstd
FMN_CLONES void rmsnormBwdRow(float* dx, float* dw, const float* dy, const float* x, const float* w,
                              float r, long C) {
  const double gx = laneDot<double>(C, [&](long c) { return (double)dy[c] * w[c]; },
                                    [&](long c) { return (double)(x[c] * r); });
  const float gxMean = (float)(gx / C);
  for (long c = 0; c < C; ++c) {
    const float xh = x[c] * r;
    dw[c] += dy[c] * xh;
    dx[c] += r * (dy[c] * w[c] - xh * gxMean);
  }
}

FMN_CLONES void addInto(float* dst, const float* src, long n) {
  for (long i = 0; i < n; ++i) dst[i] += src[i];
}

// Rows of a chunk whose parameter gradients are summed on their own (see backwardRows).
constexpr long kReduceRows = 64;

// The rows are cut into chunks of kReduceRows — a partition fixed by N alone, never by the
// thread count — and chunk k accumulates its parameter grads into part(k, …) from zero; the
// parts are then added into the outputs in chunk order. So the sums, and every weight trained
// from them, are the same bits at any number of threads (the other kernels split only work
// that does not reduce across rows).
template <class RowFn>
void backwardRows(long N, long C, int nparams, float* const* outs, RowFn row) {
  const long chunks = (N + kReduceRows - 1) / kReduceRows;
  if (chunks <= 1) {
    row(0, N, outs);
    return;
  }
  std::vector<float> scratch((size_t)chunks * nparams * C, 0.f);
  const int nt = poolThreads();
  const int tasks = (nt == 1 || N * C < (1L << 15)) ? 1 : (int)std::min<long>(nt, chunks);
  auto run = [&](long k) {
    float* parts[2];
    for (int p = 0; p < nparams; ++p) parts[p] = scratch.data() + ((size_t)k * nparams + p) * C;
    row(k * kReduceRows, std::min(N, (k + 1) * kReduceRows), parts);
  };
  if (tasks == 1) {
    for (long k = 0; k < chunks; ++k) run(k);
  } else {
    poolRun(tasks, [&](int t) {
      for (long k = chunks * t / tasks; k < chunks * (t + 1) / tasks; ++k) run(k);
    });
  }
  for (long k = 0; k < chunks; ++k)
    for (int p = 0; p < nparams; ++p) addInto(outs[p], scratch.data() + ((size_t)k * nparams + p) * C, C);
}

}  // namespace

void layernormForward(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                      const float* bias, long N, long C, float eps) {
  parallelFor(N, C * 6, [&](long a, long b) {
    for (long i = a; i < b; ++i)
      layernormRow(out + i * C, mean + i, rstd + i, inp + i * C, weight, bias, C, eps);
  });
}

void layernormBackward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                       const float* weight, const float* mean, const float* rstd, long N, long C) {
  float* outs[2] = {dweight, dbias};
  backwardRows(N, C, 2, outs, [&](long a, long b, float* const* p) {
    for (long i = a; i < b; ++i)
      layernormBwdRow(dinp + i * C, p[0], p[1], dout + i * C, inp + i * C, weight, mean[i], rstd[i], C);
  });
}

void rmsnormForward(float* out, float* rstd, const float* inp, const float* weight, long N, long C,
                    float eps) {
  parallelFor(N, C * 4, [&](long a, long b) {
    for (long i = a; i < b; ++i) rmsnormRow(out + i * C, rstd + i, inp + i * C, weight, C, eps);
  });
}

void rmsnormBackward(float* dinp, float* dweight, const float* dout, const float* inp,
                     const float* weight, const float* rstd, long N, long C) {
  float* outs[1] = {dweight};
  backwardRows(N, C, 1, outs, [&](long a, long b, float* const* p) {
    for (long i = a; i < b; ++i)
      rmsnormBwdRow(dinp + i * C, p[0], dout + i * C, inp + i * C, weight, rstd[i], C);
  });
}

}  // namespace fmn
