import type { Buf } from '../../backend/backend.ts';
import { assertShape, empty, record, type Tensor } from '../tensor.ts';

/** Broadcast shape (NumPy rules) or a ShapeError. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1, db = b[b.length - n + i] ?? 1;
    assertShape(da === db || da === 1 || db === 1, () => `cannot broadcast [${a}] with [${b}]`);
    out[i] = Math.max(da, db);
  }
  return out;
}

/** For each output element, the flat index into an input of `shape` broadcast to `outShape`. */
function broadcastIndex(shape: readonly number[], outShape: readonly number[]): Int32Array {
  const n = outShape.length;
  let total = 1;
  for (const d of outShape) total *= d;
  const idx = new Int32Array(total);
  const strides = new Array<number>(n).fill(0);
  let s = 1;
  for (let i = n - 1; i >= 0; i--) {
    const d = shape[shape.length - n + i] ?? 1;
    strides[i] = d === 1 ? 0 : s;
    s *= d;
  }
  const coord = new Array<number>(n).fill(0);
  let off = 0;
  for (let f = 0; f < total; f++) {
    idx[f] = off;
    for (let i = n - 1; i >= 0; i--) {
      coord[i]++;
      off += strides[i];
      if (coord[i] < outShape[i]) break;
      off -= strides[i] * coord[i];
      coord[i] = 0;
    }
  }
  return idx;
}

type Kind = 'add' | 'sub' | 'mul' | 'div';

/** O[i] = A[ia[i]] op B[ib[i]] (index maps only where an operand is broadcast). One loop per op: no per-element dispatch. */
function forwardLoop(kind: Kind, O: Buf, A: Buf, B: Buf, ia: Int32Array | null, ib: Int32Array | null, n: number): void {
  if (ia === null && ib === null) {
    if (kind === 'add') for (let i = 0; i < n; i++) O[i] = A[i] + B[i];
    else if (kind === 'sub') for (let i = 0; i < n; i++) O[i] = A[i] - B[i];
    else if (kind === 'mul') for (let i = 0; i < n; i++) O[i] = A[i] * B[i];
    else for (let i = 0; i < n; i++) O[i] = A[i] / B[i];
    return;
  }
  for (let i = 0; i < n; i++) {
    const x = A[ia === null ? i : ia[i]], y = B[ib === null ? i : ib[i]];
    O[i] = kind === 'add' ? x + y : kind === 'sub' ? x - y : kind === 'mul' ? x * y : x / y;
  }
}

/** D[idx[i]] += G[i] · (F ? F[fi[i]] : 1) · sign, the common shape of every binary backward. */
function accumulate(D: Buf, idx: Int32Array | null, G: Buf, F: Buf | null, fi: Int32Array | null, sign: number, n: number): void {
  if (idx === null && fi === null) {
    if (F === null) { if (sign === 1) for (let i = 0; i < n; i++) D[i] += G[i]; else for (let i = 0; i < n; i++) D[i] -= G[i]; }
    else for (let i = 0; i < n; i++) D[i] += sign * G[i] * F[i];
    return;
  }
  for (let i = 0; i < n; i++) {
    const f = F === null ? 1 : F[fi === null ? i : fi[i]];
    D[idx === null ? i : idx[i]] += sign * G[i] * f;
  }
}

function binary(kind: Kind, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShape(a.shape, b.shape);
  const out = empty(a.backend, shape, a.dtype);
  const n = out.size;
  const A = a.data, B = b.data, O = out.data;
  const ia = a.size === n ? null : broadcastIndex(a.shape, shape);
  const ib = b.size === n ? null : broadcastIndex(b.shape, shape);
  const be = a.backend;
  if (kind === 'add' && ia === null && ib === null) be.addBuffers(O, A, B, n);
  else forwardLoop(kind, O, A, B, ia, ib, n);
  return record(out, [a, b], () => {
    const g = out.grad!;
    // g added into an unbroadcast operand's gradient: the backend's elementwise add
    const addTo = (D: Buf, idx: Int32Array | null) => (idx === null ? be.addBuffers(D, D, g, n) : accumulate(D, idx, g, null, null, 1, n));
    if (a.requiresGrad) {
      // the first contribution to a's gradient, unbroadcast, is g itself: handed over (out's
      // gradient is done with) or copied, not added to zeros; b, if it needs it too, copies g
      // (one buffer shared by both would take the later contributions to either)
      if ((kind === 'add' || kind === 'sub') && ia === null && a.grad === null) { if (!out.passGradTo(a)) a.gradSlot().buf.set(g); }
      else if (kind === 'add' || kind === 'sub') addTo(a.ensureGrad(), ia);
      else if (kind === 'mul') accumulate(a.ensureGrad(), ia, g, B, ib, 1, n);
      else { const da = a.ensureGrad(); for (let i = 0; i < n; i++) da[ia === null ? i : ia[i]] += g[i] / B[ib === null ? i : ib[i]]; }
    }
    if (b.requiresGrad) {
      if (kind === 'add' && ib === null && b.grad === null) { if (!out.passGradTo(b)) b.gradSlot().buf.set(g); return; }   // handed over unless a took it
      const db = b.ensureGrad();
      if (kind === 'add') addTo(db, ib);
      else if (kind === 'sub') accumulate(db, ib, g, null, null, -1, n);
      else if (kind === 'mul') accumulate(db, ib, g, A, ia, 1, n);
      // d(x/y)/dy = −x/y² = −out/y
      else for (let i = 0; i < n; i++) db[ib === null ? i : ib[i]] -= g[i] * O[i] / B[ib === null ? i : ib[i]];
    }
  });
}

export const add = (a: Tensor, b: Tensor): Tensor => binary('add', a, b);
export const sub = (a: Tensor, b: Tensor): Tensor => binary('sub', a, b);
export const mul = (a: Tensor, b: Tensor): Tensor => binary('mul', a, b);
export const div = (a: Tensor, b: Tensor): Tensor => binary('div', a, b);

/** out = a · s for a scalar s. */
export function scale(a: Tensor, s: number): Tensor {
  const out = empty(a.backend, a.shape.slice(), a.dtype);
  for (let i = 0; i < a.size; i++) out.data[i] = a.data[i] * s;
  return record(out, [a], () => {
    const g = out.grad!, d = a.ensureGrad();
    for (let i = 0; i < a.size; i++) d[i] += g[i] * s;
  });
}
