import { describe, expect, it } from 'vitest';
import { BufferPool, bucket } from './pool.ts';

describe('BufferPool', () => {
  it('serves a request from its own bucket, else from a parked buffer up to twice its size', () => {
    const pool = new BufferPool();
    const big = pool.take(8 * 60 * 32000, false);         // logits of a batch padded to 60 tokens
    pool.give(big);
    const smaller = pool.take(8 * 41 * 32000, false);     // the next step's rows are shorter
    expect(pool.created).toBe(1);
    expect(smaller.length).toBe(8 * 41 * 32000);
    expect(smaller.buffer).toBe(big.buffer);
    pool.give(smaller);
    pool.take(8 * 25 * 32000, false);                      // well under half: a buffer of its own
    expect(pool.created).toBe(2);
  });

  it('small requests use their exact bucket only; f32 and f64 never mix', () => {
    const pool = new BufferPool();
    pool.give(pool.take(4000, false));
    pool.take(1000, false);
    expect(pool.created).toBe(2);
    pool.give(pool.take(100_000, true));
    pool.take(90_000, false);
    expect(pool.created).toBe(4);
  });

  it('variable batch shapes: the buffers made stop growing after the largest shape was seen', () => {
    const pool = new BufferPool();
    let seed = 7;
    const T = () => { seed = (seed * 1103515245 + 12345) >>> 0; return 30 + (seed % 31); };
    const step = (t: number) => {
      const bufs = [8 * t * 32000, 8 * t * 32000, 8 * t * 2048, 8 * t * 768, 8 * 12 * t * t].map((n) => pool.take(n, false));
      bufs.forEach((b) => pool.give(b));
    };
    step(60);                                              // the longest batch first
    const after = pool.created;
    for (let i = 0; i < 300; i++) step(T());
    expect(pool.created - after).toBeLessThanOrEqual(5);  // only tensors below half the first's size may add one
    expect(bucket(8 * 60 * 32000)).toBeGreaterThanOrEqual(8 * 60 * 32000);
  });

  it('a scope parks what its function took and did not give back, once; scopes nest', () => {
    const pool = new BufferPool();
    const outside = pool.take(5000, false);
    let kept: Float32Array | null = null;
    pool.scope(() => {
      const a = pool.take(5000, false), b = pool.take(5000, true);
      pool.give(a);                                       // given back inside: parked once, not again at the end
      pool.scope(() => { kept = pool.take(9000, false) as Float32Array; });
      expect(pool.parkedBytes).toBe(a.buffer.byteLength + kept!.buffer.byteLength);   // the inner scope parked its own
      void b;
    });
    expect(pool.created).toBe(4);
    const parked = pool.parkedBytes;
    // every buffer the scopes parked is handed out again, each once; the one taken outside is not
    const again = [pool.take(5000, false), pool.take(5000, true), pool.take(9000, false)];
    expect(pool.created).toBe(4);
    expect(new Set(again.map((x) => x.buffer)).size).toBe(3);
    expect(again.some((x) => x.buffer === outside.buffer)).toBe(false);
    expect(pool.parkedBytes).toBe(parked - again.reduce((n, x) => n + x.buffer.byteLength, 0));
  });

  it('a buffer given back twice is parked once (never handed out to two owners)', () => {
    const pool = new BufferPool();
    const a = pool.take(10_000, false);
    pool.scope(() => { void a; });
    pool.give(a);
    pool.give(a);
    const x = pool.take(10_000, false), y = pool.take(10_000, false);
    expect(x.buffer).toBe(a.buffer);
    expect(y.buffer).not.toBe(a.buffer);
  });
});
