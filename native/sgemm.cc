// sgemm front end: picks the instruction-set variant once, maps (transA, transB) to strides,
// and splits large problems between the pool's threads (along M when M ≥ N, else along N, so
// the smaller operand is the one each thread packs again).
#include "sgemm.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <cerrno>
#include <string>
#include <vector>

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <sys/syscall.h>
#endif
#include <unistd.h>

#include "kernels.h"
#include "pool.h"
#include "sgemm_args.h"

namespace fmn {
namespace {

const GemmVariant& pickVariant() {
  const char* force = std::getenv("FMN_SIMD");
  __builtin_cpu_init();
  const bool has512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  const bool has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (force && std::strcmp(force, "scalar") == 0) return kGemmScalar;
  if (force && std::strcmp(force, "avx2") == 0 && has2) return kGemmAvx2;
  if (has512) return kGemmAvx512;
  if (has2) return kGemmAvx2;
  return kGemmScalar;
}

const GemmVariant& variant() {
  static const GemmVariant& v = pickVariant();
  return v;
}

/* ---------- bf16: what the CPU (and the kernel) allow ---------- */

struct Bf16Support {
  bool avx512bf16 = false;   // AVX-512 F/BW/VL (OS-enabled) and AVX512_BF16
  bool amxCpu = false;       // AMX-TILE and AMX-BF16 in cpuid
  bool amx = false;          // ... and the kernel granted this process the tile data state
  std::string amxWhyNot;     // why `amx` is false
};

#if defined(__x86_64__) && defined(__linux__)
bool cpuidBit(unsigned leaf, unsigned sub, int reg, int bit) {
  unsigned r[4] = {0, 0, 0, 0};
  if (!__get_cpuid_count(leaf, sub, &r[0], &r[1], &r[2], &r[3])) return false;
  return (r[reg] >> bit) & 1u;
}
enum { EAX = 0, EBX = 1, ECX = 2, EDX = 3 };

// Linux keeps AMX tile data off until a process asks (arch/x86/include/uapi/asm/prctl.h).
bool requestAmxPermission(std::string& why) {
  constexpr long ARCH_GET_XCOMP_PERM = 0x1022, ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18;
  if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) != 0) {
    why = std::string("the kernel refused AMX tile state (arch_prctl: ") + std::strerror(errno) + ")";
    return false;
  }
  unsigned long granted = 0;
  if (syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &granted) != 0 || !(granted & (1UL << XFEATURE_XTILEDATA))) {
    why = "the kernel did not grant AMX tile state";
    return false;
  }
  return true;
}
#endif

Bf16Support probeBf16() {
  Bf16Support s;
#if defined(__x86_64__) && defined(__linux__)
  __builtin_cpu_init();
  const bool has512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  s.avx512bf16 = has512 && cpuidBit(7, 1, EAX, 5);
  s.amxCpu = s.avx512bf16 && cpuidBit(7, 0, EDX, 24) && cpuidBit(7, 0, EDX, 22);
  if (!s.amxCpu) s.amxWhyNot = "no AMX on this CPU";
  else s.amx = requestAmxPermission(s.amxWhyNot);
#else
  s.amxWhyNot = "no AMX on this platform";
#endif
  return s;
}

// Probed once, on first use: an fp32 run never asks the kernel for AMX state.
const Bf16Support& bf16Support() {
  static const Bf16Support s = probeBf16();
  return s;
}

struct Bf16Choice {
  const char* path;   // "amx", "avx512bf16", "none"
  std::string note;
};

Bf16Choice chooseBf16() {
  const Bf16Support& s = bf16Support();
  const char* env = std::getenv("FMN_BF16");
  const std::string force = env ? env : "";
  if (force == "off") return {"none", "FMN_BF16=off: fp32 kernels"};
  if (!s.avx512bf16) return {"none", "this CPU has no AVX512-BF16: fp32 kernels"};
  // FMN_SIMD=avx2|scalar stands in for a CPU without AVX-512: no bf16 kernels either
  if (std::strcmp(variant().name, "avx512") != 0)
    return {"none", std::string("FMN_SIMD=") + variant().name + " (no AVX-512): fp32 kernels"};
  if (force == "avx512bf16") return {"avx512bf16", "AVX512-BF16 vdpbf16ps (FMN_BF16=avx512bf16)"};
  if (s.amx) return {"amx", force == "amx" ? "AMX tiles (FMN_BF16=amx)" : "AMX tiles"};
  return {"avx512bf16", "AVX512-BF16 vdpbf16ps (" + s.amxWhyNot + ")"};
}

