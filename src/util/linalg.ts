/**
 * Dense linear algebra on Float64Array: the thin singular value decomposition.
 *
 * `svd` is Golub–Kahan–Reinsch (the LINPACK dsvdc / JAMA formulation), laid out for speed:
 *   1. decompose B = A when m ≥ n, or B = Aᵀ when m < n, so B is M × N with M ≥ N; B is stored
 *      column-major so that every Householder reflection and Givens rotation below runs over
 *      contiguous memory;
 *   2. when M ≥ 1.5 N, Householder QR first (B = Q R) and decompose the N × N triangle R instead
 *      (Chan's R-bidiagonalization, LAPACK dgesvd's tall path): the costly steps then scale with N³,
 *      plus two passes of reflections over the M × N data (the QR, and U = Q U_R at the end);
 *   3. Householder bidiagonalization, then implicit-shift QR on the bidiagonal (Wilkinson shift,
 *      splitting and deflation at negligible entries), the rotations accumulated into U and V;
 *   4. sort descending and map back (U = Q U_R; U and V swapped for the transpose).
 * Every step is an orthogonal transformation of A (AᵀA is never formed), so the result is backward
 * stable: ‖A − U S Vᵀ‖ ≈ ε‖A‖ and ‖UᵀU − I‖, ‖VᵀV − I‖ ≈ ε·n whatever the condition number, and each
 * singular value is within about ε·σ₁ of the exact one.
 */
import { DataError, ShapeError } from '../errors.ts';

export interface Svd {
  /** Singular values, descending, length k = min(m, n). */
  s: Float64Array;
  /** Left singular vectors: m × k, row-major (u[i * k + j] is row i of column j). */
  u: Float64Array;
  /** Right singular vectors: n × k, row-major (v[i * k + j]). */
  v: Float64Array;
  k: number;
}

const EPS = 2 ** -52;
const TINY = 2 ** -966;
/** From this aspect ratio M / N on, QR first and decompose R: fewer flops than bidiagonalizing B. */
const QR_FIRST_RATIO = 1.5;

/**
 * A (m × n, row-major) = U diag(s) Vᵀ, thin SVD (k = min(m, n) columns in U and V).
 * Singular values are ≥ 0 and descending (ties keep a fixed order, so equal input gives equal
 * output); the sign of each pair of singular vectors is arbitrary. A zero matrix gives s = 0 and
 * orthonormal (coordinate) U and V. Throws ShapeError when a.length ≠ m·n, DataError on NaN/±∞.
 */
export function svd(a: ArrayLike<number>, m: number, n: number): Svd {
  if (!Number.isInteger(m) || !Number.isInteger(n) || m < 0 || n < 0) throw new ShapeError(`svd: bad shape ${m} × ${n}`);
  if (a.length !== m * n) throw new ShapeError(`svd: a ${m} × ${n} matrix needs ${m * n} values, got ${a.length}`);
  const k = Math.min(m, n);
  if (k === 0) return { s: new Float64Array(0), u: new Float64Array(0), v: new Float64Array(0), k: 0 };

  // B (M × N, M ≥ N), column-major: B[i][j] = b[j * M + i].
  const tall = m >= n;
  const M = tall ? m : n;
  const N = k;
  const b = new Float64Array(M * N);
  if (tall) {
    for (let i = 0; i < m; i++) {
      const ro = i * n;
      for (let j = 0; j < n; j++) b[j * M + i] = a[ro + j];
    }
  } else {
    // Aᵀ column-major is A row-major.
    for (let i = 0; i < b.length; i++) b[i] = a[i];
  }
  let amax = 0;
  for (let i = 0; i < b.length; i++) {
    const x = Math.abs(b[i]);
    if (!(x <= Number.MAX_VALUE)) throw new DataError(`svd: the ${m} × ${n} matrix has a non-finite entry (NaN or ±Infinity)`);
    if (x > amax) amax = x;
  }
  // Scale by a power of two (exact) so that max |b| ∈ [1, 2): the negligibility tests below
  // then work for any magnitude, from subnormal to near overflow.
  const ex = amax > 0 ? Math.floor(Math.log2(amax)) : 0;
  const down1 = 2 ** -Math.trunc(ex / 2), down2 = 2 ** -(ex - Math.trunc(ex / 2));
  if (ex !== 0) for (let i = 0; i < b.length; i++) b[i] = b[i] * down1 * down2;

  const d = decompose(b, M, N);
  const order = Array.from({ length: N }, (_, i) => i).sort((x, y) => d.s[y] - d.s[x] || x - y);
  const s = new Float64Array(N);
  for (let c = 0; c < N; c++) s[c] = d.s[order[c]] / down1 / down2;
  // A = B: U_A = U_B (M × N), V_A = V_B (N × N). A = Bᵀ: U_A = V_B, V_A = U_B.
  const u = toRowMajor(tall ? d.u : d.v, m, N, order);
  const v = toRowMajor(tall ? d.v : d.u, n, N, order);
  return { s, u, v, k: N };
}

