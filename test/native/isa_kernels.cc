// Runs every non-GEMM kernel of native/ on fixed pseudo-random inputs and prints, per kernel, a
// hash of its outputs' bits. test/isa.test.ts builds this with the kernels for one instruction-set
// level at a time (-DFMN_NO_CLONES -march=x86-64-v3 or -v4) and expects the same lines from
// both: what an AVX2-only CPU computes must be what an AVX-512 one computes.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../../native/kernels.h"
#include "../../native/pool.h"

using namespace fmn;

namespace {

uint64_t state = 0x9e3779b97f4a7c15ull;
float uniform(float lo, float hi) {   // splitmix64 → [lo, hi)
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return lo + (hi - lo) * (float)((z >> 40) * (1.0 / (1ull << 24)));
}
std::vector<float> rand(long n, float lo = -3.f, float hi = 3.f) {
  std::vector<float> v(n);
  for (auto& x : v) x = uniform(lo, hi);
  return v;
}

struct Hash {
  uint64_t h = 1469598103934665603ull;
  void add(const void* p, size_t bytes) {
    const unsigned char* c = (const unsigned char*)p;
    for (size_t i = 0; i < bytes; ++i) { h ^= c[i]; h *= 1099511628211ull; }
  }
  void add(const std::vector<float>& v) { add(v.data(), v.size() * sizeof(float)); }
  void add(double d) { add(&d, sizeof d); }
};
std::vector<std::pair<std::string, Hash>> results;
Hash& out(const std::string& name) {
  for (auto& r : results) if (r.first == name) return r.second;
  results.push_back({name, Hash{}});
  return results.back().second;
}

}  // namespace