const Bf16Choice& bf16Choice() {
  static const Bf16Choice c = chooseBf16();
  return c;
}

// The variant sgemm() uses: null = the fp32 one.
std::atomic<const GemmVariant*> g_matmulVariant{nullptr};

// bf16 products split along M share one packing of B from this many elements of it (below, the
// extra pool job costs more than the packing it saves: 0.97× at K 128, N 384).
constexpr long kSharedPackMinElems = 1 << 17;
// and up to this many: the block stays allocated on the calling thread (32 MiB at most)
constexpr long kSharedPackMaxElems = 1 << 24;

// Below this many multiply-adds a second thread costs more than it saves.
constexpr double kParallelMinFlops = 1 << 18;

GemmArgs makeArgs(bool transA, bool transB, int M, int N, int K, const float* A, const float* B,
                  float* C, bool accumulate, const float* bias = nullptr) {
  GemmArgs g;
  g.A = A;
  g.rsA = transA ? 1 : K;   // A (M,K), or (K,M) when transposed
  g.csA = transA ? M : 1;
  g.B = B;
  g.rsB = transB ? 1 : N;   // B (K,N), or (N,K) when transposed
  g.csB = transB ? K : 1;
  g.C = C;
  g.ldc = N;
  g.M = M;
  g.N = N;
  g.K = K;
  g.accumulate = accumulate || bias != nullptr;   // a bias is C's starting value
  g.bias = bias;
  return g;
}

// This CPU's data caches per core, in bytes (0 when unknown).
struct Caches {
  long l1d = 0, l2 = 0;
};

Caches detectCaches() {
  Caches c;
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
  c.l1d = sysconf(_SC_LEVEL1_DCACHE_SIZE);
  c.l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
  if (c.l1d < 0) c.l1d = 0;
  if (c.l2 < 0) c.l2 = 0;
  return c;
}

}  // namespace

Blocks gemmBlocks(int MR, int NR, int bytes) {
  static const Caches caches = detectCaches();
  // unknown size: the smallest L2 of the x86 cores this runs on (1 MiB)
  const long l2 = caches.l2 >= 262144 ? caches.l2 : 1 << 20;
  Blocks b;
  // KC: the deepest pass, its B micro-panel (KC×NR) a sixth of L2; gemmRange evens the depth
  // out over the passes K needs (K 2048 at KC 1360: two of 1024). Every pass loads and stores
  // each C tile once more, and both panels stream from L2 at the micro-kernel's pace: on Zen 5
  // (48 KiB L1d, 1 MiB L2, 14×32 tile) one pass of 768 ran 5–10% faster than two of 384 (the
  // previous rule, 1.5× L1), and 2048 deep in two passes faster than in four. A multiple of 8.
  b.kc = (int)std::clamp<long>(l2 / 6 / ((long)NR * bytes) / 8 * 8, 64, 2048);
  // MC per product from the pass depth (blockRows): the packed A block a quarter of L2, the rest
  // for the B micro-panel and C rows (Zen 5, passes of 768–1024: A blocks of 0.27–0.44 of L2
  // within noise; Zen 4 at 384 deep: a sixth best, a quarter ~2% slower, all of L2 ~10%)
  b.mc = 0;
  b.aBytes = l2 / 4;
  // NC columns of packed B (KC×NC) are reused over all of M: a few MiB, a multiple of NR
  b.nc = 4096 / NR * NR;
  // op(A) read in place (no packed block) when the micro-kernel's MR rows of a pass fit in L1d
  const long l1 = caches.l1d >= 16384 ? caches.l1d : 32768;
  b.directKc = (int)(l1 / ((long)MR * bytes) / 8 * 8);
  if (const char* env = std::getenv("FMN_GEMM_BLOCKS")) {
    int kc = 0, mc = 0, nc = 0;
    if (std::sscanf(env, "%d,%d,%d", &kc, &mc, &nc) == 3 && kc >= 8 && mc >= MR && nc >= NR) {
      b.kc = kc;
      b.mc = mc / MR * MR;
      b.nc = nc / NR * NR;
    }
  }
  return b;
}

