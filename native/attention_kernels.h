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
void lowerTransposedTimes(float* C, long ldc, const float* P, long ldp, const float* X, long ldx, long T, long D, bool accumulate);
// xT (hs, T) = x (T, hs) with row stride rs.
void transposeHead(float* xT, const float* x, long rs, long T, long hs);
// Rows t < T of S: softmax(scale·S[t][0..t]) then zeros (attention.cc's causalSoftmaxRow with the scaling, same bits).
void causalSoftmaxRows(float* S, long ldS, long T, float scale);
// Rows t < T of ds: att ⊙ (ds − Σ ds·att) · scale over j ≤ t, zeros after (causalSoftmaxBwdRow, same bits).
void causalSoftmaxBwdRows(float* ds, long ldds, const float* att, long lda, long T, float scale);

}  // namespace attn512
}  // namespace fmn
