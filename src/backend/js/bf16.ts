/**
 * bf16 rounding as the hardware does it (VCVTNEPS2BF16, AMX and AVX512-BF16 operands): round to
 * nearest, ties to even; fp32 denormals become a zero of the same sign; NaNs stay NaN (quieted).
 *   roundToBf16(Float32Array.of(1 + 2 ** -8))        → [1]              (a tie: to even)
 *   roundToBf16(Float32Array.of(1 + 3 * 2 ** -8))    → [1 + 2 ** -6]    (a tie: to even, upward)
 */
export function roundToBf16(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  const src = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const dst = new Uint32Array(out.buffer);
  for (let i = 0; i < x.length; i++) {
    const u = src[i];
    const exp = u & 0x7f800000;
    if (exp === 0) dst[i] = u & 0x80000000;                                 // ±0 and denormals → ±0
    else if (exp === 0x7f800000) dst[i] = (u & 0x007fffff) !== 0 ? (u | 0x00400000) & 0xffff0000 : u;   // NaN (quiet) / ±inf
    else dst[i] = ((u + 0x7fff + ((u >>> 16) & 1)) & 0xffff0000) >>> 0;    // nearest even (overflow → ±inf)
  }
  return out;
}
