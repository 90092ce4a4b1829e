import { describe, expect, it } from 'vitest';
import { acc, delta, int, lr, num, pct, seconds, share } from './format.ts';
import { placeLabels, SPOTS } from './labels.ts';

describe('format', () => {
  it('formats the report numbers', () => {
    expect([acc(0.9125), acc(1), acc(NaN), acc(undefined)]).toEqual(['0.912', '1.000', '—', '—']);
    expect([pct(0.021), pct(-0.004), pct(0), pct(-0.00001), pct(1.8), pct(0.07)]).toEqual(['+2.10%', '−0.40%', '0.00%', '0.00%', '+180.0%', '+7.00%']);
    expect([share(0.05), share(8 / 96), share(0.015132, 3)]).toEqual(['5%', '8.33%', '1.513%']);
    expect([delta(0.5), delta(-0.0625), delta(0)]).toEqual(['+0.500', '−0.063', '±0.000']);
    expect([int(812000), int(12), int(1234567.6)]).toEqual(['812,000', '12', '1,234,568']);
    expect([lr(1e-4), lr(3e-5), lr(2.5e-4), lr(0)]).toEqual(['1e-4', '3e-5', '2.5e-4', '0']);
    expect([num(12.4567), num(35), num(1.6200001)]).toEqual(['12.46', '35', '1.62']);
    expect([seconds(41.52), seconds(312.4), seconds(3725)]).toEqual(['41.5 s', '5 min 12 s', '1 h 02 min']);
  });
});

describe('placeLabels', () => {
  it('moves a label off a neighbour and away from the right edge', () => {
    const spots = placeLabels([
      { px: 100, py: 100, text: 'lora-default' },
      { px: 104, py: 104, text: 'lora-anchor' },   // would overlap the first label's default spot
      { px: 475, py: 50, text: 'full-aggressive' }, // near the right edge
    ], 480, 250);
    expect(SPOTS[spots[0]!]).toEqual(SPOTS[0]);
    expect(spots[1]).not.toBe(0);
    expect(SPOTS[spots[2]!]!.align).toBe('right');
  });
});
