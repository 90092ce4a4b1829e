import { join } from 'node:path';
import type { RunContext } from '../backend/context.ts';
import { evaluateProbes, type EvalResult } from '../eval/evaluate.ts';
import { hasAny, loadProbeSplit } from '../eval/probe-files.ts';
import { verdict, type Verdict } from '../eval/verdict.ts';
import { loadForInference } from '../lora/load.ts';
import { writeFileAtomic } from '../util/fs.ts';
import { meanSd } from '../util/stats.ts';
import { finetune, type FinetuneConfig, type FinetuneResult } from './finetune.ts';
import { lockDir } from './run-dir.ts';

/** One split over the seeds: every seed's numbers, their mean ± sd, and the verdict with intervals over items and seeds. */
export interface SeedsSplit {
  per_seed: { seed: number; task_acc: number | null; control_ppl: number | null; drift: number | null }[];
  task_acc: { mean: number; sd: number };
  drift: { mean: number; sd: number };
  verdict: Verdict;
}

export interface SeedsResult { seeds: number[]; runs: FinetuneResult[]; dev?: SeedsSplit; test?: SeedsSplit; interrupted?: boolean }

/**
 * The same fine-tune over `cfg.seeds` seeds (seed, seed + 1, …), each an ordinary run directory
 * `out/seed-<s>` whose config.resolved.json reproduces it; then each split scored once per run
 * (the test split after every run has finished training) and summarized in `out/seeds.json`.
 */
export async function finetuneSeeds(cfg: FinetuneConfig, ctx: RunContext): Promise<SeedsResult> {
  const seeds = Array.from({ length: cfg.seeds }, (_, k) => cfg.seed + k);
  const release = lockDir(cfg.out, ctx.log);
  try { return await runSeeds(cfg, seeds, ctx); } finally { release(); }
}

async function runSeeds(cfg: FinetuneConfig, seeds: number[], ctx: RunContext): Promise<SeedsResult> {
  const runs: FinetuneResult[] = [];
  for (const seed of seeds) {
    ctx.log(`finetune: seed ${seed} (${seeds.indexOf(seed) + 1} of ${seeds.length}) → ${join(cfg.out, `seed-${seed}`)}`);
    const r = await finetune({ ...cfg, seed, seeds: 1, out: join(cfg.out, `seed-${seed}`), finalEval: false }, ctx);
    runs.push(r);
    if (r.interrupted) return { seeds, runs, interrupted: true };
  }
  const quiet = { ...ctx, log: () => {} };
  const base = loadForInference(cfg.base, undefined, quiet);
  const result: SeedsResult = { seeds, runs };
  for (const split of ['dev', 'test'] as const) {
    if (!hasAny(cfg.probes, split)) continue;
    const items = loadProbeSplit(cfg.probes, split);
    const before = evaluateProbes(base.model, base.tok, items);
    const after: EvalResult[] = runs.map((r) => {
      const m = cfg.method.kind === 'lora' ? loadForInference(cfg.base, r.runDir, quiet) : loadForInference(r.runDir, undefined, quiet);
      return evaluateProbes(m.model, m.tok, items);
    });
    const pplBefore = before.roles.control?.ppl;
    const per_seed = after.map((a, k) => {
      const ppl = a.roles.control?.ppl ?? null;
      return { seed: seeds[k], task_acc: a.roles.task?.acc ?? null, control_ppl: ppl, drift: ppl !== null && pplBefore !== undefined ? ppl / pplBefore - 1 : null };
    });
    const ms = (xs: (number | null)[]) => { const v = xs.filter((x): x is number => x !== null); return meanSd(v.length ? v : [NaN]); };
    const t = ms(per_seed.map((p) => p.task_acc)), d = ms(per_seed.map((p) => p.drift));
    result[split] = { per_seed, task_acc: { mean: t.mean, sd: t.sd }, drift: { mean: d.mean, sd: d.sd }, verdict: verdict(before, after, { bound: cfg.driftBound }) };
    const v = result[split]!.verdict;
    const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}%`;
    ctx.log(`finetune: ${seeds.length} seeds (${split}): ${v.verdict}, task ${t.mean.toFixed(3)} ± ${t.sd.toFixed(3)} (sd over seeds)`
      + (v.drift !== null ? `, drift ${pct(v.drift)} [${pct(v.drift_ci![0])}, ${pct(v.drift_ci![1])}]` : '') + (v.reasons.length ? ` — ${v.reasons.join('; ')}` : ''));
  }
  writeFileAtomic(join(cfg.out, 'seeds.json'), JSON.stringify({ seeds, runs: runs.map((r) => r.runDir), dev: result.dev, test: result.test }, null, 2) + '\n');
  return result;
}
