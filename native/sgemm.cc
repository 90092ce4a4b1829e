// sgemm front end: picks the instruction-set variant once, maps (transA, transB) to strides,
// and splits large problems between the pool's threads (along M when M ≥ N, else along N, so
// the smaller operand is the one each thread packs again).
#include "sgemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "pool.h"
#include "sgemm_args.h"

namespace fmn {
namespace {

const GemmVariant& pickVariant() {
  const char* force = std::getenv("FMN_SIMD");
  __builtin_cpu_init();
  const bool has512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  const bool has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (force && std::strcmp(force, "scalar") == 0) return kGemmScalar;
  if (force && std::strcmp(force, "avx2") == 0 && has2) return kGemmAvx2;
  if (has512) return kGemmAvx512;
  if (has2) return kGemmAvx2;
  return kGemmScalar;
}

const GemmVariant& variant() {
  static const GemmVariant& v = pickVariant();
  return v;
}

// Below this many multiply-adds a second thread costs more than it saves.
constexpr double kParallelMinFlops = 1 << 18;

GemmArgs makeArgs(bool transA, bool transB, int M, int N, int K, const float* A, const float* B,
                  float* C, bool accumulate) {
  GemmArgs g;
  g.A = A;
  g.rsA = transA ? 1 : K;   // A (M,K), or (K,M) when transposed
  g.csA = transA ? M : 1;
  g.B = B;
  g.rsB = transB ? 1 : N;   // B (K,N), or (N,K) when transposed
  g.csB = transB ? K : 1;
  g.C = C;
  g.ldc = N;
  g.M = M;
  g.N = N;
  g.K = K;
  g.accumulate = accumulate;
  return g;
}

}  // namespace

const char* simdLevel() { return variant().name; }

void sgemmStridedSerial(const GemmArgs& g) {
  if (g.M > 0 && g.N > 0) variant().range(g, 0, g.M, 0, g.N);
}

void sgemmSerial(bool transA, bool transB, int M, int N, int K, const float* A, const float* B,
                 float* C, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  const GemmArgs g = makeArgs(transA, transB, M, N, K, A, B, C, accumulate);
  variant().range(g, 0, M, 0, N);
}

void sgemm(bool transA, bool transB, int M, int N, int K, const float* A, const float* B, float* C,
           bool accumulate) {
  if (M <= 0 || N <= 0) return;
  const GemmVariant& v = variant();
  const GemmArgs g = makeArgs(transA, transB, M, N, K, A, B, C, accumulate);
  const int nt = poolThreads();
  if (nt == 1 || (double)M * N * K < kParallelMinFlops) {
    v.range(g, 0, M, 0, N);
    return;
  }
  // Split the longer side into nt chunks, each a multiple of the register tile.
  const bool alongM = M >= N;
  const int len = alongM ? M : N, tile = alongM ? v.MR : v.NR;
  const int tiles = (len + tile - 1) / tile;
  const int tasks = std::min(nt, tiles);
  poolRun(tasks, [&](int t) {
    const int a = (int)((long)tiles * t / tasks) * tile;
    const int b = std::min(len, (int)((long)tiles * (t + 1) / tasks) * tile);
    if (alongM) v.range(g, a, b, 0, N);
    else v.range(g, 0, M, a, b);
  });
}

}  // namespace fmn
