import { describe, expect, it } from 'vitest';
import { Rng } from './rng.ts';
import {
  boundVerdict,
  logGamma,
  mcnemarExactP,
  mean,
  meanSd,
  meanStderr,
  medianInterval,
  normalQuantile,
  pairedBootstrapDrift,
  pairedDiff,
  perplexity,
  quantileSorted,
  regIncBeta,
  sampleSd,
  studentTTwoSidedP,
  wilson,
  type NllTokens,
} from './stats.ts';

describe('meanStderr / meanSd (lm-eval acc_stderr convention)', () => {
  it('matches a hand-computed example with ddof = 1', () => {
    // mean 5, Σ(x−x̄)² = 32, s = sqrt(32/7), se = s/√8 = sqrt(4/7); with ddof 0 it would be 2/√8 = 0.7071
    const xs = [2, 4, 4, 4, 5, 5, 7, 9];
    const r = meanStderr(xs);
    expect(r.n).toBe(8);
    expect(r.mean).toBe(5);
    expect(r.se).toBeCloseTo(Math.sqrt(4 / 7), 14);
    const s = meanSd(xs);
    expect(s.mean).toBe(5);
    expect(s.sd).toBeCloseTo(Math.sqrt(32 / 7), 14);
  });

  it('equals sqrt(p(1−p)/(n−1)) for a 0/1 accuracy vector', () => {
    const xs = [...Array<number>(13).fill(1), ...Array<number>(27).fill(0)];
    const p = 13 / 40;
    const r = meanStderr(xs);
    expect(r.mean).toBeCloseTo(p, 15);
    expect(r.se).toBeCloseTo(Math.sqrt((p * (1 - p)) / 39), 15);
    // and not the population-variance version sqrt(p(1−p)/n)
    expect(Math.abs(r.se - Math.sqrt((p * (1 - p)) / 40))).toBeGreaterThan(5e-4);
  });

  it('is numerically stable with a large offset', () => {
    expect(sampleSd([1e9 + 2, 1e9 + 4, 1e9 + 4, 1e9 + 4, 1e9 + 5, 1e9 + 5, 1e9 + 7, 1e9 + 9])).toBeCloseTo(Math.sqrt(32 / 7), 6);
  });

  it('gives NaN se / sd for n < 2 and rejects non-finite input', () => {
    expect(meanStderr([3])).toEqual({ n: 1, mean: 3, se: NaN });
    expect(meanSd([3])).toEqual({ n: 1, mean: 3, sd: NaN });
    expect(Number.isNaN(meanStderr([]).mean)).toBe(true);
    expect(() => mean([1, NaN])).toThrow(RangeError);
    expect(() => meanSd([1, Infinity])).toThrow(RangeError);
  });

  it('quantileSorted interpolates like numpy (type 7)', () => {
    const xs = [1, 2, 3, 4, 10];
    expect(quantileSorted(xs, 0)).toBe(1);
    expect(quantileSorted(xs, 1)).toBe(10);
    expect(quantileSorted(xs, 0.5)).toBe(3);
    expect(quantileSorted(xs, 0.9)).toBeCloseTo(7.6, 12); // h = 3.6 → 4 + 0.6·6
  });
});

