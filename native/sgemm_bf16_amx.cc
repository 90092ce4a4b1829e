// bf16 mixed-precision sgemm on AMX (Sapphire Rapids and later): a 32×32 block of C in four
// 16×16 fp32 tiles, two A tiles (16 rows × 32 bf16) and two B tiles (16 k-pairs × 16 columns)
// per 32 steps of k, one TDPBF16PS per C tile. Chosen at run time (sgemm.cc) only after the
// kernel granted this process the tile data state (arch_prctl ARCH_REQ_XCOMP_PERM).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "sgemm_args.h"

#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16,amx-tile,amx-bf16,fma,avx2")

namespace fmn {
namespace bf16amx {

#include "sgemm_bf16_driver.h"

// LDTILECFG's 64-byte operand (palette 1).
struct alignas(64) TileConfig {
  uint8_t palette;
  uint8_t startRow;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

struct Kernel {
  static constexpr bool kPairedA = false;
  static constexpr int MR = 32, NR = 32, KP = 32;
  // B micro-panel KC·NR·2 = 32 KiB (L1); A block MC·KC·2 = 256 KiB (L2). Fixed: measured on
  // Sapphire Rapids (2026-11-29); the cache rule of the other kernels is untried with AMX.
  static const Blocks& blocks() {
    static const Blocks bl{512, 256, 2048, 0, 0};   // directKc 0: the bf16 driver always packs
    return bl;
  }

  // tiles 0-3: C (16 rows × 16 fp32); 4-5: A (16 rows × 32 bf16); 6-7: B (16 k-pairs × 16 columns × 2)
  static void begin() {
    TileConfig cfg{};
    cfg.palette = 1;
    for (int t = 0; t < 8; ++t) { cfg.rows[t] = 16; cfg.colsb[t] = 64; }
    _tile_loadconfig(&cfg);
  }
  // back to the init state: a context switch then saves no tile data
  static void end() { _tile_release(); }

  // A panel row-major: ap[r][k], MR rows of kcp bf16 (an A tile is 16 rows at stride kcp).
  static void packA(const GemmArgs& g, int i0, int mr, int p0, int kc, int kcp, uint16_t* ap) {
    packRows<MR>(g.A + (long)i0 * g.rsA + (long)p0 * g.csA, g.rsA, g.csA, mr, kc, kcp, ap);
  }

  // the driver fills a bias into C first (kBiasRow false): `start` is null (zero) or C itself
  static constexpr bool kBiasRow = false;
  static void micro(int kcp, const uint16_t* a, const uint16_t* b, float* c, long ldc, const float* start, long) {
    const long sc = ldc * (long)sizeof(float), sa = (long)kcp * 2;
    if (start == nullptr) {
      _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
    } else {
      _tile_loadd(0, c, sc);
      _tile_loadd(1, c + 16, sc);
      _tile_loadd(2, c + 16 * ldc, sc);
      _tile_loadd(3, c + 16 * ldc + 16, sc);
    }
    const uint16_t* a1 = a + 16L * kcp;
    for (int kb = 0; kb < kcp / 32; ++kb, a += 32, a1 += 32, b += 16 * NR * 2) {
      _tile_loadd(4, a, sa);               // rows 0-15, k 32kb..32kb+31
      _tile_loadd(5, a1, sa);              // rows 16-31
      _tile_loadd(6, b, NR * 4);           // k-pairs 16kb.., columns 0-15
      _tile_loadd(7, b + 32, NR * 4);      // columns 16-31
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
    _tile_stored(0, c, sc);
    _tile_stored(1, c + 16, sc);
    _tile_stored(2, c + 16 * ldc, sc);
    _tile_stored(3, c + 16 * ldc + 16, sc);
  }
};

void range(const GemmArgs& g, int i0, int i1, int j0, int j1) { gemmRangeBf16<Kernel>(g, i0, i1, j0, j1); }
long packedBElems(int K, int N) { return packedBElemsBf16<Kernel>(K, N); }
void packB(const GemmArgs& g, uint16_t* out, int j0, int j1) { packBWholeBf16<Kernel>(g, out, j0, j1); }

}  // namespace bf16amx

const GemmVariant kGemmBf16Amx = {"amx", bf16amx::Kernel::MR, bf16amx::Kernel::NR, bf16amx::range,
                                   bf16amx::packedBElems, bf16amx::packB};

}  // namespace fmn
