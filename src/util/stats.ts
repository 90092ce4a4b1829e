/**
 * Small statistics for putting uncertainty on every compared number: standard errors, mean ± sd
 * over seeds, a paired bootstrap for control-perplexity drift, paired tests for per-item scores,
 * a Wilson interval for one proportion, and a three-way verdict of an interval against a bound.
 *
 * Pure functions, no dependencies. Randomness (the bootstraps) only through an explicit seeded
 * `Rng`, so the same seed gives the same interval. Inputs must be finite numbers; a non-finite
 * value throws a RangeError rather than turning into a silent NaN. Sample statistics that need
 * two points (sd, standard error) are NaN for n < 2.
 */
import type { Rng } from './rng.ts';

// ---------------------------------------------------------------------------------------------
// Basic summaries
// ---------------------------------------------------------------------------------------------

/** Arithmetic mean, x̄ = Σxᵢ / n. NaN for an empty array. */
export function mean(xs: readonly number[]): number {
  checkFinite(xs, 'mean');
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/**
 * Sample standard deviation with Bessel's correction (ddof = 1):
 * s = sqrt( Σ(xᵢ − x̄)² / (n − 1) ). Two-pass, so large offsets do not cancel. NaN for n < 2.
 */
export function sampleSd(xs: readonly number[]): number {
  const m = mean(xs);
  if (xs.length < 2) return NaN;
  let ss = 0;
  for (const x of xs) ss += (x - m) * (x - m);
  return Math.sqrt(ss / (xs.length - 1));
}

export interface MeanStderr {
  n: number;
  mean: number;
  /** Standard error of the mean, s / √n (NaN for n < 2). */
  se: number;
}

/**
 * Mean and its standard error exactly as lm-evaluation-harness reports `acc_stderr`
 * (`mean_stderr(arr) = sample_stddev(arr) / sqrt(len(arr))`, sample sd with ddof = 1):
 *
 *   se = s / √n,  s² = Σ(xᵢ − x̄)² / (n − 1).
 *
 * For a 0/1 accuracy vector with p = x̄ this is se = sqrt( p(1 − p) / (n − 1) ).
 * n < 2 → se = NaN (n = 0 → mean NaN too).
 */
export function meanStderr(xs: readonly number[]): MeanStderr {
  const n = xs.length;
  return { n, mean: mean(xs), se: n < 2 ? NaN : sampleSd(xs) / Math.sqrt(n) };
}

export interface MeanSd {
  n: number;
  mean: number;
  /** Sample standard deviation, ddof = 1 (NaN for n < 2). */
  sd: number;
}

/**
 * Mean and sample standard deviation (ddof = 1), for "mean ± sd over seeds":
 * x̄ = Σxᵢ / n,  s = sqrt( Σ(xᵢ − x̄)² / (n − 1) ). n < 2 → sd = NaN.
 */
export function meanSd(xs: readonly number[]): MeanSd {
  return { n: xs.length, mean: mean(xs), sd: sampleSd(xs) };
}

/**
 * Quantile of an ascending-sorted sample by linear interpolation between order statistics
 * (Hyndman–Fan type 7, numpy's default): h = (m − 1)·q, Q = x₍⌊h⌋₎ + (h − ⌊h⌋)(x₍⌊h⌋+1₎ − x₍⌊h⌋₎)
 * with 0-based order statistics. The input must already be sorted ascending.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantileSorted: q must be in [0, 1], got ${q}`);
  const m = sorted.length;
  if (m === 0) return NaN;
  const h = (m - 1) * q;
  const i = Math.floor(h);
  if (i >= m - 1) return sorted[m - 1]!;
  return sorted[i]! + (h - i) * (sorted[i + 1]! - sorted[i]!);
}

/** A distribution-free interval for a median (medianInterval). */
export interface MedianInterval {
  median: number;
  lo: number;
  hi: number;
  /** Its exact coverage for a continuous distribution: 1 − 2·P(Bin(n, ½) ≤ j − 1) ≥ the level asked. */
  coverage: number;
  n: number;
}

/**
 * The sample median (the mean of the two middle values for an even n) and a distribution-free
 * interval for the population median from the order statistics: [x₍ⱼ₎, x₍ₙ₋ⱼ₊₁₎] (1-based) with
 * j the largest such that P(Bin(n, ½) ≤ j − 1) ≤ (1 − level)/2 — the sign test's interval,
 * valid for independent draws of any continuous distribution. null when n is too small for
 * the level (at 0.95: n < 6, where even [min, max] covers less).
 */
export function medianInterval(xs: readonly number[], level = 0.95): MedianInterval | null {
  if (!(level > 0 && level < 1)) throw new RangeError(`medianInterval: level must be in (0, 1), got ${level}`);
  for (const x of xs) if (!Number.isFinite(x)) throw new RangeError(`medianInterval: values must be finite, got ${x}`);
  const n = xs.length;
  const sorted = [...xs].sort((a, b) => a - b);
  // cdf[i] = P(Bin(n, ½) ≤ i), summed in log space
  const cdf: number[] = [];
  let logPmf = -n * Math.LN2, logCdf = logPmf;
  for (let i = 0; i <= n; i++) {
    if (i > 0) { logPmf += Math.log((n - i + 1) / i); logCdf = logAddExp(logCdf, logPmf); }
    cdf.push(Math.exp(logCdf));
  }
  let j = 0;
  while (j + 1 <= (n + 1) / 2 && cdf[j]! <= (1 - level) / 2) j++;
  if (j === 0) return null;
  return { median: quantileSorted(sorted, 0.5), lo: sorted[j - 1]!, hi: sorted[n - j]!, coverage: 1 - 2 * cdf[j - 1]!, n };
}

// ---------------------------------------------------------------------------------------------
// Control-perplexity drift with a paired bootstrap
// ---------------------------------------------------------------------------------------------

/** One evaluated item: summed negative log-likelihood (nats) over its scored tokens, and their count. */
export interface NllTokens {
  nll: number;
  tokens: number;
}

/** Token-weighted perplexity PPL = exp( Σ nllᵢ / Σ tokensᵢ ). */
export function perplexity(items: readonly NllTokens[]): number {
  let s = 0, t = 0;
  for (const it of items) {
    checkItem(it, 'perplexity');
    s += it.nll;
    t += it.tokens;
  }
  if (!(t > 0)) throw new RangeError('perplexity: total token count must be > 0');
  return Math.exp(s / t);
}

export interface BootstrapOptions {
  /** Seeded generator; the only source of randomness. */
  rng: Rng;
  /** Bootstrap replicates (default 2000). */
  B?: number;
  /** Two-sided confidence level of the percentile interval (default 0.95). */
  level?: number;
}

export interface DriftOptions extends BootstrapOptions {
  /**
   * The same control item scored before and after must have the same token count; a mismatch
   * usually means the arrays are not aligned item by item, so it throws unless this is true
   * (e.g. after a tokenizer change).
   */
  allowTokenMismatch?: boolean;
}

export interface DriftInterval {
  n: number;
  pplBefore: number;
  pplAfter: number;
  /** Point estimate PPL_after / PPL_before − 1 on the full sample. */
  drift: number;
  /** Percentile bootstrap interval [lo, hi] at `level`. */
  lo: number;
  hi: number;
  /** Bootstrap standard error: sample sd (ddof 1) of the B replicate drifts. */
  se: number;
  level: number;
  B: number;
}

/**
 * Control-perplexity drift with a paired bootstrap interval.
 *
 * `before[i]` and `after[i]` are the same control item scored by the model before and after
 * fine-tuning. With token-weighted perplexity PPL = exp(Σnll / Σtokens),
 *
 *   drift = PPL_after / PPL_before − 1 = exp( Σnllᵃ/Σtᵃ − Σnllᵇ/Σtᵇ ) − 1.
 *
 * Bootstrap: B times, draw n item indices with replacement and recompute the drift using the
 * same indices for before and after (paired: the item-difficulty variance shared by both
 * cancels). The interval is the percentile interval [Q((1−level)/2), Q((1+level)/2)] of the
 * replicates (type-7 quantiles); `se` is their sample sd.
 */
export function pairedBootstrapDrift(
  before: readonly NllTokens[],
  after: readonly NllTokens[],
  opts: DriftOptions,
): DriftInterval {
  return seedsBootstrapDrift(before, [after], opts);
}

/**
 * Drift of a fine-tune run with several seeds, each scored on the same control items: the point
 * estimate is the mean of the seeds' drifts, and each bootstrap replicate resamples the items
 * (the same indices for the base and every seed: paired) and, with more than one seed, the seeds
 * too — so the interval carries both the item sampling and the seed-to-seed variation. With one
 * seed this is exactly pairedBootstrapDrift. `pplAfter` is the first seed's.
 */
export function seedsBootstrapDrift(
  before: readonly NllTokens[],
  afters: readonly (readonly NllTokens[])[],
  opts: DriftOptions,
): DriftInterval {
  const { rng, B, level } = bootstrapParams(opts, 'pairedBootstrapDrift');
  const n = before.length, S = afters.length;
  if (S === 0) throw new RangeError('pairedBootstrapDrift: no runs after');
  if (n === 0) throw new RangeError('pairedBootstrapDrift: no items');
  const nb = new Float64Array(n), tb = new Float64Array(n);
  const na = afters.map(() => new Float64Array(n)), ta = afters.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) { checkItem(before[i]!, 'pairedBootstrapDrift'); nb[i] = before[i]!.nll; tb[i] = before[i]!.tokens; }
  afters.forEach((after, s) => {
    if (after.length !== n) throw new RangeError(`pairedBootstrapDrift: before has ${n} items, after has ${after.length}`);
    for (let i = 0; i < n; i++) {
      const a = after[i]!;
      checkItem(a, 'pairedBootstrapDrift');
      if (!opts.allowTokenMismatch && tb[i] !== a.tokens) {
        throw new RangeError(`pairedBootstrapDrift: item ${i} has ${tb[i]} tokens before and ${a.tokens} after (misaligned?)`);
      }
      na[s]![i] = a.nll; ta[s]![i] = a.tokens;
    }
  });
  const pplBefore = perplexity(before), pplAfter = perplexity(afters[0]!);
  let drift = 0;
  for (let s = 0; s < S; s++) drift += driftOf(nb, tb, na[s]!, ta[s]!, null) / S;

  const reps = new Float64Array(B);
  const idx = new Uint32Array(n);
  for (let r = 0; r < B; r++) {
    for (let j = 0; j < n; j++) idx[j] = rng.int(n);
    let sum = 0;
    for (let k = 0; k < S; k++) {
      const s = S === 1 ? 0 : rng.int(S);
      sum += driftOf(nb, tb, na[s]!, ta[s]!, idx);
    }
    reps[r] = sum / S;
  }
  return { n, pplBefore, pplAfter, drift, ...percentileInterval(reps, level), level, B };
}