/** Column-major rows × cols → row-major, columns taken in `order`. */
function toRowMajor(x: Float64Array, rows: number, cols: number, order: number[]): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let c = 0; c < cols; c++) {
    const src = order[c] * rows;
    for (let i = 0; i < rows; i++) out[i * cols + c] = x[src + i];
  }
  return out;
}

interface ColumnMajorSvd {
  /** Unsorted singular values (≥ 0). */
  s: Float64Array;
  /** M × N, column-major. */
  u: Float64Array;
  /** N × N, column-major. */
  v: Float64Array;
}

/** SVD of the column-major M × N matrix b (M ≥ N ≥ 1); b is overwritten. */
function decompose(b: Float64Array, M: number, N: number): ColumnMajorSvd {
  if (N < 2 || M < QR_FIRST_RATIO * N) return bidiagonalSvd(b, M, N);
  const rdiag = householderQr(b, M, N);
  const r = new Float64Array(N * N);
  for (let j = 0; j < N; j++) {
    for (let i = 0; i < j; i++) r[j * N + i] = b[j * M + i];
    r[j * N + j] = rdiag[j];
  }
  const inner = bidiagonalSvd(r, N, N);
  const u = new Float64Array(M * N);
  for (let j = 0; j < N; j++) u.set(inner.u.subarray(j * N, j * N + N), j * M);
  applyReflectors(b, M, N, 0, u, N, false);
  return { s: inner.s, u, v: inner.v };
}

/**
 * Householder QR in place. Reflector k is H_k = I − w wᵀ / w₀ with w in b[k·M + k … k·M + M − 1]
 * (w₀ ∈ [1, 2] its first entry, or w₀ = 0 for H_k = I); R's strict upper triangle stays in b and
 * its diagonal is returned. Panels of BLOCK columns are factored one column at a time, then applied
 * to the trailing columns at once (compact WY).
 */
function householderQr(b: Float64Array, M: number, N: number): Float64Array {
  const rdiag = new Float64Array(N);
  const blk = new ReflectorBlock(M);
  for (let a = 0; a < N; a += BLOCK) {
    const end = Math.min(a + BLOCK, N);
    for (let k = a; k < end; k++) {
      const ko = k * M;
      const len = M - k;
      let nrm = norm2(b, ko + k, len);
      if (nrm === 0) continue;
      if (b[ko + k] < 0) nrm = -nrm;
      for (let i = ko + k; i < ko + M; i++) b[i] /= nrm;
      b[ko + k] += 1;
      reflectColumns(b, ko + k, len, b, (k + 1) * M + k, M, end - k - 1);
      rdiag[k] = -nrm;
    }
    if (end < N) {
      blk.load(b, M, a, end - a, 0);
      blk.applyToColumns(b, M, a, end, N, true);
    }
  }
  return rdiag;
}

/**
 * x ← H₀ H₁ ⋯ H_{count−1} x for reflectors stored as householderQr stores them, shifted down by
 * `shift` rows (reflector k in column k of `store`, its w₀ at row k + shift, acting on rows k + shift …).
 * x and store are column-major with `rows` rows; x has `cols` columns. With `fromIdentity`, x starts
 * as the identity's first columns, and each block skips the columns it cannot change yet.
 */
function applyReflectors(store: Float64Array, rows: number, count: number, shift: number, x: Float64Array, cols: number, fromIdentity: boolean): void {
  if (count <= 0) return;
  const blk = new ReflectorBlock(rows);
  for (let a = Math.floor((count - 1) / BLOCK) * BLOCK; a >= 0; a -= BLOCK) {
    blk.load(store, rows, a, Math.min(BLOCK, count - a), shift);
    blk.applyToColumns(x, rows, a + shift, fromIdentity ? a + shift : 0, cols, false);
  }
}