int main() {
  poolSetThreads(1);
  // row kernels, over widths with and without a tail after the last group of 16
  for (long C : {1L, 7L, 16L, 17L, 31L, 64L, 100L, 128L, 255L, 768L}) {
    const long N = 5;
    auto x = rand(N * C), w = rand(C, 0.5f, 1.5f), b = rand(C), dy = rand(N * C);
    // a near-constant row, where the mean's digits matter
    for (long c = 0; c < C; ++c) x[c] = 1000.f + 0.001f * x[c];
    std::vector<float> y(N * C), mean(N), rstd(N), dx(N * C, 0.f), dw(C, 0.f), db(C, 0.f);
    layernormForward(y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, C, 1e-5f);
    out("layernormForward").add(y); out("layernormForward").add(mean); out("layernormForward").add(rstd);
    layernormBackward(dx.data(), dw.data(), db.data(), dy.data(), x.data(), w.data(), mean.data(), rstd.data(), N, C);
    out("layernormBackward").add(dx); out("layernormBackward").add(dw); out("layernormBackward").add(db);
    std::fill(dx.begin(), dx.end(), 0.f); std::fill(dw.begin(), dw.end(), 0.f);
    rmsnormForward(y.data(), rstd.data(), x.data(), w.data(), N, C, 1e-6f);
    out("rmsnormForward").add(y); out("rmsnormForward").add(rstd);
    rmsnormBackward(dx.data(), dw.data(), dy.data(), x.data(), w.data(), rstd.data(), N, C);
    out("rmsnormBackward").add(dx); out("rmsnormBackward").add(dw);
    auto logits = rand(N * C, -8.f, 8.f);
    softmaxForward(y.data(), logits.data(), N, C);
    out("softmaxForward").add(y);
    std::fill(dx.begin(), dx.end(), 0.f);
    softmaxBackward(dx.data(), y.data(), dy.data(), N, C);
    out("softmaxBackward").add(dx);
    std::vector<int32_t> targets(N);
    for (long i = 0; i < N; ++i) targets[i] = i == 2 ? -100 : (int32_t)((i * 7) % C);
    std::vector<float> losses(N), probs(N * C), dlogits(N * C), dl(N, 1.f / N);
    crossEntropyForward(losses.data(), probs.data(), logits.data(), targets.data(), N, C, -100);
    crossEntropyBackward(dlogits.data(), probs.data(), targets.data(), dl.data(), N, C, -100, true);
    out("crossEntropy").add(losses); out("crossEntropy").add(probs); out("crossEntropy").add(dlogits);
  }
  // elementwise kernels (their lanes are independent, but contraction could differ)
  {
    const long n = 1000;
    auto x = rand(n, -6.f, 6.f), g = rand(n), b = rand(n);
    std::vector<float> y(n), dx(n, 0.f);
    geluForward(y.data(), x.data(), n); out("gelu").add(y);
    geluBackward(dx.data(), x.data(), g.data(), n, true); out("gelu").add(dx);
    geluBackward(dx.data(), x.data(), b.data(), n, false); out("gelu").add(dx);
    std::fill(dx.begin(), dx.end(), 0.f);
    // GELU over the float range: exponents 0-254 (subnormals, ±0, magnitudes where its exp
    // clamps or underflows), both signs, and ±inf; 2,552 elements, so the AVX-512 loops' generic tail runs
    std::vector<float> w;
    for (uint32_t e = 0; e < 255; ++e)
      for (uint32_t m : {0u, 1u, 0x2A5F3u, 0x400000u, 0x7FFFFFu})
        for (uint32_t sign : {0u, 0x80000000u}) {
          const uint32_t bits = sign | e << 23 | m;
          float f;
          std::memcpy(&f, &bits, sizeof f);
          w.push_back(f);
        }
    w.push_back(1.f / 0.f); w.push_back(-1.f / 0.f);
    const long nw = (long)w.size();
    auto gw = rand(nw);
    std::vector<float> yw(nw), dw(nw, 0.5f);
    geluForward(yw.data(), w.data(), nw); out("gelu (range)").add(yw);
    geluBackward(dw.data(), w.data(), gw.data(), nw, true); out("gelu (range)").add(dw);
    geluBackward(dw.data(), w.data(), gw.data(), nw, false); out("gelu (range)").add(dw);
    siluForward(y.data(), x.data(), n); out("silu").add(y);
    siluBackward(dx.data(), x.data(), g.data(), n, true); out("silu").add(dx);
    siluBackward(dx.data(), x.data(), b.data(), n, false); out("silu").add(dx);
    addBuffers(y.data(), x.data(), g.data(), n); out("addBuffers").add(y);
    std::vector<float> cs(40, 0.f);
    addColumnSums(cs.data(), x.data(), 25, 40); out("addColumnSums").add(cs);
    // embeddings: 25 rows of 40 gathered from a table of 8, repeated ids scattered back in order
    std::vector<int32_t> ids(25);
    for (long i = 0; i < 25; ++i) ids[i] = (int32_t)((i * 5) % 8);
    std::vector<float> emb(25 * 40), dtab(8 * 40, 0.f);
    embeddingForward(emb.data(), x.data(), ids.data(), 25, 40); out("embedding").add(emb);
    embeddingBackward(dtab.data(), g.data(), ids.data(), 25, 40); out("embedding").add(dtab);
    out("sumSquares").add(sumSquares(x.data(), n, 0.0));
    std::vector<float> p = rand(n), m(n, 0.f), v(n, 0.f);
    for (int t = 1; t <= 3; ++t) adamwStep({{p.data(), g.data(), m.data(), v.data(), n, 0.01}}, 1e-2, 0.9, 0.999, 1e-8, t, 1.0);
    scaleInPlace(p.data(), n, 0.37);
    out("adamw").add(p); out("adamw").add(m); out("adamw").add(v);
    // a clipped step: the gradients scaled (and stored back) in the update's own pass
    std::vector<float> gc = g;
    adamwStep({{p.data(), gc.data(), m.data(), v.data(), n, 0.01}}, 1e-2, 0.9, 0.999, 1e-8, 4, 0.37);
    out("adamw").add(p); out("adamw").add(gc); out("adamw").add(m); out("adamw").add(v);
  }
  // attention: causal rows of every length up to T, grouped-query heads, strided q/k/v views
  for (long T : {1L, 5L, 16L, 17L, 40L, 67L}) {
    for (long nkv : {4L, 2L}) {
      const long B = 2, nh = 4, hs = 16, C = nh * hs, kvC = nkv * hs;
      AttnShape s{B, T, nh, nkv, hs, C + 2 * kvC, C + 2 * kvC};   // q, k, v packed in one row
      auto qkv = rand(B * T * s.qStride, -2.f, 2.f), dout = rand(B * T * C);
      const float *q = qkv.data(), *k = qkv.data() + C, *v = qkv.data() + C + kvC;
      std::vector<float> o(B * T * C), att(B * nh * T * T), dqkv(qkv.size(), 0.f);
      attentionForward(o.data(), att.data(), q, k, v, s);
      out("attentionForward").add(o); out("attentionForward").add(att);
      attentionBackward(dqkv.data(), dqkv.data() + C, dqkv.data() + C + kvC, dout.data(), att.data(), q, k, v, s, true);
      out("attentionBackward").add(dqkv);
      // written (accumulate false) over stale values, then added into the result a second time
      std::vector<float> w(qkv.size(), 7.f);
      attentionBackward(w.data(), w.data() + C, w.data() + C + kvC, dout.data(), att.data(), q, k, v, s, false);
      attentionBackward(w.data(), w.data() + C, w.data() + C + kvC, dout.data(), att.data(), q, k, v, s, true);
      out("attentionBackward").add(w);
    }
  }
  for (auto& r : results) std::printf("%s %016llx\n", r.first.c_str(), (unsigned long long)r.second.h);
  return 0;
}