describe('medianInterval (sign-test interval of a median)', () => {
  const xs = (n: number) => Array.from({ length: n }, (_, i) => (i * 7) % n + 0.5);   // a permutation of 0.5 … n − 0.5
  it('takes the binomial order statistics: n 6 → [x1, x6], 10 → [x2, x9], 20 → [x6, x15]', () => {
    for (const [n, j, cov] of [[6, 1, 1 - 2 / 64], [10, 2, 1 - 2 * 11 / 1024], [20, 6, 1 - 2 * 21700 / 1048576]] as const) {
      const r = medianInterval(xs(n))!;
      expect(r.lo).toBe(j - 0.5);
      expect(r.hi).toBe(n - j + 0.5);
      expect(r.coverage).toBeCloseTo(cov, 12);
      expect(r.n).toBe(n);
    }
  });
  it('gives the sample median (the middle pair\'s mean for an even n) and null below 6 values at 95%', () => {
    expect(medianInterval([3, 1, 2, 9, 4, 5, 7])!.median).toBe(4);
    expect(medianInterval([3, 1, 2, 9, 4, 6])!.median).toBe(3.5);
    expect(medianInterval([1, 2, 3, 4, 5])).toBeNull();
    expect(medianInterval([])).toBeNull();
    expect(medianInterval([1, 2, 3, 4, 5], 0.9)).not.toBeNull();
    expect(() => medianInterval([1, NaN])).toThrow(/finite/);
    expect(() => medianInterval([1, 2], 1)).toThrow(/level/);
  });
  it('covers a skewed population\'s median at least at its stated level (simulation)', () => {
    const rng = new Rng(17);
    const trueMedian = Math.LN2;   // Exp(1)
    for (const n of [8, 15, 31]) {
      let hits = 0, cov = 0;
      const reps = 4000;
      for (let r = 0; r < reps; r++) {
        const s = Array.from({ length: n }, () => -Math.log(1 - rng.next()));
        const m = medianInterval(s)!;
        cov = m.coverage;
        if (m.lo <= trueMedian && trueMedian <= m.hi) hits++;
      }
      // binomial sd of the hit rate at reps 4000 is ~0.003
      expect(Math.abs(hits / reps - cov)).toBeLessThan(0.012);
      expect(cov).toBeGreaterThanOrEqual(0.95);
    }
  });
});

