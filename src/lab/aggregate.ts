/**
 * From runs to reported numbers: an arm's seeds to means ± sd with intervals, and matched
 * contrasts between arms (the same probe items; seeds resampled within each arm).
 */
import type { EvalResult, ItemScore } from '../eval/evaluate.ts';
import { verdict } from '../eval/verdict.ts';
import type { ArmSummary, Contrast, SeedResult } from '../report/summary.ts';
import { Rng } from '../util/rng.ts';
import { meanSd, meanStderr, pairedDiff, quantileSorted } from '../util/stats.ts';
import type { RunResult } from './runs.ts';

const num = (x: number | undefined): number => x ?? NaN;
const driftOf = (base: Pick<EvalResult, 'roles'>, r: Pick<EvalResult, 'roles'>) => num(r.roles.control?.ppl) / num(base.roles.control?.ppl) - 1;

/** One seed's row: test numbers, with the dev numbers selection read. */
export function seedRow(run: RunResult, base: { dev: EvalResult; test: EvalResult }, outDir: (p: string) => string): SeedResult {
  const t = run.test;
  return {
    seed: run.spec.seed, run_dir: outDir(run.runDir),
    task_acc: num(t.roles.task?.acc), gen_em: num(t.roles.task?.gen_em), control_ppl: num(t.roles.control?.ppl), drift: driftOf(base.test, t),
    adoption: num(t.roles.adoption?.acc), adoption_gen_em: num(t.roles.adoption?.gen_em),
    generalization: num(t.probes.generalization?.acc), generalization_gen_em: num(t.probes.generalization?.gen_em),
    seconds: run.seconds, dev: { task_acc: num(run.dev.roles.task?.acc), drift: driftOf(base.dev, run.dev) },
  };
}

/** Per-item accuracy (0/1) of one group or role, averaged over the runs: the same items in the same order. */
export function itemMeans(results: readonly EvalResult[], pick: (i: ItemScore) => boolean, key: 'correct' | 'gen_ok' = 'correct'): number[] {
  const lists = results.map((r) => r.items.filter((i) => pick(i) && i[key] !== undefined));
  return lists[0].map((_, k) => lists.reduce((s, l) => s + (l[k][key] ? 1 : 0), 0) / lists.length);
}

/** A group's numbers over seeds: mean of the seeds' values, se over items of the per-item seed means. */
function groupOverSeeds(results: readonly EvalResult[], group: string): ArmSummary['probes'][string] {
  const g = results.map((r) => r.probes[group]).filter((x) => x !== undefined);
  if (g.length === 0) return { n: 0 };
  const mean = (f: (p: (typeof g)[number]) => number | undefined) => { const xs = g.map(f).filter((x): x is number => x !== undefined); return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined; };
  const acc = itemMeans(results, (i) => i.probe === group);
  const out: ArmSummary['probes'][string] = { n: g[0].n };
  if (acc.length > 0) { out.acc = mean((p) => p.acc); out.se = meanStderr(acc).se; }
  const gen = mean((p) => p.gen_em); if (gen !== undefined) out.gen_em = gen;
  const ppl = mean((p) => p.ppl); if (ppl !== undefined) out.ppl = ppl;
  if (g[0].by_tag) {
    const tags: NonNullable<ArmSummary['probes'][string]['by_tag']> = {};
    for (const k of Object.keys(g[0].by_tag)) {
      const vals = g.map((p) => p.by_tag?.[k]?.acc).filter((x): x is number => x !== undefined);
      tags[k] = { n: g[0].by_tag[k].n, ...(vals.length ? { acc: vals.reduce((a, b) => a + b, 0) / vals.length } : {}) };
    }
    out.by_tag = tags;
  }
  return out;
}

export interface ArmNumbers {
  seeds: SeedResult[];
  stats: Pick<ArmSummary, 'task_acc' | 'task_acc_sd' | 'task_acc_se' | 'gen_em' | 'gen_em_sd' | 'control_ppl' | 'drift' | 'drift_sd' | 'drift_ci'
    | 'adoption' | 'adoption_gen_em' | 'generalization' | 'generalization_se' | 'generalization_gen_em' | 'task_gain' | 'verdict' | 'pass' | 'reasons' | 'dev' | 'probes'>;
}

