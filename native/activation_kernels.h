// The AVX-512 GELU loops of activation_avx512.cc (activation.cc runs the rest of a range, and
// everything on other CPUs). Each returns the index where it stopped: i1 less a tail under 64.
#pragma once

namespace fmn {
namespace gelu512 {

long forward(float* out, const float* inp, long i0, long i1);
template <bool kAcc>
long backward(float* dinp, const float* inp, const float* dout, long i0, long i1);

}  // namespace gelu512
}  // namespace fmn
