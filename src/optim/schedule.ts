/**
 * Learning rate at optimizer step `step` (0-based: the first update uses step 0).
 *
 * 1. linear warmup: lr = maxLr · (step + 1) / warmup          for step < warmup
 * 2. cosine decay:  lr = minLr + (maxLr − minLr) · ½ (1 + cos(π p)),
 *                   p = (step − warmup) / (total − warmup)     for warmup ≤ step < total
 * 3. past the end:  lr = minLr                                  for step ≥ total
 *
 * So the first update already moves (unlike a warmup that starts at exactly 0), the last
 * warmup step reaches maxLr, and the cosine reaches minLr one step after the last update.
 */
export function lrAt(step: number, s: { maxLr: number; minLr: number; warmup: number; total: number }): number {
  const { maxLr, minLr, warmup, total } = s;
  if (step < warmup) return (maxLr * (step + 1)) / warmup;
  if (step >= total) return minLr;
  const p = (step - warmup) / Math.max(1, total - warmup);
  return minLr + (maxLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * p));
}