/** Reflectors per block in householderQr / applyReflectors (the kernels below are unrolled for 4). */
const BLOCK = 4;

/**
 * Up to 4 consecutive reflectors H_a … H_{a+3} of householderQr as one, H_a ⋯ H_{a+3} = I − W T Wᵀ
 * (LAPACK dlarft, forward columnwise): W holds the vectors over rows a … M − 1 with explicit zeros
 * (missing or identity reflectors are zero vectors), T is 4 × 4 upper triangular.
 */
class ReflectorBlock {
  private readonly w: Float64Array;
  private readonly t = new Float64Array(16);
  private readonly g = new Float64Array(4);
  private len = 0;

  constructor(M: number) {
    this.w = new Float64Array(4 * M);
  }

  /** Reflectors a … a + r − 1 (r ≤ 4) from b (M rows, column-major; see applyReflectors for shift). */
  load(b: Float64Array, M: number, a: number, r: number, shift: number): void {
    const len = (this.len = M - a - shift);
    const w = this.w;
    const t = this.t;
    t.fill(0);
    w.fill(0, 0, 4 * len);
    for (let i = 0; i < r; i++) {
      const src = (a + i) * M + a + i + shift;
      const w0 = b[src];
      if (w0 === 0) continue;
      w.set(b.subarray(src, (a + i + 1) * M), i * len + i);
      const tau = 1 / w0;
      t[i * 4 + i] = tau;
      // T[0:i, i] = −τ T[0:i, 0:i] W[:, 0:i]ᵀ w_i
      const g = this.g;
      for (let q = 0; q < i; q++) g[q] = dot(w, q * len, w, i * len, len);
      for (let p = 0; p < i; p++) {
        let acc = 0;
        for (let q = p; q < i; q++) acc += t[p * 4 + q] * g[q];
        t[p * 4 + i] = -tau * acc;
      }
    }
  }

  /**
   * Columns c0 … c1 − 1 of the column-major x (ld rows), rows r … r + len − 1: x ← (I − W T Wᵀ) x
   * = H_a ⋯ H_{a+3} x, or with `transposed` x ← (I − W Tᵀ Wᵀ) x = H_{a+3} ⋯ H_a x.
   */
  applyToColumns(x: Float64Array, ld: number, r: number, c0: number, c1: number, transposed: boolean): void {
    let c = c0;
    for (; c + 1 < c1; c += 2) this.applyToPair(x, c * ld + r, (c + 1) * ld + r, transposed);
    if (c < c1) this.applyToOne(x, c * ld + r, transposed);
  }

  /** Two columns per pass over W: half the loads of W per column. */
  private applyToPair(x: Float64Array, oa: number, ob: number, transposed: boolean): void {
    const w = this.w;
    const t = this.t;
    const len = this.len;
    const o1 = len, o2 = 2 * len, o3 = 3 * len;
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    for (let i = 0; i < len; i++) {
      const xa = x[oa + i], xb = x[ob + i];
      const w0 = w[i], w1 = w[o1 + i], w2 = w[o2 + i], w3 = w[o3 + i];
      a0 += w0 * xa; a1 += w1 * xa; a2 += w2 * xa; a3 += w3 * xa;
      b0 += w0 * xb; b1 += w1 * xb; b2 += w2 * xb; b3 += w3 * xb;
    }
    let p0: number, p1: number, p2: number, p3: number, q0: number, q1: number, q2: number, q3: number;
    if (transposed) {
      p0 = t[0] * a0; p1 = t[1] * a0 + t[5] * a1; p2 = t[2] * a0 + t[6] * a1 + t[10] * a2; p3 = t[3] * a0 + t[7] * a1 + t[11] * a2 + t[15] * a3;
      q0 = t[0] * b0; q1 = t[1] * b0 + t[5] * b1; q2 = t[2] * b0 + t[6] * b1 + t[10] * b2; q3 = t[3] * b0 + t[7] * b1 + t[11] * b2 + t[15] * b3;
    } else {
      p0 = t[0] * a0 + t[1] * a1 + t[2] * a2 + t[3] * a3; p1 = t[5] * a1 + t[6] * a2 + t[7] * a3; p2 = t[10] * a2 + t[11] * a3; p3 = t[15] * a3;
      q0 = t[0] * b0 + t[1] * b1 + t[2] * b2 + t[3] * b3; q1 = t[5] * b1 + t[6] * b2 + t[7] * b3; q2 = t[10] * b2 + t[11] * b3; q3 = t[15] * b3;
    }
    for (let i = 0; i < len; i++) {
      const w0 = w[i], w1 = w[o1 + i], w2 = w[o2 + i], w3 = w[o3 + i];
      x[oa + i] -= p0 * w0 + p1 * w1 + p2 * w2 + p3 * w3;
      x[ob + i] -= q0 * w0 + q1 * w1 + q2 * w2 + q3 * w3;
    }
  }