describe('pairedBootstrapDrift', () => {
  it('uses token-weighted perplexity for the point estimate', () => {
    const before: NllTokens[] = [{ nll: 10, tokens: 5 }, { nll: 30, tokens: 15 }];
    const after: NllTokens[] = [{ nll: 12, tokens: 5 }, { nll: 33, tokens: 15 }];
    const r = pairedBootstrapDrift(before, after, { rng: new Rng(1), B: 50 });
    expect(r.pplBefore).toBeCloseTo(Math.exp(2), 12);
    expect(r.pplAfter).toBeCloseTo(Math.exp(2.25), 12);
    expect(r.drift).toBeCloseTo(Math.expm1(0.25), 14);
    // per-item averaging would give a different number
    const perItem = (Math.exp(12 / 5) / Math.exp(2) + Math.exp(33 / 15) / Math.exp(2)) / 2 - 1;
    expect(Math.abs(r.drift - perItem)).toBeGreaterThan(1e-2);
    expect(perplexity(before)).toBeCloseTo(Math.exp(2), 12);
  });

  it('is paired: a uniform per-token shift gives a zero-width interval at the true drift', () => {
    const rng = new Rng(5);
    const before: NllTokens[] = Array.from({ length: 60 }, () => {
      const tokens = 5 + rng.int(11);
      return { nll: tokens * (2 + rng.next()), tokens };
    });
    const after = before.map((x) => ({ nll: x.nll + 0.1 * x.tokens, tokens: x.tokens }));
    const r = pairedBootstrapDrift(before, after, { rng: new Rng(9), B: 300 });
    expect(r.drift).toBeCloseTo(Math.expm1(0.1), 12);
    expect(r.lo).toBeCloseTo(Math.expm1(0.1), 12);
    expect(r.hi).toBeCloseTo(Math.expm1(0.1), 12);
    expect(r.se).toBeLessThan(1e-12);
  });

  it('is deterministic: same seed ⇒ identical interval; another seed ⇒ a different one', () => {
    const pop = makePopulation(new Rng(3), 500);
    const before = pop.before.slice(0, 100), after = pop.after.slice(0, 100);
    const r1 = pairedBootstrapDrift(before, after, { rng: new Rng(42), B: 400 });
    const r2 = pairedBootstrapDrift(before, after, { rng: new Rng(42), B: 400 });
    const r3 = pairedBootstrapDrift(before, after, { rng: new Rng(43), B: 400 });
    expect(r2).toEqual(r1);
    expect(r3.drift).toBe(r1.drift);
    expect(r3.lo).not.toBe(r1.lo);
    expect(r1.lo).toBeLessThan(r1.drift);
    expect(r1.hi).toBeGreaterThan(r1.drift);
  });

  it('rejects misaligned inputs', () => {
    const a = [{ nll: 10, tokens: 5 }];
    expect(() => pairedBootstrapDrift(a, [], { rng: new Rng(1) })).toThrow(RangeError);
    expect(() => pairedBootstrapDrift(a, [{ nll: 10, tokens: 6 }], { rng: new Rng(1) })).toThrow(/misaligned/);
    expect(() => pairedBootstrapDrift(a, [{ nll: 10, tokens: 6 }], { rng: new Rng(1), B: 10, allowTokenMismatch: true })).not.toThrow();
    expect(() => pairedBootstrapDrift(a, [{ nll: NaN, tokens: 5 }], { rng: new Rng(1) })).toThrow(RangeError);
    expect(() => pairedBootstrapDrift(a, a, { rng: new Rng(1), level: 1 })).toThrow(RangeError);
  });

  it('covers the true population drift ~95% of the time (simulation), with calibrated se', () => {
    const pop = makePopulation(new Rng(2024), 20_000);
    const trueDrift = pairedBootstrapDrift(pop.before, pop.after, { rng: new Rng(0), B: 1 }).drift;
    expect(trueDrift).toBeGreaterThan(0.03); // a real drift exists (≈ 5%)

    const draws = 300, n = 120, B = 500;
    const sampler = new Rng(7);
    let covered = 0;
    const estimates: number[] = [], ses: number[] = [], widths: number[] = [], unpairedWidths: number[] = [];
    for (let d = 0; d < draws; d++) {
      const { before, after } = samplePaired(pop, n, sampler);
      const r = pairedBootstrapDrift(before, after, { rng: sampler.fork(), B });
      if (r.lo <= trueDrift && trueDrift <= r.hi) covered++;
      estimates.push(r.drift);
      ses.push(r.se);
      widths.push(r.hi - r.lo);
      if (d < 40) unpairedWidths.push(unpairedWidth(before, after, sampler.fork(), B));
    }
    const coverage = covered / draws;
    const seRatio = mean(ses) / sampleSd(estimates);
    const unpairedRatio = mean(unpairedWidths) / mean(widths.slice(0, 40));

    // width shrinks like 1/√n: 4× the items → about half the width
    let bigWidth = 0;
    const bigDraws = 40;
    for (let d = 0; d < bigDraws; d++) {
      const { before, after } = samplePaired(pop, 4 * n, sampler);
      const r = pairedBootstrapDrift(before, after, { rng: sampler.fork(), B });
      bigWidth += (r.hi - r.lo) / bigDraws;
    }
    const shrink = mean(widths) / bigWidth;

    console.log(
      `drift coverage: ${covered}/${draws} = ${coverage.toFixed(3)} (true drift ${trueDrift.toFixed(4)}, n=${n}, B=${B}); ` +
        `bootstrap se / sd of estimates = ${seRatio.toFixed(3)}; unpaired/paired width = ${unpairedRatio.toFixed(2)}; ` +
        `width(n)/width(4n) = ${shrink.toFixed(2)}`,
    );
    expect(coverage).toBeGreaterThanOrEqual(0.9);
    expect(coverage).toBeLessThanOrEqual(0.99); // not trivially wide
    expect(seRatio).toBeGreaterThan(0.8);
    expect(seRatio).toBeLessThan(1.2);
    expect(unpairedRatio).toBeGreaterThan(3);
    expect(shrink).toBeGreaterThan(1.7);
    expect(shrink).toBeLessThan(2.3);
  });
});

