/**
 * Greedy label placement for a labelled scatter (vega-lite has no label-collision layout): each
 * label takes the spot around its point, of ten, that stays inside the plot and covers least of
 * the marks and the labels placed before it (the earliest spot on a tie).
 */

export interface Spot { align: 'left' | 'right' | 'center'; dx: number; dy: number }

/** Right of the point, left of it, above, below, then farther out: first free one wins. */
export const SPOTS: readonly Spot[] = [
  { align: 'left', dx: 8, dy: -9 },
  { align: 'left', dx: 8, dy: 13 },
  { align: 'right', dx: -8, dy: -9 },
  { align: 'right', dx: -8, dy: 13 },
  { align: 'center', dx: 0, dy: -16 },
  { align: 'center', dx: 0, dy: 18 },
  { align: 'left', dx: 8, dy: -24 },
  { align: 'right', dx: -8, dy: -24 },
  { align: 'left', dx: 8, dy: 28 },
  { align: 'right', dx: -8, dy: 28 },
];

/** Rough width of a label in px at 11px sans-serif (no canvas to measure with). */
const textWidth = (t: string) => 6.4 * t.length;
const LINE = 13;

export interface Box { x0: number; x1: number; y0: number; y1: number }
const overlap = (a: Box, b: Box) => Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0)) * Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));

/** Points in pixels (origin top-left) → index into SPOTS for each, in input order; obstacles are other marks. */
export function placeLabels(points: readonly { px: number; py: number; text: string }[], width: number, height: number, obstacles: readonly Box[] = []): number[] {
  const placed: Box[] = [...obstacles, ...points.map((p) => ({ x0: p.px - 6, x1: p.px + 6, y0: p.py - 6, y1: p.py + 6 }))]; // the marks themselves
  return points.map((p) => {
    const w = textWidth(p.text);
    const boxOf = (s: Spot): Box => {
      const x0 = p.px + s.dx - (s.align === 'left' ? 0 : s.align === 'right' ? w : w / 2);
      const yMid = p.py + s.dy;                                          // baseline 'middle'
      return { x0, x1: x0 + w, y0: yMid - LINE / 2, y1: yMid + LINE / 2 };
    };
    const fits = (b: Box) => b.x0 >= 0 && b.x1 <= width && b.y0 >= -4 && b.y1 <= height + 4;
    // cost: area covered of other labels and marks; a spot outside the plot only as a last resort
    const cost = (b: Box) => placed.reduce((t, q) => t + overlap(b, q), 0) + (fits(b) ? 0 : 1e6);
    let pick = 0, best = Infinity;
    SPOTS.forEach((s, i) => { const c = cost(boxOf(s)); if (c < best) { best = c; pick = i; } });
    placed.push(boxOf(SPOTS[pick]!));
    return pick;
  });
}