  private applyToOne(x: Float64Array, o: number, transposed: boolean): void {
    const w = this.w;
    const t = this.t;
    const len = this.len;
    const o1 = len, o2 = 2 * len, o3 = 3 * len;
    let z0 = 0, z1 = 0, z2 = 0, z3 = 0;
    for (let i = 0; i < len; i++) {
      const xi = x[o + i];
      z0 += w[i] * xi;
      z1 += w[o1 + i] * xi;
      z2 += w[o2 + i] * xi;
      z3 += w[o3 + i] * xi;
    }
    let y0: number, y1: number, y2: number, y3: number;
    if (transposed) {
      y0 = t[0] * z0;
      y1 = t[1] * z0 + t[5] * z1;
      y2 = t[2] * z0 + t[6] * z1 + t[10] * z2;
      y3 = t[3] * z0 + t[7] * z1 + t[11] * z2 + t[15] * z3;
    } else {
      y0 = t[0] * z0 + t[1] * z1 + t[2] * z2 + t[3] * z3;
      y1 = t[5] * z1 + t[6] * z2 + t[7] * z3;
      y2 = t[10] * z2 + t[11] * z3;
      y3 = t[15] * z3;
    }
    for (let i = 0; i < len; i++) x[o + i] -= y0 * w[i] + y1 * w[o1 + i] + y2 * w[o2 + i] + y3 * w[o3 + i];
  }
}

/**
 * Golub–Kahan–Reinsch on the column-major M × N matrix a (M ≥ N ≥ 1, overwritten): Householder
 * bidiagonalization, then implicit-shift QR sweeps on the bidiagonal (LINPACK dsvdc's case logic).
 */