describe('pairedDiff', () => {
  it('uses the exact McNemar test on 0/1 data (9 vs 1 discordant → p = 22/1024)', () => {
    // 15 both right, 5 both wrong, 9 only a right, 1 only b right
    const a = [...ones(15), ...zeros(5), ...ones(9), ...zeros(1)];
    const b = [...ones(15), ...zeros(5), ...zeros(9), ...ones(1)];
    const r = pairedDiff(a, b, { rng: new Rng(11), B: 1000 });
    expect(r.test).toBe('mcnemar-exact');
    expect(r.discordant).toEqual({ aOnly: 9, bOnly: 1 });
    expect(r.p).toBeCloseTo(0.021484375, 14); // 2·(C(10,0)+C(10,1))/2¹⁰
    expect(r.diff).toBeCloseTo(8 / 30, 14);
    // d has nine 1s, one −1, twenty 0s: Σd² = 10, s² = (10 − 30·(8/30)²)/29
    expect(r.se).toBeCloseTo(Math.sqrt((10 - 30 * (8 / 30) ** 2) / 29 / 30), 14);
    expect(r.lo).toBeLessThan(r.diff);
    expect(r.hi).toBeGreaterThan(r.diff);
    expect(r.lo).toBeGreaterThan(0);
    // swapping the models flips the sign, keeps p
    const s = pairedDiff(b, a, { rng: new Rng(11), B: 1000 });
    expect(s.diff).toBeCloseTo(-8 / 30, 14);
    expect(s.p).toBe(r.p);
  });

  it('McNemar edge cases and large counts', () => {
    expect(mcnemarExactP(0, 0)).toBe(1);
    expect(mcnemarExactP(5, 5)).toBe(1);
    expect(mcnemarExactP(1, 9)).toBeCloseTo(0.021484375, 14);
    expect(mcnemarExactP(10, 0)).toBeCloseTo(2 / 1024, 15);
    // reference values from scipy.stats.binomtest(k, m, 0.5).pvalue
    expect(mcnemarExactP(40, 60)).toBeCloseTo(0.05688793364098089, 12);
    const big = mcnemarExactP(4000, 6000);
    expect(big / 1.7404316412268293e-89).toBeCloseTo(1, 8);
    const same = pairedDiff([1, 1, 0, 0], [1, 1, 0, 0], { rng: new Rng(1), B: 10 });
    expect(same.p).toBe(1);
    expect(same.diff).toBe(0);
  });

  it('uses a paired t-test for non-binary scores', () => {
    const a = [1, 2, 3, 4, 5, 6];
    const b = [1, 1, 1, 4, 4, 4]; // d = 0,1,2,0,1,2
    const r = pairedDiff(a, b, { rng: new Rng(2), B: 500 });
    expect(r.test).toBe('paired-t');
    expect(r.discordant).toBeUndefined();
    expect(r.diff).toBe(1);
    expect(r.se).toBeCloseTo(Math.sqrt(0.8 / 6), 14);
    // scipy.stats.ttest_1samp([0,1,2,0,1,2], 0)
    expect(r.statistic).toBeCloseTo(2.7386127875258306, 12);
    expect(r.p).toBeCloseTo(0.04085940385929585, 10);
    // degenerate spread
    const c = pairedDiff([1.5, 2.5], [1, 2], { rng: new Rng(2), B: 10 });
    expect(c.p).toBe(0);
    expect(pairedDiff([1.5, 2.5], [1.5, 2.5], { rng: new Rng(2), B: 10 }).p).toBe(1);
  });

  it('is deterministic under a seed, and checks its inputs', () => {
    const rng = new Rng(8);
    const a = Array.from({ length: 50 }, () => (rng.bernoulli(0.7) ? 1 : 0));
    const b = a.map((x) => (rng.bernoulli(0.2) ? 1 - x : x));
    expect(pairedDiff(a, b, { rng: new Rng(4), B: 300 })).toEqual(pairedDiff(a, b, { rng: new Rng(4), B: 300 }));
    expect(() => pairedDiff(a, b.slice(1), { rng: new Rng(4) })).toThrow(RangeError);
    expect(() => pairedDiff([], [], { rng: new Rng(4) })).toThrow(RangeError);
    expect(() => pairedDiff(a, b, { rng: new Rng(4), B: 0 })).toThrow(RangeError);
  });
});

describe('special functions', () => {
  it('Student-t two-sided p-values match scipy', () => {
    expect(studentTTwoSidedP(2.228138851986, 10)).toBeCloseTo(0.05, 10);
    expect(studentTTwoSidedP(-2.228138851986, 10)).toBeCloseTo(0.05, 10);
    expect(studentTTwoSidedP(1.5, 3)).toBeCloseTo(0.23058386524482294, 10);
    expect(studentTTwoSidedP(0.3, 200)).toBeCloseTo(0.764488730189328, 10);
    expect(studentTTwoSidedP(0, 7)).toBe(1);
    expect(studentTTwoSidedP(Infinity, 7)).toBe(0);
  });

  it('logGamma and regIncBeta on known values', () => {
    expect(logGamma(1)).toBeCloseTo(0, 13);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
    expect(logGamma(10)).toBeCloseTo(Math.log(362880), 11);
    expect(regIncBeta(0.3, 1, 1)).toBeCloseTo(0.3, 13); // uniform CDF
    expect(regIncBeta(0.3, 2, 1)).toBeCloseTo(0.09, 13); // x²
    expect(regIncBeta(0.4, 3, 5) + regIncBeta(0.6, 5, 3)).toBeCloseTo(1, 13);
  });

  it('normalQuantile matches scipy.stats.norm.ppf', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 8);
    expect(normalQuantile(0.005)).toBeCloseTo(-2.575829303548901, 8);
    expect(normalQuantile(1e-10) / -6.361340902404056).toBeCloseTo(1, 8);
    expect(normalQuantile(0.5)).toBe(0);
  });
});