/** An arm's numbers over its seeds: the verdict reads the test split with items and seeds resampled together. */
export function armNumbers(runs: readonly RunResult[], base: { dev: EvalResult; test: EvalResult }, o: { bound: number; level: number; B: number; seed: number }, outDir: (p: string) => string): ArmNumbers {
  const seeds = runs.map((r) => seedRow(r, base, outDir));
  const tests = runs.map((r) => r.test);
  const v = verdict(base.test, tests, { bound: o.bound, level: o.level, B: o.B, seed: o.seed });
  const ms = (f: (s: SeedResult) => number) => meanSd(seeds.map(f));
  const task = ms((s) => s.task_acc), gen = ms((s) => s.gen_em), drift = ms((s) => s.drift);
  const probes: ArmSummary['probes'] = {};
  for (const g of Object.keys(tests[0].probes)) probes[g] = groupOverSeeds(tests, g);
  const genItems = itemMeans(tests, (i) => i.probe === 'generalization');
  return {
    seeds,
    stats: {
      task_acc: task.mean, task_acc_sd: task.sd, task_acc_se: num(v.task_acc_se ?? undefined), gen_em: gen.mean, gen_em_sd: gen.sd,
      control_ppl: ms((s) => s.control_ppl).mean, drift: v.drift ?? drift.mean, drift_sd: drift.sd, drift_ci: v.drift_ci ?? [NaN, NaN],
      adoption: ms((s) => s.adoption).mean, adoption_gen_em: ms((s) => s.adoption_gen_em).mean,
      generalization: ms((s) => s.generalization).mean, generalization_se: genItems.length ? meanStderr(genItems).se : NaN,
      generalization_gen_em: ms((s) => s.generalization_gen_em).mean,
      task_gain: v.task_gain ? { diff: v.task_gain.diff, lo: v.task_gain.lo, hi: v.task_gain.hi, p: v.task_gain.p } : { diff: NaN, lo: NaN, hi: NaN, p: NaN },
      verdict: v.verdict, pass: v.pass, reasons: v.reasons,
      dev: { task_acc: ms((s) => s.dev.task_acc).mean, drift: ms((s) => s.dev.drift).mean },
      probes,
    },
  };
}

/** Per-item (nll, tokens) of the control texts. */
const controlNll = (r: EvalResult) => r.items.filter((i) => i.role === 'control' && i.nll !== undefined).map((i) => [i.nll!, i.tokens!] as const);

/**
 * A matched contrast between two arms on the test split: the task-accuracy difference of the
 * per-item means over seeds (paired over items), and the drift difference with a bootstrap that
 * resamples the control items (shared by both arms and the base) and each arm's seeds.
 */
export function contrast(factor: Contrast['factor'], a: { name: string; runs: readonly RunResult[] }, b: { name: string; runs: readonly RunResult[] },
  base: EvalResult, o: { level: number; B: number; seed: number }): Contrast {
  const rng = new Rng(o.seed);
  const ta = itemMeans(a.runs.map((r) => r.test), (i) => i.role === 'task');
  const tb = itemMeans(b.runs.map((r) => r.test), (i) => i.role === 'task');
  const pd = pairedDiff(ta, tb, { rng, B: o.B, level: o.level });

  const c0 = controlNll(base);
  const ca = a.runs.map((r) => controlNll(r.test)), cb = b.runs.map((r) => controlNll(r.test));
  const n = c0.length;
  const driftAt = (runs: (readonly (readonly [number, number])[])[], idx: Uint32Array | null, pick: number[]) => {
    let sum = 0;
    for (const s of pick) {
      let n0 = 0, t0 = 0, n1 = 0, t1 = 0;
      const m = idx ? idx.length : n;
      for (let j = 0; j < m; j++) { const i = idx ? idx[j] : j; n0 += c0[i][0]; t0 += c0[i][1]; n1 += runs[s][i][0]; t1 += runs[s][i][1]; }
      sum += Math.expm1(n1 / t1 - n0 / t0);
    }
    return sum / pick.length;
  };
  const all = (k: number) => Array.from({ length: k }, (_, i) => i);
  const diff = driftAt(ca, null, all(ca.length)) - driftAt(cb, null, all(cb.length));
  const reps = new Float64Array(o.B);
  const idx = new Uint32Array(n);
  for (let r = 0; r < o.B; r++) {
    for (let j = 0; j < n; j++) idx[j] = rng.int(n);
    const sa = ca.length > 1 ? all(ca.length).map(() => rng.int(ca.length)) : [0];
    const sb = cb.length > 1 ? all(cb.length).map(() => rng.int(cb.length)) : [0];
    reps[r] = driftAt(ca, idx, sa) - driftAt(cb, idx, sb);
  }
  reps.sort();
  const alpha = (1 - o.level) / 2;
  return {
    factor, a: a.name, b: b.name,
    task: { diff: pd.diff, lo: pd.lo, hi: pd.hi, p: pd.p },
    drift: { diff, lo: quantileSorted(reps, alpha), hi: quantileSorted(reps, 1 - alpha) },
  };
}
