/**
 * `fmn analyze`: where an update lives, and where the forgetting comes from.
 *
 *   diff         per matrix and group: ‖ΔW‖, ‖ΔW‖/‖W₀‖, effective rank, r90, stable rank, intruders vs a null
 *   ablate       each group reverted to θ₀ (and each group alone fine-tuned), scored
 *   interpolate  θ₀ + α·Δθ, scored at each α: the learning–forgetting curve of one update
 *   truncate     each ΔW cut to rank r, beside the same-size uniform shrink (the control that says
 *                whether rank, or merely size, did it)
 * Scores are task accuracy ± se and control drift with its paired bootstrap interval, against the
 * base on the same items (by role; the dev split unless only test probes are given).
 */
import type { RunContext } from '../backend/context.ts';
import type { ProbeItem, ProbeSplit } from '../data/probes.ts';
import { evaluateProbes, type EvalResult } from '../eval/evaluate.ts';
import { hasAny, loadProbeSplit, needRole, type ProbeFiles } from '../eval/probe-files.ts';
import { verdict } from '../eval/verdict.ts';
import { GROUPS, type Group } from './groups.ts';
import { matrixSpectrum, truncateRank } from './spectrum.ts';
import { loadUpdate, norm, setWeights, type ParamDelta, type Update } from './update.ts';

export interface AnalyzeConfig {
  base: string;
  tuned?: string;
  adapter?: string;
  probes: ProbeFiles;
  /** Intruders: the top-k singular vectors of W₀ + ΔW, and the |cos| threshold. */
  intruderK: number;
  intruderEps: number;
  nullDraws: number;
  alphas: number[];
  ranks: number[];
  driftBound: number;
  seed: number;
}

export interface MatrixRow {
  name: string; group: Group; block: string | null; shape: number[];
  delta_fro: number; rel_delta: number; erank: number; r90: number; stable_rank: number; intruders: number; intruders_null: number;
  /** ΔW's singular values, largest first. */
  sigma: number[];
}
export interface GroupRow { group: string; params: number; delta_fro: number; rel_delta: number; share_of_delta_sq: number }
export interface DiffResult { kind: Update['kind']; matrices: MatrixRow[]; groups: GroupRow[]; blocks: GroupRow[]; delta_theta: number; intruder_k: number; intruder_eps: number }

/** Per matrix (every 2-D parameter with a nonzero update) and per group and block. */
export function diffUpdate(u: Update, o: Pick<AnalyzeConfig, 'intruderK' | 'intruderEps' | 'nullDraws' | 'seed'>): DiffResult {
  const matrices: MatrixRow[] = [];
  for (const p of u.params) {
    if (p.shape.length !== 2) continue;
    const d = norm(p.delta);
    if (d === 0) continue;
    const [rows, cols] = p.shape;
    const s = matrixSpectrum(p.base, p.delta, rows, cols, { k: o.intruderK, eps: o.intruderEps, nullDraws: o.nullDraws, seed: o.seed + matrices.length });
    matrices.push({
      name: p.name, group: p.group, block: p.block, shape: p.shape, delta_fro: d, rel_delta: d / norm(p.base),
      erank: s.erank, r90: s.r90, stable_rank: s.stableRank, intruders: s.intruders, intruders_null: s.intrudersNull, sigma: s.sigma,
    });
  }
  const total = u.params.reduce((a, p) => a + norm(p.delta) ** 2, 0);
  const rollup = (key: (p: ParamDelta) => string | null): GroupRow[] => {
    const by = new Map<string, ParamDelta[]>();
    for (const p of u.params) { const k = key(p); if (k !== null) by.set(k, [...(by.get(k) ?? []), p]); }
    return [...by].map(([group, ps]) => {
      const d2 = ps.reduce((a, p) => a + norm(p.delta) ** 2, 0), b2 = ps.reduce((a, p) => a + norm(p.base) ** 2, 0);
      return { group, params: ps.reduce((a, p) => a + p.delta.length, 0), delta_fro: Math.sqrt(d2), rel_delta: Math.sqrt(d2 / b2), share_of_delta_sq: total > 0 ? d2 / total : 0 };
    });
  };
  return {
    kind: u.kind, matrices, groups: rollup((p) => p.group), blocks: rollup((p) => p.block), delta_theta: Math.sqrt(total),
    intruder_k: o.intruderK, intruder_eps: o.intruderEps,
  };
}

/** A variant's scores against the base on the same items. */
export interface Score { task_acc: number; task_se: number; control_ppl: number; drift: number; drift_ci: [number, number] }

