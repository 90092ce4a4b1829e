import type { Buf } from '../backend/backend.ts';

/**
 * Free lists of float buffers in size buckets, so a training loop reuses the same memory every
 * step (flat RSS) instead of leaving hundreds of megabytes of garbage to the GC — also when
 * shapes vary from step to step (SFT batches padded to their longest row).
 *
 * A request for n elements gets a view of length n on a buffer of the bucket's capacity
 * (n rounded up: to a multiple of 256 below 4096, else to the next of 8 steps per octave, so
 * at most 12.5% is wasted) or, above 4096 elements, on a parked buffer of a bucket up to twice
 * as large. Buffers handed out are NOT zeroed: callers fill them.
 */
export class BufferPool {
  #f32 = new Map<number, ArrayBuffer[]>();
  #f64 = new Map<number, ArrayBuffer[]>();
  /** Bytes currently parked in the free lists. */
  parkedBytes = 0;
  /** Buffers created because no free one fitted (flat after warm-up in a steady loop). */
  created = 0;
  /** Open scopes (innermost last): the buffers each has handed out and not yet had back. */
  #scopes: Map<ArrayBuffer, number>[] = [];   // buffer → bytes per element
  /** Buffers now in the free lists: a second give of one (after a scope parked it) is ignored, never a buffer handed out twice. */
  #parked = new WeakSet<ArrayBuffer>();

  take(n: number, f64: boolean): Buf {
    const cap = bucket(n);
    const lists = f64 ? this.#f64 : this.#f32;
    // the request's own bucket, else a parked buffer of the next buckets up to twice the size:
    // SFT batches are padded to their longest row, so shapes vary from step to step, and a new
    // buffer for every bucket a large tensor (B·T·vocab logits) ever lands in would park gigabytes
    let ab: ArrayBuffer | undefined;
    for (let c = cap; c <= 2 * cap && ab === undefined; c = bucket(c + 1)) {
      const list = lists.get(c);
      if (list !== undefined && list.length > 0) ab = list.pop()!;
      if (n <= 4096) break;                          // small buffers: exact bucket only
    }
    if (ab !== undefined) { this.parkedBytes -= ab.byteLength; this.#parked.delete(ab); }
    else {
      ab = new ArrayBuffer(cap * (f64 ? 8 : 4));
      this.created++;
    }
    if (this.#scopes.length > 0) this.#scopes[this.#scopes.length - 1].set(ab, f64 ? 8 : 4);
    return f64 ? new Float64Array(ab, 0, n) : new Float32Array(ab, 0, n);
  }

  /**
   * Runs `fn`, then parks every buffer it took from the pool and did not give back. A forward
   * pass under noGrad records no graph, so releaseGraph cannot find its intermediates: without
   * a scope they go to the GC and the next pass gets fresh, zero-filled memory (page faults: on
   * a VM ~10 µs per 4 KiB, which cost an inference step as much as its kernels). Nothing `fn`
   * took may be used after it returns: copy the results out inside it. Scopes nest; a buffer
   * belongs to the innermost one open when it was taken.
   */
  scope<T>(fn: () => T): T {
    const mine = new Map<ArrayBuffer, number>();
    this.#scopes.push(mine);
    try {
      return fn();
    } finally {
      this.#scopes.pop();
      for (const [ab, el] of mine) this.#park(ab, el);
    }
  }

  /** Returns a buffer that came from `take` (or any whole buffer) to the free lists. */
  give(b: Buf): void {
    if (b.byteOffset !== 0) return;                 // a view into the middle of something else
    const ab = b.buffer as ArrayBuffer;
    for (const sc of this.#scopes) sc.delete(ab);   // given back: no scope parks it again
    this.#park(ab, b.BYTES_PER_ELEMENT);
  }

  #park(ab: ArrayBuffer, el: number): void {
    if (this.#parked.has(ab)) return;
    const cap = ab.byteLength / el;
    if (bucket(cap) !== cap) return;                // not a pool-shaped buffer: leave it to the GC
    const lists = el === 8 ? this.#f64 : this.#f32;
    let list = lists.get(cap);
    if (list === undefined) { list = []; lists.set(cap, list); }
    list.push(ab);
    this.#parked.add(ab);
    this.parkedBytes += ab.byteLength;
  }

  clear(): void {
    this.#f32.clear();
    this.#f64.clear();
    this.#parked = new WeakSet();
    this.parkedBytes = 0;
  }
}

/** Capacity (elements) of the bucket that serves a request for n. */
export function bucket(n: number): number {
  if (n <= 4096) return Math.max(256, Math.ceil(n / 256) * 256);
  const step = 2 ** (Math.floor(Math.log2(n)) - 3);   // 8 steps per octave
  return Math.ceil(n / step) * step;
}