function bidiagonalSvd(a: Float64Array, M: number, N: number): ColumnMajorSvd {
  const s = new Float64Array(N);
  const e = new Float64Array(N);
  const u = new Float64Array(M * N);
  const v = new Float64Array(N * N);
  const right = new Float64Array(N * N);
  const cu = new Float64Array(N), su = new Float64Array(N), cv = new Float64Array(N), sv = new Float64Array(N);
  const work = new Float64Array(M);
  const nct = Math.min(M - 1, N);
  const nrt = Math.max(0, Math.min(N - 2, M));

  // Bidiagonalize: diagonal → s, superdiagonal → e. Left reflector k stays in column k of a (rows
  // k …), right reflector k goes to column k of `right` (rows k + 1 …), both in householderQr's format.
  for (let k = 0; k < Math.max(nct, nrt); k++) {
    const ko = k * M;
    if (k < nct) {
      let sk = norm2(a, ko + k, M - k);
      if (sk !== 0) {
        if (a[ko + k] < 0) sk = -sk;
        for (let i = ko + k; i < ko + M; i++) a[i] /= sk;
        a[ko + k] += 1;
      }
      s[k] = -sk;
    }
    if (k < nct && s[k] !== 0) reflectColumns(a, ko + k, M - k, a, (k + 1) * M + k, M, N - k - 1);
    for (let j = k + 1; j < N; j++) e[j] = a[j * M + k]; // row k, for the row reflector
    if (k < nrt) {
      let ek = norm2(e, k + 1, N - k - 1);
      if (ek !== 0) {
        if (e[k + 1] < 0) ek = -ek;
        for (let i = k + 1; i < N; i++) e[i] /= ek;
        e[k + 1] += 1;
      }
      e[k] = -ek;
      if (k + 1 < M && ek !== 0) {
        // a[k+1:, k+1:] ← a (I − w wᵀ / w₀), w = e[k+1:]: work = a w, then a −= work wᵀ / w₀.
        const o = (k + 1) * M + k + 1;
        work.fill(0, k + 1, M);
        sumColumns(a, o, M, M - k - 1, N - k - 1, e, k + 1, work, k + 1);
        rankOneColumns(a, o, M, M - k - 1, N - k - 1, e, k + 1, -1 / e[k + 1], work, k + 1);
      }
      const ro = k * N;
      for (let i = k + 1; i < N; i++) right[ro + i] = e[i];
    }
  }

  // The bidiagonal of order N.
  if (nct < N) s[nct] = a[nct * M + nct];
  if (nrt + 1 < N) e[nrt] = a[(N - 1) * M + nrt];
  e[N - 1] = 0;

  // U = H₀ ⋯ H_{nct−1} [I; 0] and V = G₀ ⋯ G_{nrt−1}, accumulated backwards.
  for (let j = 0; j < N; j++) u[j * M + j] = 1;
  applyReflectors(a, M, nct, 0, u, N, true);
  for (let j = 0; j < N; j++) v[j * N + j] = 1;
  applyReflectors(right, N, nrt, 1, v, N, true);

  // Implicit-shift QR on the bidiagonal (s, e) of the active block [k, p).
  let p = N;
  let steps = 0;
  const maxSteps = 75 * N + 100;
  while (p > 0) {
    // kase 1: s[p−1] and e[k−1] negligible, k < p; kase 2: s[k] negligible, k < p;
    // kase 3: e[k−1] negligible, s[k..p−1] not (QR step); kase 4: e[p−2] negligible (converged).
    let k: number;
    let kase: number;
    for (k = p - 2; k >= 0; k--) {
      if (Math.abs(e[k]) <= TINY + EPS * (Math.abs(s[k]) + Math.abs(s[k + 1]))) {
        e[k] = 0;
        break;
      }
    }
    if (k === p - 2) {
      kase = 4;
    } else {
      let ks: number;
      for (ks = p - 1; ks > k; ks--) {
        const t = (ks !== p ? Math.abs(e[ks]) : 0) + (ks !== k + 1 ? Math.abs(e[ks - 1]) : 0);
        if (Math.abs(s[ks]) <= TINY + EPS * t) {
          s[ks] = 0;
          break;
        }
      }
      if (ks === k) {
        kase = 3;
      } else if (ks === p - 1) {
        kase = 1;
      } else {
        kase = 2;
        k = ks;
      }
    }
    k++;

    if (kase === 1) {
      // Deflate the negligible s[p−1]: chase e[p−2] up with rotations from the right.
      let f = e[p - 2];
      e[p - 2] = 0;
      for (let j = p - 2; j >= k; j--) {
        const t = hypot(s[j], f);
        const cs = t > 0 ? s[j] / t : 1;
        const sn = t > 0 ? f / t : 0;
        s[j] = t;
        if (j !== k) {
          f = -sn * e[j - 1];
          e[j - 1] = cs * e[j - 1];
        }
        rotate(v, j * N, (p - 1) * N, N, cs, sn);
      }
    } else if (kase === 2) {
      // Split at the negligible s[k−1]: chase e[k−1] down with rotations from the left.
      let f = e[k - 1];
      e[k - 1] = 0;
      for (let j = k; j < p; j++) {
        const t = hypot(s[j], f);
        const cs = t > 0 ? s[j] / t : 1;
        const sn = t > 0 ? f / t : 0;
        s[j] = t;
        f = -sn * e[j];
        e[j] = cs * e[j];
        rotate(u, j * M, (k - 1) * M, M, cs, sn);
      }
    } else if (kase === 3) {
      if (++steps > maxSteps) throw new Error(`svd: the bidiagonal QR did not converge in ${maxSteps} steps (N = ${N})`);
      // Wilkinson shift from the trailing 2 × 2 of BᵀB, computed on scaled entries.
      const scale = Math.max(Math.abs(s[p - 1]), Math.abs(s[p - 2]), Math.abs(e[p - 2]), Math.abs(s[k]), Math.abs(e[k]));
      const sp = s[p - 1] / scale;
      const spm1 = s[p - 2] / scale;
      const epm1 = e[p - 2] / scale;
      const sk = s[k] / scale;
      const ek = e[k] / scale;
      const bb = ((spm1 + sp) * (spm1 - sp) + epm1 * epm1) / 2;
      const c = (sp * epm1) * (sp * epm1);
      let shift = 0;
      if (bb !== 0 || c !== 0) {
        shift = Math.sqrt(bb * bb + c);
        if (bb < 0) shift = -shift;
        shift = c / (bb + shift);
      }
      let f = (sk + sp) * (sk - sp) + shift;
      let g = sk * ek;
      // Chase the bulge down the block; the rotations go to V and U afterwards, several at a time.
      for (let j = k; j < p - 1; j++) {
        let t = hypot(f, g);
        let cs = t > 0 ? f / t : 1;
        let sn = t > 0 ? g / t : 0;
        if (j !== k) e[j - 1] = t;
        f = cs * s[j] + sn * e[j];
        e[j] = cs * e[j] - sn * s[j];
        g = sn * s[j + 1];
        s[j + 1] = cs * s[j + 1];
        cv[j] = cs;
        sv[j] = sn;
        t = hypot(f, g);
        cs = t > 0 ? f / t : 1;
        sn = t > 0 ? g / t : 0;
        s[j] = t;
        f = cs * e[j] + sn * s[j + 1];
        s[j + 1] = -sn * e[j] + cs * s[j + 1];
        g = sn * e[j + 1];
        e[j + 1] = cs * e[j + 1];
        cu[j] = cs;
        su[j] = sn;
      }
      e[p - 2] = f;
      rotateSequence(v, N, k, p - 1, cv, sv);
      rotateSequence(u, M, k, p - 1, cu, su);
    } else {
      // Converged: make s[k] non-negative.
      if (s[k] <= 0) {
        s[k] = s[k] < 0 ? -s[k] : 0;
        const ko = k * N;
        for (let i = ko; i < ko + N; i++) v[i] = -v[i];
      }
      p--;
    }
  }
  return { s, u, v };
}