GemmInfo gemmInfo() {
  const Caches c = detectCaches();
  const Blocks b = gemmBlocks(variant().MR, variant().NR, 4);
  return {b.kc, blockRows(b, b.kc, variant().MR, 4), b.nc, c.l1d, c.l2};
}

const char* simdLevel() { return variant().name; }
bool simdAvx512() { return &variant() == &kGemmAvx512; }

const char* bf16Path() { return bf16Choice().path; }
const char* bf16Note() { return bf16Choice().note.c_str(); }

bool bf16PathUsable(const char* path) {
  const Bf16Support& s = bf16Support();
  if (std::strcmp(path, "amx") == 0) return s.amx;
  if (std::strcmp(path, "avx512bf16") == 0) return s.avx512bf16;
  return false;
}

const char* setMatmulPrecision(bool bf16, const char* force) {
  if (!bf16) {
    g_matmulVariant.store(nullptr);
    return "fp32";
  }
  const char* path = force ? force : bf16Path();
  if (force && !bf16PathUsable(force)) return nullptr;
  if (std::strcmp(path, "amx") == 0) {
    g_matmulVariant.store(&kGemmBf16Amx);
    return "amx";
  }
  if (std::strcmp(path, "avx512bf16") == 0) {
    g_matmulVariant.store(&kGemmBf16Avx512);
    return "avx512bf16";
  }
  g_matmulVariant.store(nullptr);
  return "fp32";
}

void fillBiasRows(const GemmArgs& g, int i0, int i1, int j0, int j1) {
  for (int i = i0; i < i1; ++i) std::memcpy(g.C + (long)i * g.ldc + j0, g.bias + j0, (j1 - j0) * sizeof(float));
}

void sgemmStridedSerial(const GemmArgs& g) {
  if (g.M > 0 && g.N > 0) variant().range(g, 0, g.M, 0, g.N);
}

void sgemmSerial(bool transA, bool transB, int M, int N, int K, const float* A, const float* B,
                 float* C, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  const GemmArgs g = makeArgs(transA, transB, M, N, K, A, B, C, accumulate);
  variant().range(g, 0, M, 0, N);
}

namespace {

// One GEMM (with its second product, when it has one) on the pool's threads.
void runGemm(const GemmVariant& v, const GemmArgs& g) {
  const int M = g.M, N = g.N;
  const int nt = poolThreads();
  if (nt == 1 || (double)M * N * ((double)g.K + g.K2) < kParallelMinFlops) {
    v.range(g, 0, M, 0, N);
    return;
  }
  // Split the longer side into nt chunks, each a multiple of the register tile.
  const bool alongM = M >= N;
  const int len = alongM ? M : N, tile = alongM ? v.MR : v.NR;
  const int tiles = (len + tile - 1) / tile;
  const int tasks = std::min(nt, tiles);
  GemmArgs h = g;
  if (alongM && v.packB != nullptr && g.packedB == nullptr && (long)g.K * N >= kSharedPackMinElems &&
      (long)g.K * N <= kSharedPackMaxElems) {
    // bf16 split along M: every chunk would convert and pack all of B. Pack it once, whole, the
    // threads taking disjoint column panels, and let every chunk read that (the same panels, so
    // the same bits). Zen 5, two threads, in-process A/B: 1.00–1.07× on gpt2s's products.
    thread_local std::vector<uint16_t> whole;
    const long n = v.packedBElems(g.K, N);
    if ((long)whole.size() < n + 32) whole.resize(n + 32);
    uint16_t* out = reinterpret_cast<uint16_t*>((reinterpret_cast<uintptr_t>(whole.data()) + 63) & ~uintptr_t(63));
    const int panels = (N + v.NR - 1) / v.NR, ptasks = std::min(nt, panels);
    poolRun(ptasks, [&](int t) {
      v.packB(g, out, (int)((long)panels * t / ptasks) * v.NR, (int)((long)panels * (t + 1) / ptasks) * v.NR);
    });
    h.packedB = out;
  }
  poolRun(tasks, [&](int t) {
    const int a = (int)((long)tiles * t / tasks) * tile;
    const int b = std::min(len, (int)((long)tiles * (t + 1) / tasks) * tile);
    if (alongM) v.range(h, a, b, 0, N);
    else v.range(h, 0, M, a, b);
  });
}

// packB's block: this header, then the panels from the first 64-byte boundary after it.
struct PackedHeader {
  uint64_t magic;
  const GemmVariant* variant;
  const float* source;
  int32_t K, N, transB, reserved;
  int64_t elems;
};
constexpr uint64_t kPackedMagic = 0x31424b4341504e46ull;   // "FNPACKB1"

const uint16_t* packedData(const void* block) {
  const auto p = reinterpret_cast<uintptr_t>(block) + sizeof(PackedHeader);
  return reinterpret_cast<const uint16_t*>((p + 63) & ~uintptr_t(63));
}

// The panels of `packed` when it fits this product on the path in use, else null.
const uint16_t* packedFor(const GemmVariant& v, const void* packed, bool transB, int K, int N, const float* B) {
  if (packed == nullptr || v.packedBElems == nullptr) return nullptr;
  const auto* h = static_cast<const PackedHeader*>(packed);
  if (h->magic != kPackedMagic || h->variant != &v || h->source != B || h->K != K || h->N != N ||
      h->transB != (transB ? 1 : 0) || h->elems != v.packedBElems(K, N))
    return nullptr;
  return packedData(packed);
}

}  // namespace