/** exp(Σnllᵃ/Σtᵃ − Σnllᵇ/Σtᵇ) − 1 over all items, or over the multiset `idx`. */
function driftOf(nb: Float64Array, tb: Float64Array, na: Float64Array, ta: Float64Array, idx: Uint32Array | null): number {
  let sb = 0, stb = 0, sa = 0, sta = 0;
  const m = idx ? idx.length : nb.length;
  for (let j = 0; j < m; j++) {
    const i = idx ? idx[j]! : j;
    sb += nb[i]!; stb += tb[i]!; sa += na[i]!; sta += ta[i]!;
  }
  return Math.expm1(sa / sta - sb / stb);
}

// ---------------------------------------------------------------------------------------------
// Paired comparison of per-item scores
// ---------------------------------------------------------------------------------------------

export interface PairedDiff {
  n: number;
  /** mean(a) − mean(b) = mean of dᵢ = aᵢ − bᵢ. */
  diff: number;
  /** sd(d) / √n, sample sd with ddof 1 (NaN for n < 2). */
  se: number;
  /** Paired percentile bootstrap interval of the mean difference at `level`. */
  lo: number;
  hi: number;
  level: number;
  B: number;
  /** Two-sided p-value for H₀: E[a − b] = 0, from `test`. */
  p: number;
  /**
   * 'mcnemar-exact' when every aᵢ and bᵢ is 0 or 1; 'paired-t' otherwise.
   */
  test: 'mcnemar-exact' | 'paired-t';
  /** Test statistic: the t statistic for 'paired-t'; for McNemar, the discordant count n₁₀ (a right, b wrong). */
  statistic: number;
  /** Discordant pairs (0/1 data only): aOnly = #(aᵢ=1, bᵢ=0), bOnly = #(aᵢ=0, bᵢ=1). */
  discordant?: { aOnly: number; bOnly: number };
}

