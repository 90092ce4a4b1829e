/**
 * Held-out combinations. A fixed eighth of the (verb, subject, complement, adverbial-slot)
 * combinations is reserved for probes: no training text (pretraining, SFT) uses them in any tense
 * or polarity, and every probe sentence is built from them. The choice is a fixed hash, the same
 * for every seed, so probe files from any seed stay disjoint from training text from any seed.
 * The held-out combinations are split again, by another bit of the same hash, into a dev half
 * (read by everything that selects) and a test half (what is reported): no sentence, and no
 * combination, is in both.
 */

export const HELD_OUT_MODULUS = 8;

/** murmur3 fmix32 over the four indices. */
function hash4(a: number, b: number, c: number, d: number): number {
  let h = 0x2545f491;
  for (const x of [a, b, c, d]) {
    h = Math.imul(h ^ x, 0x9e3779b1);
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function isHeldOut(verb: number, subject: number, complement: number, adverbial: number): boolean {
  return hash4(verb, subject, complement, adverbial) % HELD_OUT_MODULUS === 0;
}

/** Which pool a combination belongs to: training text, or the dev or test half of the probes. */
export type Pool = 'train' | 'dev' | 'test';

export function poolOf(verb: number, subject: number, complement: number, adverbial: number): Pool {
  const h = hash4(verb, subject, complement, adverbial);
  if (h % HELD_OUT_MODULUS !== 0) return 'train';
  return ((h >>> 3) & 1) === 0 ? 'dev' : 'test';
}
