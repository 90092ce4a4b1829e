// N-API glue: each export takes the same arguments as the Backend method of the same name
// (src/backend/backend.ts). TypedArrays are used in place (zero copy; Data() already includes
// a subarray's byteOffset). Sizes are read first and every buffer is checked against the
// length they imply, so a wrong call throws a JS error instead of touching foreign memory.
#include <napi.h>

#include <atomic>
#include <cmath>
#include <string>
#include <vector>

#include "kernels.h"
#include "openblas.h"
#include "pool.h"
#include "sgemm.h"

namespace {

// Positional arguments by index, each with its name for the error message.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* fn) : info_(info), fn_(fn) {}

  // A Float32Array with at least `need` elements.
  float* f32(size_t i, const char* name, double need) const {
    Napi::Value v = at(i);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      fail(std::string(name) + " must be a Float32Array", true);
    auto a = v.As<Napi::Float32Array>();
    checkLength(name, a.ElementLength(), need);
    return a.Data();
  }

  int32_t* i32(size_t i, const char* name, double need) const {
    Napi::Value v = at(i);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
      fail(std::string(name) + " must be an Int32Array", true);
    auto a = v.As<Napi::Int32Array>();
    checkLength(name, a.ElementLength(), need);
    return a.Data();
  }

  // A non-negative integer below 2^31.
  long size(size_t i, const char* name) const {
    const double d = number(i, name);
    if (!(d >= 0 && d < 2147483648.0 && std::floor(d) == d))
      fail(std::string(name) + " must be a non-negative integer, got " + std::to_string(d), false);
    return (long)d;
  }

  double number(size_t i, const char* name) const {
    Napi::Value v = at(i);
    if (!v.IsNumber()) fail(std::string(name) + " must be a number", true);
    return v.As<Napi::Number>().DoubleValue();
  }

  bool flag(size_t i, const char* name) const {
    Napi::Value v = at(i);
    if (!v.IsBoolean()) fail(std::string(name) + " must be a boolean", true);
    return v.As<Napi::Boolean>().Value();
  }

  [[noreturn]] void fail(const std::string& msg, bool type) const {
    const std::string m = std::string(fn_) + ": " + msg;
    if (type) throw Napi::TypeError::New(info_.Env(), m);
    throw Napi::RangeError::New(info_.Env(), m);
  }

 private:
  Napi::Value at(size_t i) const {
    if (i >= info_.Length()) fail("expected at least " + std::to_string(i + 1) + " arguments", true);
    return info_[i];
  }
  void checkLength(const char* name, size_t have, double need) const {
    if ((double)have < need)
      fail(std::string(name) + " has " + std::to_string(have) + " elements, needs " +
               std::to_string((long long)need), false);
  }

  const Napi::CallbackInfo& info_;
  const char* fn_;
};

using D = double;  // lengths are computed in double: no integer overflow before the check

// Argument i when it is an ArrayBuffer from packMatmulB (sgemm checks that it fits the product
// and the path in use, and otherwise packs B as usual), else null.
const void* packedArg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsArrayBuffer()) return nullptr;
  return info[i].As<Napi::ArrayBuffer>().Data();
}

// packMatmulB(B, K, N, transB) → ArrayBuffer, or null when the fp32 path is in use: op(B) (K, N)
// converted and packed once for the bf16 path in use (a frozen weight), for matmul's `packed`.
Napi::Value PackMatmulB(const Napi::CallbackInfo& info) {
  const Args a(info, "packMatmulB");
  const long K = a.size(1, "K"), N = a.size(2, "N");
  const bool tB = a.flag(3, "transB");
  const float* B = a.f32(0, "B", (D)K * N);
  const long bytes = fmn::packedBBytes((int)K, (int)N);
  if (bytes <= 0) return info.Env().Null();
  Napi::ArrayBuffer out = Napi::ArrayBuffer::New(info.Env(), (size_t)bytes);
  if (!fmn::packB(tB, (int)K, (int)N, B, out.Data(), bytes)) return info.Env().Null();
  return out;
}