/** ‖x[o … o+len−1]‖₂ without overflow or underflow. */
function norm2(x: Float64Array, o: number, len: number): number {
  let ss = 0;
  for (let i = o; i < o + len; i++) ss += x[i] * x[i];
  if (ss > 1e-280 && ss < 1e300) return Math.sqrt(ss);
  let scale = 0;
  for (let i = o; i < o + len; i++) scale = Math.max(scale, Math.abs(x[i]));
  if (scale === 0) return 0;
  ss = 0;
  for (let i = o; i < o + len; i++) {
    const y = x[i] / scale;
    ss += y * y;
  }
  return scale * Math.sqrt(ss);
}

/**
 * Apply H = I − w wᵀ / w₀ (w = x[wo … wo + len − 1], w₀ = x[wo]) to `cols` columns of the
 * column-major y: y[yo + c·ld … + len − 1], c = 0 … cols − 1. Four columns per pass over w.
 */
function reflectColumns(x: Float64Array, wo: number, len: number, y: Float64Array, yo: number, ld: number, cols: number): void {
  const w0 = x[wo];
  let c = 0;
  for (; c + 3 < cols; c += 4) {
    const p0 = yo + c * ld, p1 = p0 + ld, p2 = p1 + ld, p3 = p2 + ld;
    let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
    for (let i = 0; i < len; i++) {
      const wi = x[wo + i];
      d0 += wi * y[p0 + i];
      d1 += wi * y[p1 + i];
      d2 += wi * y[p2 + i];
      d3 += wi * y[p3 + i];
    }
    const t0 = -d0 / w0, t1 = -d1 / w0, t2 = -d2 / w0, t3 = -d3 / w0;
    for (let i = 0; i < len; i++) {
      const wi = x[wo + i];
      y[p0 + i] += t0 * wi;
      y[p1 + i] += t1 * wi;
      y[p2 + i] += t2 * wi;
      y[p3 + i] += t3 * wi;
    }
  }
  for (; c < cols; c++) {
    const p = yo + c * ld;
    axpy(-dot(x, wo, y, p, len) / w0, x, wo, y, p, len);
  }
}

/** out[oo … oo + len − 1] += Σ_c coef[co + c] · y[yo + c·ld …] over `cols` columns (column-major y). */
function sumColumns(y: Float64Array, yo: number, ld: number, len: number, cols: number, coef: Float64Array, co: number, out: Float64Array, oo: number): void {
  let c = 0;
  for (; c + 3 < cols; c += 4) {
    const p0 = yo + c * ld, p1 = p0 + ld, p2 = p1 + ld, p3 = p2 + ld;
    const a0 = coef[co + c], a1 = coef[co + c + 1], a2 = coef[co + c + 2], a3 = coef[co + c + 3];
    for (let i = 0; i < len; i++) out[oo + i] += a0 * y[p0 + i] + a1 * y[p1 + i] + a2 * y[p2 + i] + a3 * y[p3 + i];
  }
  for (; c < cols; c++) axpy(coef[co + c], y, yo + c * ld, out, oo, len);
}

