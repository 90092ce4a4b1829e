// Optional OpenBLAS (dlopen) for benchmark comparisons only.
#pragma once

namespace fmn {

bool openblasLoad(const char* path);
bool openblasSgemm(bool transA, bool transB, int M, int N, int K, const float* A, const float* B,
                   float* C, bool accumulate, int threads);

}  // namespace fmn