// matmul(C, A, B, M, N, K, transA, transB, accumulate, bias?, colSumsB?, packed?)
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  const Args a(info, "matmul");
  const long M = a.size(3, "M"), N = a.size(4, "N"), K = a.size(5, "K");
  const bool tA = a.flag(6, "transA"), tB = a.flag(7, "transB"), acc = a.flag(8, "accumulate");
  float* C = a.f32(0, "C", (D)M * N);
  const float* A = a.f32(1, "A", (D)M * K);
  const float* B = a.f32(2, "B", (D)K * N);
  const float* bias = nullptr;
  if (info.Length() > 9 && !info[9].IsUndefined()) {
    if (acc) a.fail("bias with accumulate: the bias is C's starting value", false);
    bias = a.f32(9, "bias", N);
  }
  float* colSums = info.Length() > 10 && !info[10].IsUndefined() ? a.f32(10, "colSumsB", N) : nullptr;
  fmn::sgemm(tA, tB, (int)M, (int)N, (int)K, A, B, C, acc, bias, packedArg(info, 11), colSums);
  return info.Env().Undefined();
}

// matmulPlus(C, A, B, M, N, K, transA, transB, accumulate, bias | undefined, A2, B2, K2, transA2, transB2, packed?)
Napi::Value MatmulPlus(const Napi::CallbackInfo& info) {
  const Args a(info, "matmulPlus");
  const long M = a.size(3, "M"), N = a.size(4, "N"), K = a.size(5, "K"), K2 = a.size(12, "K2");
  const bool tA = a.flag(6, "transA"), tB = a.flag(7, "transB"), acc = a.flag(8, "accumulate");
  const bool tA2 = a.flag(13, "transA2"), tB2 = a.flag(14, "transB2");
  float* C = a.f32(0, "C", (D)M * N);
  const float* A = a.f32(1, "A", (D)M * K);
  const float* B = a.f32(2, "B", (D)K * N);
  const float* bias = nullptr;
  if (!info[9].IsUndefined()) {
    if (acc) a.fail("bias with accumulate: the bias is C's starting value", false);
    bias = a.f32(9, "bias", N);
  }
  const float* A2 = a.f32(10, "A2", (D)M * K2);
  const float* B2 = a.f32(11, "B2", (D)K2 * N);
  fmn::sgemmPlus(tA, tB, (int)M, (int)N, (int)K, A, B, C, acc, bias, tA2, tB2, (int)K2, A2, B2, packedArg(info, 15));
  return info.Env().Undefined();
}

// layernormForward(out, mean, rstd, inp, weight, bias, N, C, eps)
Napi::Value LayernormForward(const Napi::CallbackInfo& info) {
  const Args a(info, "layernormForward");
  const long N = a.size(6, "N"), C = a.size(7, "C");
  const float eps = (float)a.number(8, "eps");
  fmn::layernormForward(a.f32(0, "out", (D)N * C), a.f32(1, "mean", N), a.f32(2, "rstd", N),
                        a.f32(3, "inp", (D)N * C), a.f32(4, "weight", C), a.f32(5, "bias", C), N, C, eps);
  return info.Env().Undefined();
}

// layernormBackward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C)
Napi::Value LayernormBackward(const Napi::CallbackInfo& info) {
  const Args a(info, "layernormBackward");
  const long N = a.size(8, "N"), C = a.size(9, "C");
  fmn::layernormBackward(a.f32(0, "dinp", (D)N * C), a.f32(1, "dweight", C), a.f32(2, "dbias", C),
                         a.f32(3, "dout", (D)N * C), a.f32(4, "inp", (D)N * C), a.f32(5, "weight", C),
                         a.f32(6, "mean", N), a.f32(7, "rstd", N), N, C);
  return info.Env().Undefined();
}

