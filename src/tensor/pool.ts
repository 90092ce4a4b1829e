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
    if (ab !== undefined) this.parkedBytes -= ab.byteLength;
    else {
      ab = new ArrayBuffer(cap * (f64 ? 8 : 4));
      this.created++;
    }
    return f64 ? new Float64Array(ab, 0, n) : new Float32Array(ab, 0, n);
  }

  /** Returns a buffer that came from `take` (or any whole buffer) to the free lists. */
  give(b: Buf): void {
    if (b.byteOffset !== 0) return;                 // a view into the middle of something else
    const ab = b.buffer as ArrayBuffer;
    const el = b.BYTES_PER_ELEMENT;
    const cap = ab.byteLength / el;
    if (bucket(cap) !== cap) return;                // not a pool-shaped buffer: leave it to the GC
    const lists = el === 8 ? this.#f64 : this.#f32;
    let list = lists.get(cap);
    if (list === undefined) { list = []; lists.set(cap, list); }
    list.push(ab);
    this.parkedBytes += ab.byteLength;
  }

  clear(): void {
    this.#f32.clear();
    this.#f64.clear();
    this.parkedBytes = 0;
  }
}

/** Capacity (elements) of the bucket that serves a request for n. */
export function bucket(n: number): number {
  if (n <= 4096) return Math.max(256, Math.ceil(n / 256) * 256);
  const step = 2 ** (Math.floor(Math.log2(n)) - 3);   // 8 steps per octave
  return Math.ceil(n / step) * step;
}