/**
 * Difference of means of two paired per-item score vectors (e.g. 0/1 accuracy of the same probe
 * items under two models), with dᵢ = aᵢ − bᵢ:
 *
 *   diff = d̄,   se = s_d / √n,   CI = paired percentile bootstrap of d̄ (resample items).
 *
 * p-value (two-sided), chosen by the data:
 * - all values in {0, 1} → exact McNemar test: with n₁₀ = #(a=1,b=0), n₀₁ = #(a=0,b=1),
 *   m = n₁₀ + n₀₁, under H₀ n₁₀ ~ Binomial(m, ½) and
 *   p = min(1, 2·P(X ≤ min(n₁₀, n₀₁))) = min(1, 2·Σ_{k≤min} C(m,k)/2ᵐ); p = 1 when m = 0.
 *   Concordant pairs carry no information about the difference and do not enter.
 * - otherwise → paired t-test: t = d̄ / (s_d/√n) with n − 1 degrees of freedom,
 *   p = 2·P(T_{n−1} ≥ |t|) = I_{ν/(ν+t²)}(ν/2, ½). NaN for n < 2; when s_d = 0, p = 1 if d̄ = 0
 *   else 0.
 */
export function pairedDiff(a: readonly number[], b: readonly number[], opts: BootstrapOptions): PairedDiff {
  const { rng, B, level } = bootstrapParams(opts, 'pairedDiff');
  const n = a.length;
  if (b.length !== n) throw new RangeError(`pairedDiff: a has ${n} items, b has ${b.length}`);
  if (n === 0) throw new RangeError('pairedDiff: no items');
  checkFinite(a, 'pairedDiff');
  checkFinite(b, 'pairedDiff');
  const d = new Float64Array(n);
  let binary = true, aOnly = 0, bOnly = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]!, y = b[i]!;
    d[i] = x - y;
    if ((x !== 0 && x !== 1) || (y !== 0 && y !== 1)) binary = false;
    else if (x === 1 && y === 0) aOnly++;
    else if (x === 0 && y === 1) bOnly++;
  }
  const ds = Array.from(d);
  const { mean: diff, se } = meanStderr(ds);

  const reps = new Float64Array(B);
  for (let r = 0; r < B; r++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += d[rng.int(n)]!;
    reps[r] = s / n;
  }
  const { lo, hi } = percentileInterval(reps, level);

  if (binary) {
    return { n, diff, se, lo, hi, level, B, p: mcnemarExactP(aOnly, bOnly), test: 'mcnemar-exact', statistic: aOnly, discordant: { aOnly, bOnly } };
  }
  let t: number, p: number;
  if (n < 2) {
    t = NaN; p = NaN;
  } else if (se === 0) {
    t = diff === 0 ? 0 : Math.sign(diff) * Infinity;
    p = diff === 0 ? 1 : 0;
  } else {
    t = diff / se;
    p = studentTTwoSidedP(t, n - 1);
  }
  return { n, diff, se, lo, hi, level, B, p, test: 'paired-t', statistic: t };
}