// rmsnormForward(out, rstd, inp, weight, N, C, eps)
Napi::Value RmsnormForward(const Napi::CallbackInfo& info) {
  const Args a(info, "rmsnormForward");
  const long N = a.size(4, "N"), C = a.size(5, "C");
  const float eps = (float)a.number(6, "eps");
  fmn::rmsnormForward(a.f32(0, "out", (D)N * C), a.f32(1, "rstd", N), a.f32(2, "inp", (D)N * C),
                      a.f32(3, "weight", C), N, C, eps);
  return info.Env().Undefined();
}

// rmsnormBackward(dinp, dweight, dout, inp, weight, rstd, N, C)
Napi::Value RmsnormBackward(const Napi::CallbackInfo& info) {
  const Args a(info, "rmsnormBackward");
  const long N = a.size(6, "N"), C = a.size(7, "C");
  fmn::rmsnormBackward(a.f32(0, "dinp", (D)N * C), a.f32(1, "dweight", C), a.f32(2, "dout", (D)N * C),
                       a.f32(3, "inp", (D)N * C), a.f32(4, "weight", C), a.f32(5, "rstd", N), N, C);
  return info.Env().Undefined();
}

// Elementwise: fwd(out, inp, n) and bwd(dinp, inp, dout, n, accumulate)
template <void (*F)(float*, const float*, long)>
Napi::Value Unary(const Napi::CallbackInfo& info) {
  const Args a(info, "activationForward");
  const long n = a.size(2, "n");
  F(a.f32(0, "out", n), a.f32(1, "inp", n), n);
  return info.Env().Undefined();
}
template <void (*F)(float*, const float*, const float*, long, bool)>
Napi::Value UnaryBackward(const Napi::CallbackInfo& info) {
  const Args a(info, "activationBackward");
  const long n = a.size(3, "n");
  F(a.f32(0, "dinp", n), a.f32(1, "inp", n), a.f32(2, "dout", n), n, a.flag(4, "accumulate"));
  return info.Env().Undefined();
}

// softmaxForward(out, inp, N, C)
Napi::Value SoftmaxForward(const Napi::CallbackInfo& info) {
  const Args a(info, "softmaxForward");
  const long N = a.size(2, "N"), C = a.size(3, "C");
  fmn::softmaxForward(a.f32(0, "out", (D)N * C), a.f32(1, "inp", (D)N * C), N, C);
  return info.Env().Undefined();
}

// softmaxBackward(dinp, out, dout, N, C)
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  const Args a(info, "softmaxBackward");
  const long N = a.size(3, "N"), C = a.size(4, "C");
  fmn::softmaxBackward(a.f32(0, "dinp", (D)N * C), a.f32(1, "out", (D)N * C), a.f32(2, "dout", (D)N * C), N, C);
  return info.Env().Undefined();
}

// addBuffers(out, a, b, n)
Napi::Value AddBuffers(const Napi::CallbackInfo& info) {
  const Args a(info, "addBuffers");
  const long n = a.size(3, "n");
  fmn::addBuffers(a.f32(0, "out", n), a.f32(1, "a", n), a.f32(2, "b", n), n);
  return info.Env().Undefined();
}

// addColumnSums(out, inp, N, C)
Napi::Value AddColumnSums(const Napi::CallbackInfo& info) {
  const Args a(info, "addColumnSums");
  const long N = a.size(2, "N"), C = a.size(3, "C");
  fmn::addColumnSums(a.f32(0, "out", (D)C), a.f32(1, "inp", (D)N * C), N, C);
  return info.Env().Undefined();
}

// Row indices must lie in [0, V) before any row is read or written.
void checkIds(const Args& a, const int32_t* ids, long N, long V) {
  for (long i = 0; i < N; ++i)
    if (ids[i] < 0 || ids[i] >= V)
      a.fail("ids[" + std::to_string(i) + "] = " + std::to_string(ids[i]) + " is outside [0, V)", false);
}