void sgemm(bool transA, bool transB, int M, int N, int K, const float* A, const float* B, float* C,
           bool accumulate, const float* bias, const void* packed, float* colSumsB) {
  if (N <= 0) return;
  const GemmVariant* bf16 = g_matmulVariant.load(std::memory_order_relaxed);
  if (colSumsB != nullptr && (M <= 0 || bf16 != nullptr || transB)) {
    // no fp32 packing of a row-major B to ride on: the sums on their own (the same bits)
    if (!transB) addColumnSums(colSumsB, B, K, N);
    else
      for (long k = 0; k < K; ++k)   // B stored (N, K)
        for (long j = 0; j < N; ++j) colSumsB[j] += B[j * (long)K + k];
    colSumsB = nullptr;
  }
  if (M <= 0) return;
  const GemmVariant& v = bf16 ? *bf16 : variant();
  GemmArgs g = makeArgs(transA, transB, M, N, K, A, B, C, accumulate, bias);
  g.packedB = packedFor(v, packed, transB, K, N, B);
  g.colSumsB = colSumsB;
  runGemm(v, g);
}

long packedBBytes(int K, int N) {
  const GemmVariant* v = g_matmulVariant.load(std::memory_order_relaxed);
  if (v == nullptr || v->packedBElems == nullptr || K <= 0 || N <= 0) return 0;
  return (long)sizeof(PackedHeader) + 64 + v->packedBElems(K, N) * (long)sizeof(uint16_t);
}

bool packB(bool transB, int K, int N, const float* B, void* out, long bytes) {
  const GemmVariant* v = g_matmulVariant.load(std::memory_order_relaxed);
  if (v == nullptr || v->packedBElems == nullptr || K <= 0 || N <= 0 || bytes < packedBBytes(K, N)) return false;
  GemmArgs g = makeArgs(false, transB, 0, N, K, nullptr, B, nullptr, false);
  v->packB(g, const_cast<uint16_t*>(packedData(out)), 0, N);
  auto* h = static_cast<PackedHeader*>(out);
  *h = PackedHeader{kPackedMagic, v, B, K, N, transB ? 1 : 0, 0, v->packedBElems(K, N)};
  return true;
}


void sgemmPlus(bool transA, bool transB, int M, int N, int K, const float* A, const float* B, float* C,
               bool accumulate, const float* bias, bool transA2, bool transB2, int K2, const float* A2,
               const float* B2, const void* packed) {
  if (M <= 0 || N <= 0) return;
  const GemmVariant* bf16 = g_matmulVariant.load(std::memory_order_relaxed);
  if (bf16 != nullptr || K2 <= 0) {
    // the bf16 drivers take one product: the two in turn, each rounded as sgemm rounds it
    sgemm(transA, transB, M, N, K, A, B, C, accumulate, bias, packed);
    if (K2 > 0) sgemm(transA2, transB2, M, N, K2, A2, B2, C, true, nullptr);
    return;
  }
  GemmArgs g = makeArgs(transA, transB, M, N, K, A, B, C, accumulate, bias);
  const GemmArgs h = makeArgs(transA2, transB2, M, N, K2, A2, B2, C, true);
  g.A2 = h.A; g.rsA2 = h.rsA; g.csA2 = h.csA;
  g.B2 = h.B; g.rsB2 = h.rsB; g.csB2 = h.csB;
  g.K2 = K2;
  runGemm(variant(), g);
}

}  // namespace fmn