/**
 * Exact two-sided McNemar p-value from the discordant counts n₁₀ and n₀₁:
 * m = n₁₀ + n₀₁, p = min(1, 2·Σ_{k=0}^{min(n₁₀,n₀₁)} C(m, k)·2⁻ᵐ); 1 when m = 0.
 * Summed in log space, so large m does not underflow.
 */
export function mcnemarExactP(n10: number, n01: number): number {
  for (const [name, v] of [['n10', n10], ['n01', n01]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`mcnemarExactP: ${name} must be a non-negative integer, got ${v}`);
  }
  const m = n10 + n01;
  if (m === 0) return 1;
  const k = Math.min(n10, n01);
  // log pmf(0) = −m ln 2; log pmf(j) = log pmf(j−1) + ln((m − j + 1)/j)
  let logPmf = -m * Math.LN2;
  let logCdf = logPmf;
  for (let j = 1; j <= k; j++) {
    logPmf += Math.log((m - j + 1) / j);
    logCdf = logAddExp(logCdf, logPmf);
  }
  return Math.min(1, 2 * Math.exp(logCdf));
}

/**
 * Two-sided Student-t p-value: p = 2·P(T_ν ≥ |t|) = I_x(ν/2, ½) with x = ν / (ν + t²),
 * I the regularized incomplete beta function.
 */
export function studentTTwoSidedP(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`studentTTwoSidedP: df must be > 0, got ${df}`);
  if (Number.isNaN(t)) return NaN;
  if (!Number.isFinite(t)) return 0;
  return regIncBeta(df / (df + t * t), df / 2, 0.5);
}

// ---------------------------------------------------------------------------------------------
// One proportion, and verdicts
// ---------------------------------------------------------------------------------------------

/**
 * Wilson score interval for k successes out of n at two-sided `level` (default 0.95), z = Φ⁻¹((1+level)/2):
 *
 *   centre = (p̂ + z²/2n) / (1 + z²/n),  half = z·sqrt( p̂(1−p̂)/n + z²/4n² ) / (1 + z²/n).
 *
 * Unlike p̂ ± z·se it stays inside [0, 1] and is not degenerate at k = 0 or k = n.
 */