// embeddingForward(out, weight, ids, N, C, V) and embeddingBackward(dweight, dout, ids, N, C, V):
// buffer 0 is written, 1 read; one of them is (N, C), the other the (V, C) table.
template <void (*F)(float*, const float*, const int32_t*, long, long), bool kTableFirst>
Napi::Value Embedding(const Napi::CallbackInfo& info) {
  const Args a(info, kTableFirst ? "embeddingBackward" : "embeddingForward");
  const long N = a.size(3, "N"), C = a.size(4, "C"), V = a.size(5, "V");
  const int32_t* ids = a.i32(2, "ids", N);
  checkIds(a, ids, N, V);
  const D rows0 = kTableFirst ? V : N, rows1 = kTableFirst ? N : V;
  F(a.f32(0, kTableFirst ? "dweight" : "out", rows0 * C), a.f32(1, kTableFirst ? "dout" : "weight", rows1 * C), ids, N, C);
  return info.Env().Undefined();
}

// sumSquares(g, n, start) -> number
Napi::Value SumSquares(const Napi::CallbackInfo& info) {
  const Args a(info, "sumSquares");
  const long n = a.size(1, "n");
  return Napi::Number::New(info.Env(), fmn::sumSquares(a.f32(0, "g", n), n, a.number(2, "start")));
}

// scaleInPlace(g, n, s)
Napi::Value ScaleInPlace(const Napi::CallbackInfo& info) {
  const Args a(info, "scaleInPlace");
  const long n = a.size(1, "n");
  fmn::scaleInPlace(a.f32(0, "g", n), n, a.number(2, "s"));
  return info.Env().Undefined();
}

// adamwStep(params, grads, m, v, weightDecay, lr, beta1, beta2, eps, t, gradScale): arrays of one
// entry per tensor (Float32Arrays; weightDecay numbers), grad / m / v each as long as its param.
Napi::Value AdamwStep(const Napi::CallbackInfo& info) {
  const Args a(info, "adamwStep");
  const char* names[4] = {"params", "grads", "m", "v"};
  Napi::Array arr[5];
  for (int j = 0; j < 5; ++j) {
    if (info.Length() <= (size_t)j || !info[j].IsArray()) a.fail(std::string(j < 4 ? names[j] : "weightDecay") + " must be an array", true);
    arr[j] = info[j].As<Napi::Array>();
    if (arr[j].Length() != arr[0].Length())
      a.fail(std::string(j < 4 ? names[j] : "weightDecay") + " has " + std::to_string(arr[j].Length()) + " entries, params " +
                 std::to_string(arr[0].Length()), false);
  }
  std::vector<fmn::AdamTensor> ts(arr[0].Length());
  for (uint32_t i = 0; i < arr[0].Length(); ++i) {
    float* p[4];
    size_t n = 0;
    for (int j = 0; j < 4; ++j) {
      Napi::Value v = arr[j].Get(i);
      if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
        a.fail(std::string(names[j]) + "[" + std::to_string(i) + "] must be a Float32Array", true);
      auto f = v.As<Napi::Float32Array>();
      if (j == 0) n = f.ElementLength();
      else if (f.ElementLength() != n)
        a.fail(std::string(names[j]) + "[" + std::to_string(i) + "] has " + std::to_string(f.ElementLength()) +
                   " elements, params[" + std::to_string(i) + "] " + std::to_string(n), false);
      p[j] = f.Data();
    }
    Napi::Value wd = arr[4].Get(i);
    if (!wd.IsNumber()) a.fail("weightDecay[" + std::to_string(i) + "] must be a number", true);
    ts[i] = {p[0], p[1], p[2], p[3], (long)n, wd.As<Napi::Number>().DoubleValue()};
  }
  fmn::adamwStep(ts, a.number(5, "lr"), a.number(6, "beta1"), a.number(7, "beta2"), a.number(8, "eps"),
                 a.number(9, "t"), a.number(10, "gradScale"));
  return info.Env().Undefined();
}

