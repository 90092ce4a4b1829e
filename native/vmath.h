// Branch-free float exp (Cephes expf polynomial, ~1 ulp on [-87, 88]) written so GCC can
// vectorize loops that call it. Underflow below −87.3 returns 0, like the float64 reference
// rounded to float32.
#pragma once
#include <cstdint>
#include <cstring>

namespace fmn {

static inline float expFast(float x) {
  const float xc = x > 88.3f ? 88.3f : (x < -87.3f ? -87.3f : x);
  // x = n ln2 + r, |r| ≤ ln2/2 (ln2 split in two for an exact n·ln2)
  const float n = __builtin_rintf(xc * 1.44269504088896341f);
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  // e^r ≈ 1 + r + r² p(r)
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * r * r + r + 1.0f;
  // 2^n through the exponent bits
  const int32_t bits = ((int32_t)n + 127) << 23;
  float two;
  std::memcpy(&two, &bits, sizeof two);
  return x < -87.3f ? 0.0f : er * two;
}

// σ(x) = 1 / (1 + e^−x)
static inline float sigmoidFast(float x) { return 1.0f / (1.0f + expFast(-x)); }

}  // namespace fmn
