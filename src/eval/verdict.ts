import { Rng } from '../util/rng.ts';
import { boundVerdict, meanStderr, pairedDiff, seedsBootstrapDrift, type PairedDiff } from '../util/stats.ts';
import type { EvalResult, ItemScore } from './evaluate.ts';

/** Default bound on control-perplexity drift: 5%. */
export const DEFAULT_DRIFT_BOUND = 0.05;

/** drift = (PPL_after − PPL_before) / PPL_before. */
export function drift(pplBefore: number, pplAfter: number): number {
  return (pplAfter - pplBefore) / pplBefore;
}

export type Outcome = 'PASS' | 'FAIL' | 'INCONCLUSIVE';

export interface Verdict {
  /**
   * PASS: the drift interval's upper end within the bound and a significant task gain.
   * INCONCLUSIVE: a significant gain, but the drift interval straddles the bound.
   * FAIL: the drift interval wholly over the bound, or no significant task gain.
   */
  verdict: Outcome;
  /** verdict === 'PASS'. */
  pass: boolean;
  /** Mean drift over the runs (seeds), and its paired bootstrap interval over items (and seeds). */
  drift: number | null;
  drift_ci: [number, number] | null;
  task_acc_before: number | null;
  /** Mean over the runs. */
  task_acc_after: number | null;
  task_acc_se: number | null;
  /** After − before on the same task items (per-item accuracy averaged over the runs), with its paired test. */
  task_gain: Pick<PairedDiff, 'diff' | 'se' | 'lo' | 'hi' | 'p' | 'test'> | null;
  /** The split of the items the verdict read. */
  split: 'dev' | 'test' | 'mixed' | null;
  level: number;
  reasons: string[];
}

export interface VerdictOptions {
  bound?: number;
  /** Confidence level of the intervals; the task gain is significant at 1 − level (default 0.95). */
  level?: number;
  /** Bootstrap replicates (default 2000) and their seed (default 0: the same numbers every time). */
  B?: number;
  seed?: number;
}

const key = (i: ItemScore) => `${i.source.file}:${i.source.line}`;

/** The items of a role, the same items in the same order in every result (else an error: the runs were scored on different probes). */
function aligned(results: readonly EvalResult[], pick: (i: ItemScore) => boolean): ItemScore[][] {
  const lists = results.map((r) => r.items.filter(pick));
  const ref = lists[0].map(key).join('\n');
  for (const l of lists) if (l.map(key).join('\n') !== ref) throw new RangeError('verdict: the results were scored on different probe items');
  return lists;
}

/**
 * The verdict of a fine-tune against its base, read by role (never by group name): the control
 * items' perplexity drift with a paired bootstrap interval, and the task items' accuracy gain
 * with a paired test. `after` may hold several runs (seeds) of the same recipe.
 */
