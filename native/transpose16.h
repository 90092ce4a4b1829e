// In-register 16×16 transpose of 32-bit lanes, for packing GEMM panels (fp32 and bf16 pairs) and
// for attention's row groups.
// Included inside a per-ISA namespace compiled for AVX-512 (after its `#pragma GCC target`).
#pragma once

// 16×16 transpose of 32-bit words in registers: r[i][j] → r[j][i]. Four butterfly stages; the
// stage for bit b swaps bit b of the row index with bit b of the column index.
static inline void transpose16(__m512i r[16]) {
#pragma GCC unroll 4
  for (int b = 1; b < 16; b <<= 1) {
    alignas(64) int lo[16], hi[16];
    for (int j = 0; j < 16; ++j) {
      lo[j] = (j & b) ? 16 + (j - b) : j;      // row i (bit b clear): a[j], or b[j − b]
      hi[j] = (j & b) ? 16 + j : j + b;        // row i|b:            a[j + b], or b[j]
    }
    const __m512i ilo = _mm512_load_si512(lo), ihi = _mm512_load_si512(hi);
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) {
      if (i & b) continue;
      const __m512i x = r[i], y = r[i | b];
      r[i] = _mm512_permutex2var_epi32(x, ilo, y);
      r[i | b] = _mm512_permutex2var_epi32(x, ihi, y);
    }
  }
}

// The same on float vectors (their bits).
static inline void transpose16(__m512 v[16]) { transpose16(reinterpret_cast<__m512i*>(v)); }