export class Scorer {
  readonly items: ProbeItem[];
  readonly split: ProbeSplit;
  readonly base: EvalResult;
  constructor(readonly u: Update, probes: ProbeFiles, readonly bound: number) {
    this.split = hasAny(probes, 'dev') ? 'dev' : 'test';
    // likelihood items: accuracy and perplexity (generation is not needed to locate an effect)
    this.items = loadProbeSplit(probes, this.split).filter((i) => i.kind !== 'generate');
    needRole(this.items, 'control', this.split, 'fmn analyze');
    needRole(this.items, 'task', this.split, 'fmn analyze');
    setWeights(u, () => 0);
    this.base = evaluateProbes(u.model, u.tok, this.items);
  }
  /** Scores the weights `f` gives (see setWeights); the model is left at them. */
  score(f: (p: ParamDelta) => number | Float32Array): Score {
    setWeights(this.u, f);
    const r = evaluateProbes(this.u.model, this.u.tok, this.items);
    const v = verdict(this.base, r, { bound: this.bound });
    return { task_acc: v.task_acc_after ?? NaN, task_se: v.task_acc_se ?? NaN, control_ppl: r.roles.control?.ppl ?? NaN, drift: v.drift ?? NaN, drift_ci: v.drift_ci ?? [NaN, NaN] };
  }
}

export interface AblateRow extends Score { group: string; mode: 'revert' | 'only' | 'none' | 'all' }

/**
 * Every group (and block) reverted to θ₀ one at a time, and each alone fine-tuned; plus the two
 * ends (nothing reverted = the tuned model, everything = the base).
 */
export function ablate(s: Scorer): { split: ProbeSplit; rows: AblateRow[] } {
  const rows: AblateRow[] = [{ group: 'tuned', mode: 'none', ...s.score(() => 1) }, { group: 'base', mode: 'all', ...s.score(() => 0) }];
  const units: { name: string; has: (p: ParamDelta) => boolean }[] = [
    ...GROUPS.map((g) => ({ name: g, has: (p: ParamDelta) => p.group === g })),
    ...[...new Set(s.u.params.map((p) => p.block).filter((b): b is string => b !== null))].map((b) => ({ name: b, has: (p: ParamDelta) => p.block === b })),
  ].filter((x) => s.u.params.some((p) => x.has(p) && norm(p.delta) > 0));
  for (const x of units) {
    rows.push({ group: x.name, mode: 'revert', ...s.score((p) => (x.has(p) ? 0 : 1)) });
    rows.push({ group: x.name, mode: 'only', ...s.score((p) => (x.has(p) ? 1 : 0)) });
  }
  return { split: s.split, rows };
}

export function interpolate(s: Scorer, alphas: readonly number[]): { split: ProbeSplit; rows: (Score & { alpha: number })[] } {
  return { split: s.split, rows: alphas.map((alpha) => ({ alpha, ...s.score(() => alpha) })) };
}

export interface TruncateRow extends Score { rank: number; mode: 'truncate' | 'shrink'; delta_fro: number }

/**
 * Each matrix's ΔW cut to rank r (other parameters keep their full update), beside the uniform
 * shrink of each ΔW to the same Frobenius norm as its cut: if the cut does no better than the
 * shrink, it was the update's size, not its rank, that mattered.
 */
export function truncate(s: Scorer, ranks: readonly number[]): { split: ProbeSplit; rows: TruncateRow[] } {
  const rows: TruncateRow[] = [];
  const mats = s.u.params.filter((p) => p.shape.length === 2 && norm(p.delta) > 0);
  for (const r of ranks) {
    const cut = new Map(mats.map((p) => [p.name, truncateRank(p.delta, p.shape[0], p.shape[1], r)]));
    const scale = new Map(mats.map((p) => [p.name, norm(cut.get(p.name)!) / norm(p.delta)]));
    const fro = (f: (p: ParamDelta) => number) => Math.sqrt(s.u.params.reduce((a, p) => a + f(p) ** 2, 0));
    const size = fro((p) => (cut.has(p.name) ? norm(cut.get(p.name)!) : norm(p.delta)));
    rows.push({ rank: r, mode: 'truncate', delta_fro: size, ...s.score((p) => cut.get(p.name) ?? 1) });
    rows.push({ rank: r, mode: 'shrink', delta_fro: size, ...s.score((p) => scale.get(p.name) ?? 1) });
  }
  return { split: s.split, rows };
}

/** The whole analysis of one update, as the lab's report uses it. */
export function analyzeUpdate(c: AnalyzeConfig, ctx: RunContext, what: ('diff' | 'ablate' | 'interpolate' | 'truncate')[]) {
  const u = loadUpdate(c.base, { tuned: c.tuned, adapter: c.adapter }, ctx);
  const out: { diff?: DiffResult; ablate?: ReturnType<typeof ablate>; interpolate?: ReturnType<typeof interpolate>; truncate?: ReturnType<typeof truncate> } = {};
  if (what.includes('diff')) out.diff = diffUpdate(u, c);
  if (what.some((w) => w !== 'diff')) {
    const s = new Scorer(u, c.probes, c.driftBound);
    if (what.includes('ablate')) out.ablate = ablate(s);
    if (what.includes('interpolate')) out.interpolate = interpolate(s, c.alphas);
    if (what.includes('truncate')) out.truncate = truncate(s, c.ranks);
  }
  return out;
}
