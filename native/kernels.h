// The non-GEMM kernels. Each one is the float32 twin of the function with the same name in
// src/backend/js/ (same argument order: outputs, cached activations, inputs, sizes), and
// backward kernels ACCUMULATE (+=) into their gradient outputs, as there.
#pragma once
#include <cstdint>
#include <vector>

namespace fmn {

void layernormForward(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                      const float* bias, long N, long C, float eps);
void layernormBackward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                       const float* weight, const float* mean, const float* rstd, long N, long C);
void rmsnormForward(float* out, float* rstd, const float* inp, const float* weight, long N, long C,
                    float eps);
void rmsnormBackward(float* dinp, float* dweight, const float* dout, const float* inp,
                     const float* weight, const float* rstd, long N, long C);

void geluForward(float* out, const float* inp, long n);
void geluBackward(float* dinp, const float* inp, const float* dout, long n, bool accumulate);
void siluForward(float* out, const float* inp, long n);
void siluBackward(float* dinp, const float* inp, const float* dout, long n, bool accumulate);

void softmaxForward(float* out, const float* inp, long N, long C);
void softmaxBackward(float* dinp, const float* out, const float* dout, long N, long C);
// start + Σ g[i]² in double, one chain in index order (gradient clipping's norm)
double sumSquares(const float* g, long n, double start);
// g[i] = float(g[i] · s), s in double
void scaleInPlace(float* g, long n, double s);
// out = a + b elementwise (out may be a or b)
void addBuffers(float* out, const float* a, const float* b, long n);
// out (C) += the column sums of inp (N, C), each column in row order
void addColumnSums(float* out, const float* inp, long N, long C);
// out (N, C) = weight[ids] (rows gathered); ids already checked to lie in [0, V)
void embeddingForward(float* out, const float* weight, const int32_t* ids, long N, long C);
// dweight[ids[i], :] += dout[i, :] for i in order (each element one chain in i order)
void embeddingBackward(float* dweight, const float* dout, const int32_t* ids, long N, long C);

struct AttnShape {
  long B, T, nh, nkv, hs, qStride, kvStride;
};
void attentionForward(float* out, float* att, const float* q, const float* k, const float* v,
                      const AttnShape& s);
// Adds into dq, dk, dv when `accumulate`; else writes them (each task zeroes its own head slices
// first, in cache: the bits of adding into zeros, without a separate pass over the buffers).
void attentionBackward(float* dq, float* dk, float* dv, const float* dout, const float* att,
                       const float* q, const float* k, const float* v, const AttnShape& s, bool accumulate);

void crossEntropyForward(float* losses, float* probs, const float* logits, const int32_t* targets,
                         long N, long V, int32_t ignoreIndex);
// dlogits (+)= dlosses · (probs − onehot(target)); accumulate false: written (0 + …, the bits of
// adding into zeros; ignored rows zero), and dlogits may be probs itself.
void crossEntropyBackward(float* dlogits, const float* probs, const int32_t* targets,
                          const float* dlosses, long N, long V, int32_t ignoreIndex, bool accumulate);

// AdamW (torch.optim.AdamW: decoupled decay, then bias-corrected Adam) on every tensor in one call
// (one parallel job over all of them); gradScale ≠ 1 first scales each gradient in place as
// scaleInPlace does (clipping). Each element's arithmetic does not depend on the partition.
struct AdamTensor {
  float *param, *grad, *m, *v;
  long n;
  double weightDecay;
};
void adamwStep(const std::vector<AdamTensor>& ts, double lr, double beta1, double beta2, double eps,
               double t, double gradScale);

// Sustained single-core FP32 FMA rate (GFLOP/s): independent FMA chains for ~`seconds`.
double peakGflops(double seconds);

}  // namespace fmn
