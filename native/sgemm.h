// Single-precision GEMM: C (M,N) (+)= op(A) (M,K) · op(B) (K,N), row-major, any of the four
// (transA, transB) orientations. Twin of src/backend/js/matmul.ts.
#pragma once

namespace fmn {

void sgemm(bool transA, bool transB, int M, int N, int K, const float* A, const float* B, float* C,
           bool accumulate);

// Same, always on the calling thread (used inside kernels that are already parallel).
void sgemmSerial(bool transA, bool transB, int M, int N, int K, const float* A, const float* B,
                 float* C, bool accumulate);

// "avx512", "avx2" or "scalar": the instruction set chosen at load time (FMN_SIMD overrides).
const char* simdLevel();

}  // namespace fmn