// Attention sizes follow the buffers: (…, B, T, nh, nkv, hs, qStride, kvStride) from `first`.
fmn::AttnShape attnShape(const Args& a, size_t first) {
  fmn::AttnShape s{a.size(first, "B"), a.size(first + 1, "T"), a.size(first + 2, "nh"),
                   a.size(first + 3, "nkv"), a.size(first + 4, "hs"), a.size(first + 5, "qStride"),
                   a.size(first + 6, "kvStride")};
  if (s.nkv == 0 || s.nh % s.nkv != 0) a.fail("nh must be a positive multiple of nkv", false);
  if (s.qStride < s.nh * s.hs) a.fail("qStride must be at least nh*hs", false);
  if (s.kvStride < s.nkv * s.hs) a.fail("kvStride must be at least nkv*hs", false);
  return s;
}
// Elements a strided (B·T rows, `stride` apart) view must hold: last row start + width.
double stridedNeed(const fmn::AttnShape& s, long stride, long width) {
  const double rows = (double)s.B * s.T;
  return rows == 0 ? 0 : (rows - 1) * stride + width;
}

// attentionForward(out, att, q, k, v, B, T, nh, nkv, hs, qStride, kvStride)
Napi::Value AttentionForward(const Napi::CallbackInfo& info) {
  const Args a(info, "attentionForward");
  const fmn::AttnShape s = attnShape(a, 5);
  const double BT = (double)s.B * s.T;
  fmn::attentionForward(a.f32(0, "out", BT * s.nh * s.hs), a.f32(1, "att", BT * s.nh * s.T),
                        a.f32(2, "q", stridedNeed(s, s.qStride, s.nh * s.hs)),
                        a.f32(3, "k", stridedNeed(s, s.kvStride, s.nkv * s.hs)),
                        a.f32(4, "v", stridedNeed(s, s.kvStride, s.nkv * s.hs)), s);
  return info.Env().Undefined();
}

// attentionBackward(dq, dk, dv, dout, att, q, k, v, B, T, nh, nkv, hs, qStride, kvStride)
Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  const Args a(info, "attentionBackward");
  const fmn::AttnShape s = attnShape(a, 8);
  const double BT = (double)s.B * s.T;
  const double nq = stridedNeed(s, s.qStride, s.nh * s.hs), nkv = stridedNeed(s, s.kvStride, s.nkv * s.hs);
  fmn::attentionBackward(a.f32(0, "dq", nq), a.f32(1, "dk", nkv), a.f32(2, "dv", nkv),
                         a.f32(3, "dout", BT * s.nh * s.hs), a.f32(4, "att", BT * s.nh * s.T),
                         a.f32(5, "q", nq), a.f32(6, "k", nkv), a.f32(7, "v", nkv), s, a.flag(15, "accumulate"));
  return info.Env().Undefined();
}

// Targets must be valid class indices (or ignoreIndex) before any row is read.
void checkTargets(const Args& a, const int32_t* t, long N, long V, int32_t ignore) {
  for (long i = 0; i < N; ++i)
    if (t[i] != ignore && (t[i] < 0 || t[i] >= V))
      a.fail("targets[" + std::to_string(i) + "] = " + std::to_string(t[i]) + " is outside [0, V)", false);
}

// crossEntropyForward(losses, probs, logits, targets, N, V, ignoreIndex)
Napi::Value CrossEntropyForward(const Napi::CallbackInfo& info) {
  const Args a(info, "crossEntropyForward");
  const long N = a.size(4, "N"), V = a.size(5, "V");
  const int32_t ignore = (int32_t)a.number(6, "ignoreIndex");
  const int32_t* t = a.i32(3, "targets", N);
  checkTargets(a, t, N, V, ignore);
  fmn::crossEntropyForward(a.f32(0, "losses", N), a.f32(1, "probs", (D)N * V), a.f32(2, "logits", (D)N * V),
                           t, N, V, ignore);
  return info.Env().Undefined();
}

