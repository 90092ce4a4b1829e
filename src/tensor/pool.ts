import type { Buf } from '../backend/backend.ts';

/**
 * Size-keyed free lists of float buffers, so a training loop reuses the same memory every
 * step (flat RSS) instead of leaving hundreds of megabytes of garbage to the GC.
 * Buffers handed out are NOT zeroed: callers fill them.
 */
export class BufferPool {
  #f32 = new Map<number, Float32Array[]>();
  #f64 = new Map<number, Float64Array[]>();
  /** Bytes currently parked in the free lists. */
  parkedBytes = 0;
  /** Buffers created because no free one fitted (flat after warm-up in a steady loop). */
  created = 0;

  take(n: number, f64: boolean): Buf {
    const lists = f64 ? this.#f64 : this.#f32;
    const list = lists.get(n);
    if (list !== undefined && list.length > 0) {
      const b = list.pop()!;
      this.parkedBytes -= b.byteLength;
      return b;
    }
    this.created++;
    return f64 ? new Float64Array(n) : new Float32Array(n);
  }

  give(b: Buf): void {
    // only whole buffers we could have made (not views into a larger one)
    if (b.byteOffset !== 0 || b.buffer.byteLength !== b.byteLength) return;
    const lists = (b instanceof Float64Array ? this.#f64 : this.#f32) as Map<number, Buf[]>;
    let list = lists.get(b.length);
    if (list === undefined) { list = []; lists.set(b.length, list); }
    list.push(b);
    this.parkedBytes += b.byteLength;
  }

  clear(): void {
    this.#f32.clear();
    this.#f64.clear();
    this.parkedBytes = 0;
  }
}
