import type { Backend, Buf } from '../backend/backend.ts';
import { ShapeError } from '../errors.ts';
import { BufferPool } from './pool.ts';

export type DType = 'f32' | 'f64';

/** Each backend owns one buffer pool (a cache, not semantics). */
const pools = new WeakMap<Backend, BufferPool>();
export function poolOf(backend: Backend): BufferPool {
  let p = pools.get(backend);
  if (p === undefined) { p = new BufferPool(); pools.set(backend, p); }
  return p;
}

/**
 * Runs `fn` and then gives back to the pool every buffer it took and did not return
 * (BufferPool.scope): a forward pass under noGrad records no graph, so releaseGraph cannot find
 * its intermediates. Whatever fn computed must be copied out of pooled buffers inside it.
 */
export function releasing<T>(backend: Backend, fn: () => T): T {
  return poolOf(backend).scope(fn);
}

/** The only global switch: inside `noGrad(fn)` no graph is recorded. */
let gradEnabled = true;
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try { return fn(); } finally { gradEnabled = prev; }
}
export function isGradEnabled(): boolean { return gradEnabled; }

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * A dense row-major float tensor with reverse-mode autograd. Every op output records its
 * parents and a backward closure that ACCUMULATES into the parents' `grad`.
 */
export class Tensor {
  data: Buf;
  readonly shape: number[];
  readonly size: number;
  readonly backend: Backend;
  requiresGrad: boolean;
  private gradBuf: Buf | null = null;
  /** zeroGrad() kept the buffer but not its values: it reads as zeros until something writes it. */
  private gradZeroed = false;
  name: string | undefined;
  /** Graph: inputs of the op that made this tensor, and its backward. */
  parents: Tensor[] = [];
  backwardFn: (() => void) | null = null;
  /** True when `data` belongs to another tensor (reshape views): never returned to the pool. */
  isView = false;

  constructor(backend: Backend, data: Buf, shape: number[], requiresGrad = false) {
    const n = sizeOf(shape);
    if (data.length !== n) throw new ShapeError(`data has ${data.length} elements, shape [${shape}] needs ${n}`);
    this.backend = backend;
    this.data = data;
    this.shape = shape;
    this.size = n;
    this.requiresGrad = requiresGrad;
  }

  get dtype(): DType { return this.data instanceof Float64Array ? 'f64' : 'f32'; }
  get ndim(): number { return this.shape.length; }

  /**
   * The gradient, or null when there is none. After zeroGrad() it reads as zeros: the zeros are
   * written here, on the first read, unless a backward contribution has written the buffer whole
   * first (gradSlot's `fresh`).
   */
  get grad(): Buf | null {
    if (this.gradZeroed) { this.gradBuf!.fill(0); this.gradZeroed = false; }
    return this.gradBuf;
  }

  set grad(g: Buf | null) { this.gradBuf = g; this.gradZeroed = false; }

  /** The gradient buffer, allocated zeroed on first use. */
  ensureGrad(): Buf {
    if (this.gradBuf === null) {
      const g = poolOf(this.backend).take(this.size, this.dtype === 'f64');
      g.fill(0);
      this.gradBuf = g;
    }
    return this.grad!;
  }

  /**
   * The gradient buffer for a contribution that writes every element of it: `fresh` when t had
   * no gradient yet — the buffer then holds whatever the pool left in it, and the caller must
   * write it (C = …, a copy) rather than add to it; that saves zeroing it first. Otherwise the
   * caller adds, as to ensureGrad().
   */
  gradSlot(): { buf: Buf; fresh: boolean } {
    if (this.gradZeroed) { this.gradZeroed = false; return { buf: this.gradBuf!, fresh: true }; }
    if (this.gradBuf !== null) return { buf: this.gradBuf, fresh: false };
    this.gradBuf = poolOf(this.backend).take(this.size, this.dtype === 'f64');
    return { buf: this.gradBuf, fresh: true };
  }

  /**
   * Makes `buf` (a pool buffer of this tensor's size, which the caller then writes whole) the
   * gradient when there is none yet, and says whether it did: a kernel can then turn a buffer it
   * is done with into the gradient in place (cross-entropy's probabilities into dlogits).
   */
  adoptGrad(buf: Buf): boolean {
    if (this.gradBuf !== null) return false;
    this.gradBuf = buf;
    return true;
  }

  /**
   * Hands this tensor's finished gradient buffer to `t`, of the same size and dtype, as t's
   * gradient — no copy — when t has none yet, and says whether it did (else the caller copies or
   * adds). Only an op's backward calls it, for its own output, whose gradient nothing reads after
   * that: it reads null from then on, so the graph's release gives the buffer back once, as t's
   * (or never, t being a leaf that keeps it as gradSlot's would be kept).
   */
  passGradTo(t: Tensor): boolean {
    if (t.gradBuf !== null || this.gradBuf === null || this.gradZeroed || t.size !== this.size || t.dtype !== this.dtype) return false;
    t.gradBuf = this.gradBuf;
    this.gradBuf = null;
    return true;
  }

