/** Number formatting shared by the Markdown and HTML reports: one look for every table. */

const DASH = '—';
const ok = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

/** Accuracy-like share in [0, 1], 3 decimals: 0.875. */
export const acc = (x: number | null | undefined): string => (ok(x) ? x.toFixed(3) : DASH);

/** Signed percentage, for drift: +1.23%, −0.40%; one decimal from 10%: +180.0%. */
export function pct(x: number | null | undefined, digits = Math.abs(x ?? 0) >= 0.1 ? 1 : 2): string {
  if (!ok(x)) return DASH;
  const s = (Math.abs(x) * 100).toFixed(digits);
  if (Number(s) === 0) return `${(0).toFixed(digits)}%`;
  return `${x < 0 ? '−' : '+'}${s}%`;
}

/** Unsigned percentage, for shares and bounds: 5%, 0.39%. */
export function share(x: number | null | undefined, digits = 2): string {
  if (!ok(x)) return DASH;
  return `${Number((x * 100).toFixed(digits))}%`;
}

/** Signed difference of two accuracies: +0.375. */
export const delta = (x: number): string => (x === 0 ? '±0.000' : `${x > 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`);

/** Perplexity / loss: 4 significant digits. */
export const num = (x: number | null | undefined): string => (ok(x) ? Number(x.toPrecision(4)).toString() : DASH);

/** Integer with thousands separators: 1,234,567. */
export const int = (x: number | null | undefined): string =>
  ok(x) ? Math.round(x).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',') : DASH;

/** Learning rate: 1e-4, 3e-5. */
export const lr = (x: number | null | undefined): string =>
  ok(x) ? (x === 0 ? '0' : x.toExponential().replace(/\.?0*e\+?/, 'e')) : DASH;

/** Duration: 42.1 s, 3 min 05 s, 1 h 02 min. */
export function seconds(x: number | null | undefined): string {
  if (!ok(x)) return DASH;
  if (x < 60) return `${x.toFixed(1)} s`;
  const s = Math.round(x);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** A plain number as given (replay share, λ, rank): 0.05, 0, 8. */
export const plain = (x: number | null | undefined): string => (ok(x) ? String(Number(x.toPrecision(6))) : DASH);