export function verdict(before: EvalResult, after: EvalResult | readonly EvalResult[], o: VerdictOptions = {}): Verdict {
  const runs = Array.isArray(after) ? after as readonly EvalResult[] : [after as EvalResult];
  const bound = o.bound ?? DEFAULT_DRIFT_BOUND, level = o.level ?? 0.95, B = o.B ?? 2000;
  const rng = new Rng(o.seed ?? 0);
  const reasons: string[] = [];
  const all = [before, ...runs];

  const control = aligned(all, (i) => i.role === 'control' && i.nll !== undefined);
  let d: number | null = null, ci: [number, number] | null = null;
  if (control[0].length === 0) reasons.push('no control probe (no text items with role "control")');
  else {
    const nt = (l: ItemScore[]) => l.map((i) => ({ nll: i.nll!, tokens: i.tokens! }));
    const r = seedsBootstrapDrift(nt(control[0]), control.slice(1).map(nt), { rng, B, level });
    d = r.drift; ci = [r.lo, r.hi];
  }

  const task = aligned(all, (i) => i.role === 'task' && i.correct !== undefined);
  let gain: Verdict['task_gain'] = null, tb: number | null = null, ta: number | null = null, tse: number | null = null;
  if (task[0].length === 0) reasons.push('no task probe (no pair or choice items with role "task")');
  else {
    const b = task[0].map((i) => (i.correct ? 1 : 0));
    const a = task[0].map((_, k) => task.slice(1).reduce((s, l) => s + (l[k].correct ? 1 : 0), 0) / runs.length);
    tb = meanStderr(b).mean;
    const m = meanStderr(a);
    ta = m.mean; tse = m.se;
    const p = pairedDiff(a, b, { rng, B, level });
    gain = { diff: p.diff, se: p.se, lo: p.lo, hi: p.hi, p: p.p, test: p.test };
  }

  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const driftState = ci === null ? null : boundVerdict(ci, bound);
  if (driftState === 'exceeds') reasons.push(`control drift ${pct(d!)} [${pct(ci![0])}, ${pct(ci![1])}] exceeds the ${pct(bound)} bound`);
  if (driftState === 'straddles') reasons.push(`control drift ${pct(d!)} [${pct(ci![0])}, ${pct(ci![1])}] straddles the ${pct(bound)} bound`);
  const alpha = 1 - level;
  const taskState = gain === null ? null : gain.diff <= 0 ? 'not-up' : gain.p < alpha ? 'up' : 'unclear';
  if (taskState === 'not-up') reasons.push(`task accuracy did not rise (${tb!.toFixed(3)} → ${ta!.toFixed(3)})`);
  if (taskState === 'unclear') reasons.push(`task gain ${gain!.diff >= 0 ? '+' : ''}${gain!.diff.toFixed(3)} is not significant (p ${gain!.p.toPrecision(2)})`);

  const outcome: Outcome = driftState === null || taskState !== 'up' || driftState === 'exceeds' ? 'FAIL'
    : driftState === 'within' ? 'PASS' : 'INCONCLUSIVE';
  const splits = new Set([...control[0], ...task[0]].map((i) => i.split));
  return {
    verdict: outcome, pass: outcome === 'PASS', drift: d, drift_ci: ci, task_acc_before: tb, task_acc_after: ta, task_acc_se: tse,
    task_gain: gain, split: splits.size === 0 ? null : splits.size > 1 ? 'mixed' : [...splits][0], level, reasons,
  };
}

/** One probe group before and after: accuracy with a paired test, or perplexity drift with its paired bootstrap interval. */
export interface GroupChange {
  n: number;
  acc_before?: number;
  acc_after?: number;
  /** After − before on the same items, paired. */
  acc_diff?: Pick<PairedDiff, 'diff' | 'se' | 'lo' | 'hi' | 'p' | 'test'>;
  ppl_before?: number;
  ppl_after?: number;
  drift?: number;
  drift_ci?: [number, number];
}

/**
 * Every probe group compared item by item with the baseline — whatever its role: a
 * multiple-choice benchmark or a held-out text given with --probes is read as a forgetting
 * measurement of its own (accuracy change with a paired test; perplexity drift with its paired
 * bootstrap interval), not only the groups the verdict reads.
 */
export function groupChanges(before: EvalResult, after: EvalResult, o: VerdictOptions = {}): Record<string, GroupChange> {
  const level = o.level ?? 0.95, B = o.B ?? 2000;
  const out: Record<string, GroupChange> = {};
  for (const name of Object.keys(after.probes)) {
    const rng = new Rng(o.seed ?? 0);
    const c: GroupChange = { n: after.probes[name]!.n };
    const acc = aligned([before, after], (i) => i.probe === name && i.correct !== undefined);
    if (acc[0].length > 0) {
      const b = acc[0].map((i) => (i.correct ? 1 : 0)), a = acc[1].map((i) => (i.correct ? 1 : 0));
      const p = pairedDiff(a, b, { rng, B, level });
      Object.assign(c, { acc_before: meanStderr(b).mean, acc_after: meanStderr(a).mean, acc_diff: { diff: p.diff, se: p.se, lo: p.lo, hi: p.hi, p: p.p, test: p.test } });
    }
    const txt = aligned([before, after], (i) => i.probe === name && i.nll !== undefined);
    if (txt[0].length > 0) {
      const nt = (l: ItemScore[]) => l.map((i) => ({ nll: i.nll!, tokens: i.tokens! }));
      const r = seedsBootstrapDrift(nt(txt[0]), [nt(txt[1])], { rng, B, level });
      Object.assign(c, { ppl_before: before.probes[name]!.ppl, ppl_after: after.probes[name]!.ppl, drift: r.drift, drift_ci: [r.lo, r.hi] });
    }
    out[name] = c;
  }
  return out;
}