  /**
   * Sets the gradient to zero without writing it: the next backward's first contribution that
   * writes it whole (gradSlot's `fresh`) overwrites it — a weight gradient's GEMM then starts
   * from zero instead of reading C — and any other first use sees zeros (the `grad` getter and
   * ensureGrad write them then). The same values either way.
   */
  zeroGrad(): void { if (this.gradBuf !== null) this.gradZeroed = true; }

  /** Scalar value of a 1-element tensor. */
  item(): number {
    if (this.size !== 1) throw new ShapeError(`item() needs 1 element, shape is [${this.shape}]`);
    return this.data[0];
  }

  /**
   * Reverse-mode pass from this tensor. Seeds d(this) = 1 (or `seed`), visits the graph in
   * reverse topological order and runs each backward closure once.
   */
  backward(seed?: Buf): void {
    const order = topoOrder(this);
    const g = this.ensureGrad();
    if (seed !== undefined) g.set(seed); else g.fill(1);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      if (t.backwardFn !== null && t.grad !== null) t.backwardFn();
    }
  }

  /**
   * Returns every intermediate buffer of the graph under this tensor (outputs of ops: data
   * and grad) to the pool and cuts the graph. Leaves (parameters, inputs) are kept. Call once
   * a step is done with its activations.
   */
  releaseGraph(): void {
    const pool = poolOf(this.backend);
    for (const t of topoOrder(this)) {
      if (t.parents.length === 0) continue;
      if (!t.isView) pool.give(t.data);
      if (t.grad !== null) pool.give(t.grad);
      t.grad = null;
      t.parents = [];
      t.backwardFn = null;
    }
  }

  toString(): string { return `Tensor(${this.dtype}, [${this.shape}]${this.requiresGrad ? ', grad' : ''})`; }
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // iterative DFS (graphs of deep models overflow a recursive one)
  const stack: Array<[Tensor, number]> = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    if (i < t.parents.length) {
      top[1]++;
      const p = t.parents[i];
      if (!seen.has(p)) { seen.add(p); stack.push([p, 0]); }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

/* ---------- construction ---------- */

/** A tensor with pooled, UNINITIALIZED storage (the op fills it). */
export function empty(backend: Backend, shape: number[], dtype: DType = 'f32'): Tensor {
  return new Tensor(backend, poolOf(backend).take(sizeOf(shape), dtype === 'f64'), shape);
}

export function zeros(backend: Backend, shape: number[], dtype: DType = 'f32'): Tensor {
  const t = empty(backend, shape, dtype);
  t.data.fill(0);
  return t;
}

export function fromArray(backend: Backend, values: ArrayLike<number>, shape: number[], dtype: DType = 'f32'): Tensor {
  const data = dtype === 'f64' ? Float64Array.from(values as ArrayLike<number>) : Float32Array.from(values as ArrayLike<number>);
  return new Tensor(backend, data, shape);
}

/** A trainable leaf (a parameter). */
export function parameter(backend: Backend, data: Buf, shape: number[], name?: string): Tensor {
  const t = new Tensor(backend, data, shape, true);
  t.name = name;
  return t;
}

/**
 * Records `out` as produced from `inputs` with `backward` (which reads out.grad and
 * accumulates into the inputs' grads). Does nothing under noGrad or when no input needs grad.
 */
export function record(out: Tensor, inputs: Tensor[], backward: () => void): Tensor {
  if (!gradEnabled) return out;
  let any = false;
  for (const x of inputs) if (x.requiresGrad) { any = true; break; }
  if (!any) return out;
  out.requiresGrad = true;
  out.parents = inputs;
  out.backwardFn = backward;
  return out;
}

export function assertShape(cond: boolean, msg: () => string): void {
  if (!cond) throw new ShapeError(msg());
}

/**
 * Where a backward kernel puts t's gradient: t's gradient slot when t needs one (gradSlot:
 * `fresh` when it held none yet), else a scratch buffer from the pool, fresh (hand it back with
 * `done`). Frozen weights thus get no gradient buffer at all. A fresh buffer holds whatever the
 * pool left in it: the kernel writes it, or the caller zeroes it (gradTarget).
 */
export function gradSlotFor(t: Tensor): { buf: Buf; fresh: boolean; done: () => void } {
  if (t.requiresGrad) return { ...t.gradSlot(), done: () => {} };
  const pool = poolOf(t.backend), buf = pool.take(t.size, t.dtype === 'f64');
  return { buf, fresh: true, done: () => pool.give(buf) };
}

/** gradSlotFor with a fresh buffer zeroed: where a backward kernel that adds should add. */
export function gradTarget(t: Tensor): { buf: Buf; done: () => void } {
  const s = gradSlotFor(t);
  if (s.fresh) s.buf.fill(0);
  return s;
}
