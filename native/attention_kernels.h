// The AVX-512 products of causal attention (attention_avx512.cc); see attention.cc.
#pragma once

namespace fmn {
namespace attn512 {

// S[t][j] = Σ_d A[t][d]·BT[d][j], for the column blocks that reach j ≤ t (S's upper triangle
// is left partly unwritten: the softmax zeroes it). A (T, K) row stride lda; BT (K, T) row stride ldbt.
void lowerRowsTimesT(float* S, long ldS, const float* A, long lda, const float* BT, long ldbt, long T, long K);
// C[t][:D] (+)= Σ_{j ≤ t} P[t][j]·X[j][:D], P (T, T) zero above its diagonal.
void lowerTimes(float* C, long ldc, const float* P, long ldp, const float* X, long ldx, long T, long D, bool accumulate);
// C[j][:D] += Σ_{t ≥ j} P[t][j]·X[t][:D], P (T, T) zero above its diagonal.
void lowerTransposedTimes(float* C, long ldc, const float* P, long ldp, const float* X, long ldx, long T, long D);

}  // namespace attn512
}  // namespace fmn
