// Fused softmax cross-entropy, forward and backward, parallel over rows.
// Twin: src/backend/js/loss.ts.
#include <cmath>
#include <cstring>

#include "kernels.h"
#include "parallel.h"

namespace fmn {

float softmaxRow(float* y, const float* x, long C, float* rowMax);  // softmax.cc

void crossEntropyForward(float* losses, float* probs, const float* logits, const int32_t* targets,
                         long N, long V, int32_t ignoreIndex) {
  parallelFor(N, V * 8, [&](long a, long b) {
    for (long i = a; i < b; ++i) {
      float mx;
      const float sum = softmaxRow(probs + i * V, logits + i * V, V, &mx);
      const int32_t t = targets[i];
      // −log p_t from the logits (log-sum-exp), not from the rounded probability
      losses[i] = t == ignoreIndex ? 0.f : (float)(std::log((double)sum) + mx - logits[i * V + t]);
    }
  });
}

void crossEntropyBackward(float* dlogits, const float* probs, const int32_t* targets,
                          const float* dlosses, long N, long V, int32_t ignoreIndex, bool accumulate) {
  parallelFor(N, V, [&](long a, long b) {
    for (long i = a; i < b; ++i) {
      const int32_t t = targets[i];
      float* d = dlogits + i * V;
      if (t == ignoreIndex) {
        if (!accumulate) std::memset(d, 0, V * sizeof(float));
        continue;
      }
      const float dl = dlosses[i];
      const float* p = probs + i * V;                   // may be d itself when not accumulating
      if (accumulate)
        for (long j = 0; j < V; ++j) d[j] += dl * p[j];  // dl · (p − onehot(t))
      else
        for (long j = 0; j < V; ++j) d[j] = 0.f + dl * p[j];
      d[t] -= dl;
    }
  });
}

}  // namespace fmn
