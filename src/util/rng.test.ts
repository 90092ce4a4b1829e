import { describe, expect, it } from 'vitest';
import { Rng } from './rng.ts';

describe('Rng (xoshiro128**)', () => {
  it('matches the reference outputs for state [1, 2, 3, 4]', () => {
    const rng = Rng.fromState([1, 2, 3, 4]);
    // from the reference C implementation: rotl(2 * 5, 7) * 9 = 11520, then 0
    expect([rng.nextUint32(), rng.nextUint32(), rng.nextUint32()]).toEqual([11520, 0, 5927040]);
  });

  it('same seed ⇒ same stream; different seed ⇒ different stream', () => {
    const a = new Rng(7), b = new Rng(7), c = new Rng(8);
    const xs = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(xs);
  });

  it('saves and restores its state exactly (JSON round trip)', () => {
    const rng = new Rng(123);
    rng.next();
    const saved = JSON.parse(JSON.stringify(rng.state())) as number[];
    const ahead = [rng.next(), rng.int(10), rng.pick(['a', 'b', 'c'])];
    const again = Rng.fromState(saved);
    expect([again.next(), again.int(10), again.pick(['a', 'b', 'c'])]).toEqual(ahead);
  });

  it('int(n) is in range and roughly uniform; next() in [0, 1)', () => {
    const rng = new Rng(1);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60000; i++) counts[rng.int(6)]!++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(400);
    for (let i = 0; i < 1000; i++) {
      const x = rng.next();
      expect(x >= 0 && x < 1).toBe(true);
    }
  });

  it('shuffle is a permutation; fork gives an independent stream', () => {
    const rng = new Rng(5);
    const arr = Array.from({ length: 50 }, (_, i) => i);
    const sh = rng.shuffle([...arr]);
    expect([...sh].sort((x, y) => x - y)).toEqual(arr);
    expect(sh).not.toEqual(arr);
    const f = rng.fork();
    expect(f.state()).not.toEqual(rng.state());
  });

  it('rejects bad states and arguments', () => {
    expect(() => Rng.fromState([0, 0, 0, 0])).toThrow(RangeError);
    expect(() => Rng.fromState([1, 2, 3])).toThrow(RangeError);
    expect(() => new Rng(1).int(0)).toThrow(RangeError);
    expect(() => new Rng(1).pick([])).toThrow(RangeError);
  });
});