describe('wilson', () => {
  it('matches reference intervals', () => {
    const [lo0, hi0] = wilson(0, 10);
    expect(lo0).toBe(0);
    expect(hi0).toBeCloseTo(0.2775327998628892, 8); // z²/(n+z²)
    const [lo, hi] = wilson(7, 20);
    expect(lo).toBeCloseTo(0.18119182410108206, 8);
    expect(hi).toBeCloseTo(0.5671457233147638, 8);
    expect(wilson(10, 10)[1]).toBe(1);
    expect(() => wilson(11, 10)).toThrow(RangeError);
  });
});

describe('boundVerdict', () => {
  it('classifies an interval against an upper bound', () => {
    expect(boundVerdict([0.01, 0.04], 0.05)).toBe('within');
    expect(boundVerdict([0.01, 0.05], 0.05)).toBe('within'); // hi ≤ bound
    expect(boundVerdict([0.06, 0.09], 0.05)).toBe('exceeds');
    expect(boundVerdict([0.05, 0.09], 0.05)).toBe('straddles'); // lo must be strictly above
    expect(boundVerdict([0.03, 0.07], 0.05)).toBe('straddles');
    expect(boundVerdict([NaN, NaN], 0.05)).toBe('straddles');
    expect(() => boundVerdict([0.2, 0.1], 0.05)).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------
// Simulation helpers
// ---------------------------------------------------------------------------------------------

interface Population {
  before: NllTokens[];
  after: NllTokens[];
}

/**
 * A population of control items: 5–15 scored tokens each, a per-item difficulty (mean nll per
 * token, sd 0.6 across items), token-level noise, and after fine-tuning a per-item shift of
 * about +0.05 nats/token that is larger on harder items, plus its own noise. True drift ≈ 5%.
 */
function makePopulation(rng: Rng, size: number): Population {
  const before: NllTokens[] = [], after: NllTokens[] = [];
  for (let i = 0; i < size; i++) {
    const tokens = 5 + rng.int(11);
    const difficulty = 2.5 + 0.6 * rng.normal();
    const nllBefore = tokens * difficulty + 0.8 * Math.sqrt(tokens) * rng.normal();
    const shift = 0.05 + 0.03 * (difficulty - 2.5) + 0.05 * rng.normal();
    const nllAfter = nllBefore + tokens * shift + 0.3 * Math.sqrt(tokens) * rng.normal();
    before.push({ nll: nllBefore, tokens });
    after.push({ nll: nllAfter, tokens });
  }
  return { before, after };
}

/** n items drawn independently (with replacement) from the population, kept paired. */
function samplePaired(pop: Population, n: number, rng: Rng): Population {
  const before: NllTokens[] = [], after: NllTokens[] = [];
  for (let j = 0; j < n; j++) {
    const i = rng.int(pop.before.length);
    before.push(pop.before[i]!);
    after.push(pop.after[i]!);
  }
  return { before, after };
}

/** Width of a deliberately unpaired percentile bootstrap (before and after resampled independently). */
function unpairedWidth(before: NllTokens[], after: NllTokens[], rng: Rng, B: number): number {
  const n = before.length;
  const logPpl = (xs: NllTokens[]) => {
    let s = 0, t = 0;
    for (let j = 0; j < n; j++) {
      const x = xs[rng.int(n)]!;
      s += x.nll;
      t += x.tokens;
    }
    return s / t;
  };
  const reps = Float64Array.from({ length: B }, () => {
    const lb = logPpl(before);
    return Math.expm1(logPpl(after) - lb);
  }).sort();
  return quantileSorted(reps, 0.975) - quantileSorted(reps, 0.025);
}

function ones(k: number): number[] {
  return Array<number>(k).fill(1);
}

function zeros(k: number): number[] {
  return Array<number>(k).fill(0);
}
