/**
 * A small seeded PRNG: xoshiro128** (Blackman & Vigna), 32-bit state words, seeded through
 * splitmix32 so that nearby seeds give unrelated streams. Library code never calls
 * Math.random(); it takes an Rng. The whole state is four uint32 numbers, so a trainer can
 * save it with a checkpoint and resume the exact stream:
 *
 *   const rng = new Rng(42);
 *   const saved = rng.state();      // [a, b, c, d]
 *   rng.next(); rng.next();
 *   const again = Rng.fromState(saved);  // replays the same two numbers
 */
export type RngState = [number, number, number, number];

export class Rng {
  #s: Uint32Array = new Uint32Array(4);

  constructor(seed = 0) {
    if (!Number.isFinite(seed)) throw new RangeError(`Rng seed must be a finite number, got ${seed}`);
    // splitmix32 over the seed (two 32-bit halves mixed in, so seeds above 2^32 differ too)
    let x = (Math.floor(seed) >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) >>> 0, 0x9e3779b9);
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.#s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.#s[0] | this.#s[1] | this.#s[2] | this.#s[3]) === 0) this.#s[0] = 1;
  }

  static fromState(state: readonly number[]): Rng {
    if (state.length !== 4 || state.some((v) => !Number.isInteger(v) || v < 0 || v > 0xffffffff)) {
      throw new RangeError('Rng state must be four uint32 numbers');
    }
    if (state.every((v) => v === 0)) throw new RangeError('Rng state must not be all zero');
    const rng = new Rng(0);
    rng.#s.set(state);
    return rng;
  }

  /** Restores a saved state in place (holders of this generator see the restored stream). */
  setState(state: readonly number[]): void {
    this.#s.set(Rng.fromState(state).#s);
  }

  /** The state as plain numbers (JSON-safe); `Rng.fromState` restores it. */
  state(): RngState {
    const s = this.#s;
    return [s[0], s[1], s[2], s[3]];
  }

  /** Next uint32. */
  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextUint32() / 2 ** 32;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) throw new RangeError(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(arr: readonly T[]): T {
    if (arr.length === 0) throw new RangeError('Rng.pick: empty array');
    return arr[this.int(arr.length)]!;
  }

  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T>(arr: T[]): T[] {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i]!;
      arr[i] = arr[j]!;
      arr[j] = tmp;
    }
    return arr;
  }

  /** Standard normal (Box–Muller), for weight init. */
  normal(): number {
    let u = this.next();
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** An independent generator derived from this one's stream (for sub-tasks). */
  fork(): Rng {
    return Rng.fromState([this.nextUint32() | 1, this.nextUint32(), this.nextUint32(), this.nextUint32()].map((v) => v >>> 0));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
