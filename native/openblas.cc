// Optional comparison point for the kernel benchmark: Debian's OpenBLAS, opened with dlopen at
// run time when it is installed. Never needed by the build or by the kernels.
#include "openblas.h"

#include <dlfcn.h>

namespace fmn {
namespace {

// cblas_sgemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
using SgemmFn = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int,
                         float, float*, int);
using SetThreadsFn = void (*)(int);
using CorenameFn = char* (*)();
SgemmFn g_sgemm = nullptr;
SetThreadsFn g_setThreads = nullptr;
CorenameFn g_corename = nullptr;

constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

}  // namespace

bool openblasLoad(const char* path) {
  if (g_sgemm) return true;
  void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) return false;
  g_sgemm = reinterpret_cast<SgemmFn>(dlsym(h, "cblas_sgemm"));
  g_setThreads = reinterpret_cast<SetThreadsFn>(dlsym(h, "openblas_set_num_threads"));
  g_corename = reinterpret_cast<CorenameFn>(dlsym(h, "openblas_get_corename"));
  return g_sgemm != nullptr;
}

const char* openblasCorename() {
  return g_corename ? g_corename() : nullptr;
}

bool openblasSgemm(bool transA, bool transB, int M, int N, int K, const float* A, const float* B,
                   float* C, bool accumulate, int threads) {
  if (!g_sgemm) return false;
  if (g_setThreads) g_setThreads(threads);
  g_sgemm(kRowMajor, transA ? kTrans : kNoTrans, transB ? kTrans : kNoTrans, M, N, K, 1.0f, A,
          transA ? M : K, B, transB ? K : N, accumulate ? 1.0f : 0.0f, C, N);
  return true;
}

}  // namespace fmn
