// Causal self-attention with grouped-query heads, forward and backward, on strided q/k/v
// views. Twin: src/backend/js/attention.ts. Per (b, h) the products run either as the AVX-512
// kernels of attention_avx512.cc (lower triangle only, no packing; k and v transposed once per
// head) or, on other CPUs, as small GEMMs on the strided views over the full T×T block, the
// mask applied after — the same bits either way (test/determinism.test.ts). The softmax runs
// row by row. Forward splits (b, h) between threads; backward splits (b, kv group) so that the
// heads sharing dk/dv rows run on one thread.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "attention_kernels.h"
#include "kernels.h"
#include "lanes.h"
#include "parallel.h"
#include "sgemm.h"
#include "sgemm_args.h"
#include "vmath.h"

namespace fmn {
namespace {

// C (M,N, row stride ldc) (+)= op(A) · op(B) with explicit strides.
void gemm(float* C, long ldc, const float* A, long rsA, long csA, const float* B, long rsB, long csB,
          long M, long N, long K, bool accumulate) {
  GemmArgs g{A, rsA, csA, B, rsB, csB, C, ldc, (int)M, (int)N, (int)K, accumulate, nullptr};
  sgemmStridedSerial(g);
}

// att row t: scores (already in a) → causal softmax, zeros above the diagonal.
FMN_CLONES void causalSoftmaxRow(float* a, long t, long T) {
  float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
  for (long j = 0; j <= t; ++j) mx = a[j] > mx ? a[j] : mx;
  const float sum = laneSum<float>(t + 1, [&](long j) {
    a[j] = expFast(a[j] - mx);
    return a[j];
  });
  const float inv = 1.0f / sum;
  for (long j = 0; j <= t; ++j) a[j] *= inv;
  for (long j = t + 1; j < T; ++j) a[j] = 0.f;
}

// d softmax on row t: ds = att ⊙ (datt − Σ datt·att) · scale, zeros above the diagonal.
FMN_CLONES void causalSoftmaxBwdRow(float* ds, const float* a, long t, long T, float scale) {
  const float dot = laneDot<float>(t + 1, [&](long j) { return ds[j]; }, [&](long j) { return a[j]; });
  for (long j = 0; j <= t; ++j) ds[j] = a[j] * (ds[j] - dot) * scale;
  for (long j = t + 1; j < T; ++j) ds[j] = 0.f;
}

// Asks for the cache lines of rows × width floats at p (row stride `stride`), to read.
void prefetchRows(const float* p, long rows, long stride, long width) {
  for (long t = 0; t < rows; ++t) {
    const uintptr_t first = (uintptr_t)(p + t * stride) & ~(uintptr_t)63, end = (uintptr_t)(p + t * stride + width);
    for (uintptr_t c = first; c < end; c += 64) __builtin_prefetch((const void*)c, 0, 3);
  }
}

}  // namespace

void attentionForward(float* out, float* att, const float* q, const float* k, const float* v,
                      const AttnShape& s) {
  const long B = s.B, T = s.T, nh = s.nh, hs = s.hs, C = nh * hs, group = nh / s.nkv;
  const float scale = (float)(1.0 / std::sqrt((double)hs));
  poolRun((int)(B * nh), [&](int bh) {
    const long b = bh / nh, h = bh % nh, g = h / group;
    const float* qh = q + b * T * s.qStride + h * hs;    // (T, hs), row stride qStride
    const float* kh = k + b * T * s.kvStride + g * hs;   // (T, hs), row stride kvStride
    const float* vh = v + b * T * s.kvStride + g * hs;
    float* a = att + (b * nh + h) * T * T;               // (T, T)
    float* o = out + b * T * C + h * hs;                 // (T, hs), row stride C
    const bool fast = simdAvx512();
    // scores = q kᵀ
    if (fast) {
      thread_local std::vector<float> kT;
      if ((long)kT.size() < hs * T) kT.resize(hs * T);
      attn512::transposeHead(kT.data(), kh, s.kvStride, T, hs);
      attn512::lowerRowsTimesT(a, T, qh, s.qStride, kT.data(), T, T, hs);
      attn512::causalSoftmaxRows(a, T, T, scale);    // att = causal softmax(scores · scale)
    } else {
      gemm(a, T, qh, s.qStride, 1, kh, 1, s.kvStride, T, T, hs, false);
      for (long t = 0; t < T; ++t) {
        float* row = a + t * T;
        for (long j = 0; j <= t; ++j) row[j] *= scale;
        causalSoftmaxRow(row, t, T);
      }
    }
    // out = att v
    if (fast) attn512::lowerTimes(o, C, a, T, vh, s.kvStride, T, hs, false);
    else gemm(o, C, a, T, 1, vh, s.kvStride, 1, T, hs, T, false);
  });
}

namespace {
// rows × width floats at p, row stride `stride`, set to zero
void zeroRows(float* p, long rows, long stride, long width) {
  for (long t = 0; t < rows; ++t) std::memset(p + t * stride, 0, width * sizeof(float));
}
}  // namespace

void attentionBackward(float* dq, float* dk, float* dv, const float* dout, const float* att,
                       const float* q, const float* k, const float* v, const AttnShape& s, bool accumulate) {
  const long B = s.B, T = s.T, nh = s.nh, nkv = s.nkv, hs = s.hs, C = nh * hs, group = nh / nkv;
  const float scale = (float)(1.0 / std::sqrt((double)hs));
  poolRun((int)(B * nkv), [&](int bg) {
    const long b = bg / nkv, g = bg % nkv;
    thread_local std::vector<float> dsBuf;
    if ((long)dsBuf.size() < T * T) dsBuf.resize(T * T);
    float* ds = dsBuf.data();                               // (T, T)
    const float* kg = k + b * T * s.kvStride + g * hs;      // (T, hs)
    const float* vg = v + b * T * s.kvStride + g * hs;
    float* dkg = dk + b * T * s.kvStride + g * hs;
    float* dvg = dv + b * T * s.kvStride + g * hs;
    if (bg + 1 < B * nkv) {
      // the next task's k, v, q and dout rows, asked for while this one computes: saved in the
      // forward (or written a kernel ago), they are strided runs of hs floats that the hardware
      // prefetcher does not see coming (the lab's SFT step: LoRA 1.04×, full 1.01–1.02×)
      const long b1 = (bg + 1) / nkv, g1 = (bg + 1) % nkv;
      prefetchRows(k + b1 * T * s.kvStride + g1 * hs, T, s.kvStride, hs);
      prefetchRows(v + b1 * T * s.kvStride + g1 * hs, T, s.kvStride, hs);
      for (long h1 = g1 * group; h1 < (g1 + 1) * group; ++h1) {
        prefetchRows(q + b1 * T * s.qStride + h1 * hs, T, s.qStride, hs);
        prefetchRows(dout + b1 * T * C + h1 * hs, T, C, hs);
      }
    }
    const bool fast = simdAvx512();
    if (!accumulate && !fast) {
      // this task is the only writer of kv head g's and its query heads' slices in row b (the
      // AVX-512 products write them instead: the first into each slice starts from zero)
      zeroRows(dkg, T, s.kvStride, hs);
      zeroRows(dvg, T, s.kvStride, hs);
      for (long h = g * group; h < (g + 1) * group; ++h) zeroRows(dq + b * T * s.qStride + h * hs, T, s.qStride, hs);
    }
    thread_local std::vector<float> vT;
    if (fast) {
      if ((long)vT.size() < hs * T) vT.resize(hs * T);
      attn512::transposeHead(vT.data(), vg, s.kvStride, T, hs);
    }
    for (long h = g * group; h < (g + 1) * group; ++h) {
      const bool addKv = accumulate || h > g * group;      // dk, dv: the group's first head writes them
      const float* a = att + (b * nh + h) * T * T;         // (T, T)
      const float* qh = q + b * T * s.qStride + h * hs;    // (T, hs)
      float* dqh = dq + b * T * s.qStride + h * hs;
      const float* go = dout + b * T * C + h * hs;         // (T, hs), row stride C
      // datt = dout vᵀ ;  dv += attᵀ dout
      if (fast) {
        attn512::lowerRowsTimesT(ds, T, go, C, vT.data(), T, T, hs);
        attn512::lowerTransposedTimes(dvg, s.kvStride, a, T, go, C, T, hs, addKv);
      } else {
        gemm(ds, T, go, C, 1, vg, 1, s.kvStride, T, T, hs, false);
        gemm(dvg, s.kvStride, a, 1, T, go, C, 1, T, hs, T, true);
      }
      // dscores = att ⊙ (datt − Σ datt·att) · scale
      if (fast) attn512::causalSoftmaxBwdRows(ds, T, a, T, T, scale);
      else for (long t = 0; t < T; ++t) causalSoftmaxBwdRow(ds + t * T, a + t * T, t, T, scale);
      // dq += ds k ;  dk += dsᵀ q
      if (fast) {
        attn512::lowerTimes(dqh, s.qStride, ds, T, kg, s.kvStride, T, hs, accumulate);
        attn512::lowerTransposedTimes(dkg, s.kvStride, ds, T, qh, s.qStride, T, hs, addKv);
      } else {
        gemm(dqh, s.qStride, ds, T, 1, kg, s.kvStride, 1, T, hs, T, true);
        gemm(dkg, s.kvStride, ds, 1, T, qh, s.qStride, 1, T, hs, T, true);
      }
    }
  });
}

}  // namespace fmn
