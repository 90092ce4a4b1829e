import { assertShape, empty, record, sizeOf, Tensor } from '../tensor.ts';

/** Same data, new shape (a view: no copy). One dim may be −1. */
export function reshape(a: Tensor, shape: number[]): Tensor {
  const s = shape.slice();
  const neg = s.indexOf(-1);
  if (neg >= 0) s[neg] = a.size / -sizeOf(s);
  assertShape(sizeOf(s) === a.size, () => `reshape [${a.shape}] → [${shape}]: sizes differ`);
  const out = new Tensor(a.backend, a.data, s);
  out.isView = true;
  return record(out, [a], () => {
    const g = out.grad!;
    if (a.grad === null) { if (!out.passGradTo(a)) a.gradSlot().buf.set(g); }   // the first contribution: handed over or copied, not added to zeros
    else a.backend.addBuffers(a.grad, a.grad, g, a.size);
  });
}

/** Strides-free view of a shape as (outer, dim, inner) around axis `d`. */
function around(shape: readonly number[], d: number): [number, number, number] {
  let outer = 1, inner = 1;
  for (let i = 0; i < d; i++) outer *= shape[i];
  for (let i = d + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, shape[d], inner];
}

function axis(a: Tensor, d: number): number {
  const ax = d < 0 ? a.ndim + d : d;
  assertShape(ax >= 0 && ax < a.ndim, () => `axis ${d} out of range for [${a.shape}]`);
  return ax;
}

/** Swap two axes (copies). */
export function transpose(a: Tensor, d0: number, d1: number): Tensor {
  const x = axis(a, d0), y = axis(a, d1);
  const shape = a.shape.slice();
  [shape[x], shape[y]] = [shape[y], shape[x]];
  const out = empty(a.backend, shape, a.dtype);
  const n = a.ndim;
  const inStrides = new Array<number>(n);
  let s = 1;
  for (let i = n - 1; i >= 0; i--) { inStrides[i] = s; s *= a.shape[i]; }
  // output coordinate i maps to input stride of the swapped axis
  const st = inStrides.slice();
  [st[x], st[y]] = [st[y], st[x]];
  const map = new Int32Array(a.size);
  const coord = new Array<number>(n).fill(0);
  let off = 0;
  for (let f = 0; f < a.size; f++) {
    map[f] = off;
    for (let i = n - 1; i >= 0; i--) {
      coord[i]++; off += st[i];
      if (coord[i] < shape[i]) break;
      off -= st[i] * coord[i]; coord[i] = 0;
    }
  }
  for (let f = 0; f < a.size; f++) out.data[f] = a.data[map[f]];
  return record(out, [a], () => {
    const g = out.grad!, d = a.ensureGrad();
    for (let f = 0; f < a.size; f++) d[map[f]] += g[f];
  });
}

/** Elements [start, end) along axis d (copies). */
export function slice(a: Tensor, d: number, start: number, end: number): Tensor {
  const ax = axis(a, d);
  const [outer, dim, inner] = around(a.shape, ax);
  assertShape(0 <= start && start <= end && end <= dim, () => `slice [${start}, ${end}) out of range for axis ${ax} of [${a.shape}]`);
  const len = end - start;
  const shape = a.shape.slice();
  shape[ax] = len;
  const out = empty(a.backend, shape, a.dtype);
  for (let o = 0; o < outer; o++) {
    out.data.set(a.data.subarray((o * dim + start) * inner, (o * dim + end) * inner), o * len * inner);
  }
  return record(out, [a], () => {
    const g = out.grad!, da = a.ensureGrad();
    for (let o = 0; o < outer; o++) {
      const src = o * len * inner, dst = (o * dim + start) * inner;
      for (let i = 0; i < len * inner; i++) da[dst + i] += g[src + i];
    }
  });
}

/** Split along axis d into pieces of the given sizes. */
export function split(a: Tensor, d: number, sizes: number[]): Tensor[] {
  const ax = axis(a, d);
  assertShape(sizes.reduce((x, y) => x + y, 0) === a.shape[ax], () => `split sizes [${sizes}] do not add up to axis ${ax} of [${a.shape}]`);
  const parts: Tensor[] = [];
  let at = 0;
  for (const s of sizes) { parts.push(slice(a, ax, at, at + s)); at += s; }
  return parts;
}

/** Concatenate along axis d. */
export function concat(ts: Tensor[], d: number): Tensor {
  assertShape(ts.length > 0, () => 'concat of no tensors');
  const first = ts[0];
  const ax = axis(first, d);
  for (const t of ts) {
    assertShape(t.ndim === first.ndim && t.shape.every((s, i) => i === ax || s === first.shape[i]),
      () => `concat: [${t.shape}] does not fit [${first.shape}] on axis ${ax}`);
  }
  const dims = ts.map((t) => t.shape[ax]);
  const total = dims.reduce((x, y) => x + y, 0);
  const shape = first.shape.slice();
  shape[ax] = total;
  const [outer, , inner] = around(shape, ax);
  const out = empty(first.backend, shape, first.dtype);
  let at = 0;
  ts.forEach((t, k) => {
    const len = dims[k];
    for (let o = 0; o < outer; o++) out.data.set(t.data.subarray(o * len * inner, (o + 1) * len * inner), (o * total + at) * inner);
    at += len;
  });
  return record(out, ts, () => {
    const g = out.grad!;
    let at2 = 0;
    ts.forEach((t, k) => {
      const len = dims[k];
      if (t.requiresGrad) {
        const dt = t.ensureGrad();
        for (let o = 0; o < outer; o++) {
          const src = (o * total + at2) * inner, dst = o * len * inner;
          for (let i = 0; i < len * inner; i++) dt[dst + i] += g[src + i];
        }
      }
      at2 += len;
    });
  });
}