// crossEntropyBackward(dlogits, probs, targets, dlosses, N, V, ignoreIndex, accumulate)
Napi::Value CrossEntropyBackward(const Napi::CallbackInfo& info) {
  const Args a(info, "crossEntropyBackward");
  const long N = a.size(4, "N"), V = a.size(5, "V");
  const int32_t ignore = (int32_t)a.number(6, "ignoreIndex");
  const int32_t* t = a.i32(2, "targets", N);
  checkTargets(a, t, N, V, ignore);
  fmn::crossEntropyBackward(a.f32(0, "dlogits", (D)N * V), a.f32(1, "probs", (D)N * V), t,
                            a.f32(3, "dlosses", N), N, V, ignore, a.flag(7, "accumulate"));
  return info.Env().Undefined();
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  const Args a(info, "setThreads");
  const long n = a.size(0, "n");
  if (n < 1) a.fail("n must be at least 1", false);
  fmn::poolSetThreads((int)n);
  return Napi::Number::New(info.Env(), fmn::poolThreads());
}

// Pool self-check: `jobs` jobs of varying task counts (1..97, or with maxTasks above 97 jobs of
// maxTasks−2 … maxTasks tasks, past the 65,535 one job of the pool holds) back to back, each task
// adding one to its own slot; returns how many slots did not end at exactly one (0 when right).
// The tests run it with more threads than cores, so workers are preempted mid-job.
Napi::Value PoolSelfTest(const Napi::CallbackInfo& info) {
  const Args a(info, "poolSelfTest");
  const long jobs = (long)a.number(0, "jobs");
  const long most = info.Length() > 1 ? a.size(1, "maxTasks") : 97;   // tasks per job: 1 … most
  long bad = 0;
  std::vector<std::atomic<int>> hits(most);
  for (long j = 0; j < jobs; ++j) {
    const int n = most <= 97 ? 1 + (int)((j * 37 + (j % 3) * 50) % most) : (int)(most - j % 3);
    for (int i = 0; i < n; ++i) hits[i].store(0);
    fmn::poolRun(n, [&](int i) {
      if (i < 0 || i >= n) { ++bad; return; }
      hits[i].fetch_add(1);
    });
    for (int i = 0; i < n; ++i) bad += hits[i].load() != 1;
  }
  return Napi::Number::New(info.Env(), (double)bad);
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), fmn::poolThreads());
}

Napi::Value SimdLevel(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), fmn::simdLevel());
}

// setMatmulPrecision("fp32" | "bf16", force?: "amx" | "avx512bf16") → the path matmul now uses:
// "fp32", "amx" or "avx512bf16" ("fp32" when bf16 was asked on a CPU without a bf16 path).
// A forced path this CPU cannot run is a RangeError (tests force each path; users never do).
Napi::Value SetMatmulPrecision(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "setMatmulPrecision: precision must be a string");
  const std::string p = info[0].As<Napi::String>().Utf8Value();
  if (p != "fp32" && p != "bf16") throw Napi::RangeError::New(env, "setMatmulPrecision: precision must be fp32 or bf16, got " + p);
  std::string force;
  if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull()) {
    if (!info[1].IsString()) throw Napi::TypeError::New(env, "setMatmulPrecision: force must be a string");
    force = info[1].As<Napi::String>().Utf8Value();
    if (force != "amx" && force != "avx512bf16") throw Napi::RangeError::New(env, "setMatmulPrecision: force must be amx or avx512bf16, got " + force);
  }
  const char* used = fmn::setMatmulPrecision(p == "bf16", force.empty() ? nullptr : force.c_str());
  if (!used) throw Napi::RangeError::New(env, "setMatmulPrecision: the " + force + " path cannot run on this machine");
  return Napi::String::New(env, used);
}

// bf16Info() → {path: "amx" | "avx512bf16" | "none", note, amx: boolean, avx512bf16: boolean}
Napi::Value Bf16Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("path", fmn::bf16Path());
  o.Set("note", fmn::bf16Note());
  o.Set("amx", fmn::bf16PathUsable("amx"));
  o.Set("avx512bf16", fmn::bf16PathUsable("avx512bf16"));
  return o;
}

// peakGflops(seconds): the bench's measured single-core FP32 FMA peak.
Napi::Value PeakGflops(const Napi::CallbackInfo& info) {
  const Args a(info, "peakGflops");
  return Napi::Number::New(info.Env(), fmn::peakGflops(a.number(0, "seconds")));
}

