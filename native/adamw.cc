// AdamW step as torch.optim.AdamW (decoupled decay, then bias-corrected Adam).
// Twin: src/backend/js/adamw.ts.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels.h"
#include "parallel.h"

namespace fmn {
namespace {

// Coefficients arrive precomputed in double and rounded once (1 − β2 in float32 arithmetic
// would be off by ~1e-5 relative).
struct AdamCoef {
  float decay, b1, a1, b2, a2, lr, bc1, bc2, eps;
};

// One element's update from its gradient gi (inlined into each clone below).
inline void adamwElement(float& p, float& m, float& v, float gi, const AdamCoef& k) {
  p -= k.decay * p;                             // p −= lr·wd·p
  m = k.b1 * m + k.a1 * gi;                     // m = β1 m + (1−β1) g
  v = k.b2 * v + k.a2 * gi * gi;                // v = β2 v + (1−β2) g²
  p -= k.lr * (m / k.bc1) / (std::sqrt(v / k.bc2) + k.eps);
}

FMN_CLONES void adamwRange(float* p, const float* g, float* m, float* v, long i0, long i1, AdamCoef k) {
  for (long i = i0; i < i1; ++i) adamwElement(p[i], m[i], v[i], g[i], k);
}

// scaleRange then adamwRange in one pass: each gradient scaled (and stored back), then used
FMN_CLONES void adamwScaledRange(float* p, float* g, float* m, float* v, long i0, long i1, AdamCoef k, double s) {
  for (long i = i0; i < i1; ++i) {
    g[i] = (float)((double)g[i] * s);
    adamwElement(p[i], m[i], v[i], g[i], k);
  }
}

FMN_CLONES void scaleRange(float* g, long i0, long i1, double s) {
  for (long i = i0; i < i1; ++i) g[i] = (float)((double)g[i] * s);
}

}  // namespace

// One chain of double adds in index order, continuing `start`: each square of a float is exact
// in double, so the sum is the reference's to the bit (and not reordered: no SIMD, no threads).
double sumSquares(const float* g, long n, double start) {
  double s = start;
  for (long i = 0; i < n; ++i) {
    const double x = g[i];
    s += x * x;
  }
  return s;
}

void scaleInPlace(float* g, long n, double s) {
  parallelFor(n, 2, [&](long a, long b) { scaleRange(g, a, b, s); });
}

namespace {
AdamCoef coef(double lr, double beta1, double beta2, double eps, double weightDecay, double t) {
  return {(float)(lr * weightDecay), (float)beta1, (float)(1 - beta1), (float)beta2,
          (float)(1 - beta2), (float)lr, (float)(1 - std::pow(beta1, t)),
          (float)(1 - std::pow(beta2, t)), (float)eps};
}
}  // namespace

void adamwStep(const std::vector<AdamTensor>& ts, double lr, double beta1, double beta2, double eps,
               double t, double gradScale) {
  // the tensors end to end as one index space, cut into one contiguous range per thread; each
  // range scales its gradients (when clipping) and updates them while they are in cache
  std::vector<long> start(ts.size() + 1, 0);
  for (size_t i = 0; i < ts.size(); ++i) start[i + 1] = start[i] + ts[i].n;
  std::vector<AdamCoef> k(ts.size());
  for (size_t i = 0; i < ts.size(); ++i) k[i] = coef(lr, beta1, beta2, eps, ts[i].weightDecay, t);
  const bool scale = gradScale != 1.0;
  parallelFor(start.back(), 16, [&](long a, long b) {
    size_t i = std::upper_bound(start.begin(), start.end(), a) - start.begin() - 1;
    for (; i < ts.size() && start[i] < b; ++i) {
      const long lo = std::max(a, start[i]) - start[i], hi = std::min(b, start[i + 1]) - start[i];
      if (hi <= lo) continue;
      if (scale) adamwScaledRange(ts[i].param, ts[i].grad, ts[i].m, ts[i].v, lo, hi, k[i], gradScale);
      else adamwRange(ts[i].param, ts[i].grad, ts[i].m, ts[i].v, lo, hi, k[i]);
    }
  });
}

}  // namespace fmn
