// Portable sgemm variant: 4×8 tile in plain C++ (the compiler may use SSE2).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "sgemm_args.h"

namespace fmn {
namespace scalar {

#include "sgemm_driver.h"

struct Kernel {
  static constexpr bool kFastPack = false;
  static constexpr bool kDirectA = false;   // op(A) always packed
  static constexpr bool kPartRows = false;  // a ragged panel runs the full tile aside
  static constexpr int MR = 4, NR = 8;

  // C = the sum (overwrite) or C + the sum, accumulated from C
  static void micro(int kc, const float* a, const float* b, float* c, long ldc, const float* start, long lds) {
    float acc[MR][NR];
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < NR; ++j) acc[r][j] = start == nullptr ? 0.f : start[r * lds + j];
    for (int k = 0; k < kc; ++k, a += MR, b += NR)
      for (int r = 0; r < MR; ++r)
        for (int j = 0; j < NR; ++j) acc[r][j] += a[r] * b[j];
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < NR; ++j) c[r * ldc + j] = acc[r][j];
  }
};

void range(const GemmArgs& g, int i0, int i1, int j0, int j1) {
  static const Blocks bl = gemmBlocks(Kernel::MR, Kernel::NR, 4);
  gemmRange<Kernel>(g, i0, i1, j0, j1, bl);
}

}  // namespace scalar

const GemmVariant kGemmScalar = {"scalar", scalar::Kernel::MR, scalar::Kernel::NR, scalar::range};

}  // namespace fmn