// gemmInfo() → {kc, mc, nc, l1d, l2} (bench only)
Napi::Value GemmInfoJs(const Napi::CallbackInfo& info) {
  const fmn::GemmInfo g = fmn::gemmInfo();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("kc", g.kc);
  o.Set("mc", g.mc);
  o.Set("nc", g.nc);
  o.Set("l1d", (double)g.l1d);
  o.Set("l2", (double)g.l2);
  return o;
}

// openblasLoad(path) → boolean (bench only)
Napi::Value OpenblasLoad(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(info.Env(), "openblasLoad: path must be a string");
  return Napi::Boolean::New(info.Env(), fmn::openblasLoad(info[0].As<Napi::String>().Utf8Value().c_str()));
}

// openblasCorename() → string | null (bench only)
Napi::Value OpenblasCorename(const Napi::CallbackInfo& info) {
  const char* name = fmn::openblasCorename();
  return name ? Napi::Value(Napi::String::New(info.Env(), name)) : info.Env().Null();
}

// openblasSgemm(C, A, B, M, N, K, transA, transB, accumulate, threads) → boolean (bench only)
Napi::Value OpenblasSgemm(const Napi::CallbackInfo& info) {
  const Args a(info, "openblasSgemm");
  const long M = a.size(3, "M"), N = a.size(4, "N"), K = a.size(5, "K");
  const bool tA = a.flag(6, "transA"), tB = a.flag(7, "transB"), acc = a.flag(8, "accumulate");
  const long threads = a.size(9, "threads");
  const bool ok = fmn::openblasSgemm(tA, tB, (int)M, (int)N, (int)K, a.f32(1, "A", (D)M * K),
                                     a.f32(2, "B", (D)K * N), a.f32(0, "C", (D)M * N), acc, (int)threads);
  return Napi::Boolean::New(info.Env(), ok);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  const auto fn = [&](const char* name, Napi::Function::Callback cb) {
    exports.Set(name, Napi::Function::New(env, cb, name));
  };
  fn("matmul", Matmul);
  fn("matmulPlus", MatmulPlus);
  fn("packMatmulB", PackMatmulB);
  fn("layernormForward", LayernormForward);
  fn("layernormBackward", LayernormBackward);
  fn("rmsnormForward", RmsnormForward);
  fn("rmsnormBackward", RmsnormBackward);
  fn("geluForward", Unary<fmn::geluForward>);
  fn("geluBackward", UnaryBackward<fmn::geluBackward>);
  fn("siluForward", Unary<fmn::siluForward>);
  fn("siluBackward", UnaryBackward<fmn::siluBackward>);
  fn("softmaxForward", SoftmaxForward);
  fn("softmaxBackward", SoftmaxBackward);
  fn("addBuffers", AddBuffers);
  fn("addColumnSums", AddColumnSums);
  fn("attentionForward", AttentionForward);
  fn("attentionBackward", AttentionBackward);
  fn("crossEntropyForward", CrossEntropyForward);
  fn("crossEntropyBackward", CrossEntropyBackward);
  fn("embeddingForward", Embedding<fmn::embeddingForward, false>);
  fn("embeddingBackward", Embedding<fmn::embeddingBackward, true>);
  fn("adamwStep", AdamwStep);
  fn("sumSquares", SumSquares);
  fn("scaleInPlace", ScaleInPlace);
  fn("setThreads", SetThreads);
  fn("getThreads", GetThreads);
  fn("poolSelfTest", PoolSelfTest);
  fn("simdLevel", SimdLevel);
  fn("setMatmulPrecision", SetMatmulPrecision);
  fn("bf16Info", Bf16Info);
  fn("peakGflops", PeakGflops);
  fn("gemmInfo", GemmInfoJs);
  fn("openblasLoad", OpenblasLoad);
  fn("openblasCorename", OpenblasCorename);
  fn("openblasSgemm", OpenblasSgemm);
  return exports;
}

}  // namespace

NODE_API_MODULE(fmn_native, Init)