export function wilson(k: number, n: number, level = 0.95): [number, number] {
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`wilson: n must be a positive integer, got ${n}`);
  if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`wilson: k must be an integer in [0, n], got ${k}`);
  checkLevel(level, 'wilson');
  const z = normalQuantile((1 + level) / 2);
  const p = k / n, z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return [k === 0 ? 0 : Math.max(0, centre - half), k === n ? 1 : Math.min(1, centre + half)];
}

export type Verdict = 'within' | 'exceeds' | 'straddles';

/**
 * Three-way verdict of an interval [lo, hi] against an upper bound:
 * 'within' if hi ≤ bound (the whole interval is at or under it), 'exceeds' if lo > bound (the
 * whole interval is over it), 'straddles' otherwise (the data cannot tell). An interval with a
 * NaN end (e.g. too few items) is 'straddles': inconclusive, never a pass.
 */
export function boundVerdict(ci: readonly [number, number], bound: number): Verdict {
  const [lo, hi] = ci;
  if (Number.isNaN(bound)) throw new RangeError('boundVerdict: bound is NaN');
  if (lo > hi) throw new RangeError(`boundVerdict: interval [${lo}, ${hi}] has lo > hi`);
  if (hi <= bound) return 'within';
  if (lo > bound) return 'exceeds';
  return 'straddles';
}

// ---------------------------------------------------------------------------------------------
// Special functions
// ---------------------------------------------------------------------------------------------

/**
 * Standard normal quantile Φ⁻¹(p), Acklam's rational approximation (relative error < 1.2e-9).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    throw new RangeError(`normalQuantile: p must be in [0, 1], got ${p}`);
  }
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - pLow) return -normalQuantile(1 - p);
  const q = p - 0.5, r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; ~1e-15 relative). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma: x must be > 0, got ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const g = 7;
  const coef = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  const y = x - 1;
  let s = coef[0]!;
  for (let i = 1; i < g + 2; i++) s += coef[i]! / (y + i);
  const t = y + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(s);
}

/**
 * Regularized incomplete beta I_x(a, b) = B(x; a, b) / B(a, b), by the continued fraction
 * (modified Lentz), using the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) where it converges faster.
 */
export function regIncBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`regIncBeta: a, b must be > 0, got ${a}, ${b}`);
  if (!(x >= 0 && x <= 1)) throw new RangeError(`regIncBeta: x must be in [0, 1], got ${x}`);
  if (x === 0) return 0;
  if (x === 1) return 1;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(lnFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300, eps = 1e-15;
  const qab = a + b, qap = a + 1, qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < eps) return h;
  }
  return h; // not reached for the arguments used here
}

// ---------------------------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------------------------

/** Percentile interval and sd of bootstrap replicates (sorts `reps` in place). */
function percentileInterval(reps: Float64Array, level: number): { lo: number; hi: number; se: number } {
  const se = reps.length < 2 ? NaN : sampleSd(Array.from(reps));
  reps.sort();
  const alpha = (1 - level) / 2;
  return { lo: quantileSorted(reps, alpha), hi: quantileSorted(reps, 1 - alpha), se };
}

function bootstrapParams(opts: BootstrapOptions, fn: string): { rng: Rng; B: number; level: number } {
  const B = opts.B ?? 2000, level = opts.level ?? 0.95;
  if (!opts.rng) throw new TypeError(`${fn}: opts.rng (a seeded Rng) is required`);
  if (!Number.isInteger(B) || B < 1) throw new RangeError(`${fn}: B must be a positive integer, got ${B}`);
  checkLevel(level, fn);
  return { rng: opts.rng, B, level };
}

function checkLevel(level: number, fn: string): void {
  if (!(level > 0 && level < 1)) throw new RangeError(`${fn}: level must be in (0, 1), got ${level}`);
}

function checkFinite(xs: readonly number[], fn: string): void {
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i])) throw new RangeError(`${fn}: value ${i} is not finite (${xs[i]})`);
  }
}

function checkItem(it: NllTokens, fn: string): void {
  if (!Number.isFinite(it.nll)) throw new RangeError(`${fn}: nll is not finite (${it.nll})`);
  if (!Number.isFinite(it.tokens) || it.tokens < 0) throw new RangeError(`${fn}: tokens must be a finite count ≥ 0, got ${it.tokens}`);
}

function logAddExp(x: number, y: number): number {
  const m = Math.max(x, y);
  return m + Math.log(Math.exp(x - m) + Math.exp(y - m));
}
