// Single-precision GEMM: C (M,N) (+)= op(A) (M,K) · op(B) (K,N), row-major, any of the four
// (transA, transB) orientations. Twin of src/backend/js/matmul.ts.
#pragma once

namespace fmn {

// With `bias` (N floats; accumulate then ignored): C = bias in every row + op(A)·op(B), each
// element's chain of fused multiply-adds starting from bias[j] — the bits of filling C with the
// bias and accumulating, without a separate pass over C.
// `packed` (optional): a block from packB for this B, orientation, K and N — used while the bf16
// path that packed it is in use (B not converted and packed again), ignored otherwise.
// `colSumsB` (optional, N floats): colSumsB[j] += Σ_k op(B)[k][j] — addColumnSums' bits — summed
// while the fp32 path packs a row-major B (a linear layer's bias gradient from the dy that dW
// reads), on its own otherwise.
void sgemm(bool transA, bool transB, int M, int N, int K, const float* A, const float* B, float* C,
           bool accumulate, const float* bias = nullptr, const void* packed = nullptr, float* colSumsB = nullptr);

// C = [bias | C | 0] + op(A)·op(B) + op(A2)·op(B2), op(A2) (M,K2), op(B2) (K2,N): the bits of
// sgemm(A, B) followed by sgemm(A2, B2, accumulate) — every element's chain goes on over the K2
// terms — with the second product applied to each C tile before it is stored (LoRA's low-rank
// term riding the base layer's product). bf16 runs the two in turn.
void sgemmPlus(bool transA, bool transB, int M, int N, int K, const float* A, const float* B, float* C,
               bool accumulate, const float* bias, bool transA2, bool transB2, int K2, const float* A2,
               const float* B2, const void* packed = nullptr);

// A matrix that stays fixed across many products (a frozen weight) packed once for the bf16
// path in use: op(B) (K, N) converted to bf16 and laid out as the driver packs it, in a
// self-describing block (the path, B's address, orientation, K, N) that sgemm / sgemmPlus take
// as `packed`. The same values in the same places as packing on every call: the same bits.
// packedBBytes: the block's size (either orientation), 0 when the fp32 path is in use (nothing to pack).
long packedBBytes(int K, int N);
// Packs into `out` (packedBBytes bytes); false (nothing written) when the path in use has no packing.
bool packB(bool transB, int K, int N, const float* B, void* out, long bytes);

// Same, always on the calling thread (used inside kernels that are already parallel).
void sgemmSerial(bool transA, bool transB, int M, int N, int K, const float* A, const float* B,
                 float* C, bool accumulate);

// "avx512", "avx2" or "scalar": the instruction set chosen at load time (FMN_SIMD overrides).
const char* simdLevel();
// Whether that is "avx512": the other kernels' AVX-512 paths (attention, GELU) follow the GEMM's
// choice, so FMN_SIMD=avx2 turns them off too.
bool simdAvx512();

// bf16 mixed precision: sgemm() converts the operands to bf16 (round to nearest even) while it
// packs them and accumulates in fp32. sgemmSerial / sgemmStridedSerial (attention) stay fp32.
// The path this CPU offers, chosen once (FMN_BF16=amx|avx512bf16|off narrows it): "amx",
// "avx512bf16" or "none"; and a line saying why (e.g. why AMX was not used).
const char* bf16Path();
const char* bf16Note();
// Whether `path` ("amx" or "avx512bf16") can run here (AMX: the kernel granted tile state).
bool bf16PathUsable(const char* path);
// bf16 = false: fp32 (the default). bf16 = true: `force` (a usable path) or else bf16Path().
// Returns the path sgemm() now uses: "fp32", "amx" or "avx512bf16" ("fp32" when bf16 was asked
// but the CPU has no bf16 path); nullptr, changing nothing, when `force` cannot run here.
const char* setMatmulPrecision(bool bf16, const char* force);

// The cache blocks of the chosen fp32 variant and the cache sizes behind them (bench output).
struct GemmInfo {
  int kc, mc, nc;
  long l1d, l2;
};
GemmInfo gemmInfo();

}  // namespace fmn