/** y[yo + c·ld + i] += scale · coef[co + c] · x[xo + i] for c < cols, i < len (column-major y). */
function rankOneColumns(y: Float64Array, yo: number, ld: number, len: number, cols: number, coef: Float64Array, co: number, scale: number, x: Float64Array, xo: number): void {
  let c = 0;
  for (; c + 3 < cols; c += 4) {
    const p0 = yo + c * ld, p1 = p0 + ld, p2 = p1 + ld, p3 = p2 + ld;
    const a0 = scale * coef[co + c], a1 = scale * coef[co + c + 1], a2 = scale * coef[co + c + 2], a3 = scale * coef[co + c + 3];
    for (let i = 0; i < len; i++) {
      const xi = x[xo + i];
      y[p0 + i] += a0 * xi;
      y[p1 + i] += a1 * xi;
      y[p2 + i] += a2 * xi;
      y[p3 + i] += a3 * xi;
    }
  }
  for (; c < cols; c++) axpy(scale * coef[co + c], x, xo, y, yo + c * ld, len);
}

/** √(a² + b²) without overflow or underflow. */
function hypot(a: number, b: number): number {
  const x = Math.abs(a);
  const y = Math.abs(b);
  if (x > y) {
    const r = y / x;
    return x * Math.sqrt(1 + r * r);
  }
  if (y === 0) return 0;
  const r = x / y;
  return y * Math.sqrt(1 + r * r);
}

function dot(x: Float64Array, xo: number, y: Float64Array, yo: number, len: number): number {
  // Four partial sums: independent add chains run in parallel.
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  let i = 0;
  for (; i + 3 < len; i += 4) {
    a0 += x[xo + i] * y[yo + i];
    a1 += x[xo + i + 1] * y[yo + i + 1];
    a2 += x[xo + i + 2] * y[yo + i + 2];
    a3 += x[xo + i + 3] * y[yo + i + 3];
  }
  for (; i < len; i++) a0 += x[xo + i] * y[yo + i];
  return (a0 + a1) + (a2 + a3);
}

/** y += alpha · x over len entries. */
function axpy(alpha: number, x: Float64Array, xo: number, y: Float64Array, yo: number, len: number): void {
  for (let i = 0; i < len; i++) y[yo + i] += alpha * x[xo + i];
}

/**
 * For j = first … last − 1 in turn, rotate columns j and j + 1 of the column-major z (len rows)
 * by (c[j], s[j]) as `rotate` does; four rotations share one pass over five columns.
 */
function rotateSequence(z: Float64Array, len: number, first: number, last: number, c: Float64Array, s: Float64Array): void {
  let j = first;
  for (; j + 3 < last; j += 4) {
    const c0 = c[j], c1 = c[j + 1], c2 = c[j + 2], c3 = c[j + 3];
    const s0 = s[j], s1 = s[j + 1], s2 = s[j + 2], s3 = s[j + 3];
    const o0 = j * len, o1 = o0 + len, o2 = o1 + len, o3 = o2 + len, o4 = o3 + len;
    for (let i = 0; i < len; i++) {
      const x0 = z[o0 + i];
      let x1 = z[o1 + i];
      z[o0 + i] = c0 * x0 + s0 * x1;
      x1 = c0 * x1 - s0 * x0;
      let x2 = z[o2 + i];
      z[o1 + i] = c1 * x1 + s1 * x2;
      x2 = c1 * x2 - s1 * x1;
      let x3 = z[o3 + i];
      z[o2 + i] = c2 * x2 + s2 * x3;
      x3 = c2 * x3 - s2 * x2;
      const x4 = z[o4 + i];
      z[o3 + i] = c3 * x3 + s3 * x4;
      z[o4 + i] = c3 * x4 - s3 * x3;
    }
  }
  for (; j < last; j++) rotate(z, j * len, (j + 1) * len, len, c[j], s[j]);
}

/** Rotate the vectors x = z[xo …], y = z[yo …]: x ← c·x + s·y, y ← c·y − s·x. */
function rotate(z: Float64Array, xo: number, yo: number, len: number, c: number, s: number): void {
  for (let i = 0; i < len; i++) {
    const x = z[xo + i];
    const y = z[yo + i];
    z[xo + i] = c * x + s * y;
    z[yo + i] = c * y - s * x;
  }
}
