// Optional OpenBLAS (dlopen) for benchmark comparisons only.
#pragma once

namespace fmn {

bool openblasLoad(const char* path);
// The kernel set OpenBLAS picked for this CPU (its DYNAMIC_ARCH core: "Haswell", "SkylakeX", …;
// OPENBLAS_CORETYPE overrides it at load); null before openblasLoad or without the symbol.
const char* openblasCorename();
bool openblasSgemm(bool transA, bool transB, int M, int N, int K, const float* A, const float* B,
                   float* C, bool accumulate, int threads);

}  // namespace fmn
