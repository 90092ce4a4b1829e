import { join } from 'node:path';
import { DataError } from '../errors.ts';
import { readMetrics } from '../train/metrics.ts';
import type { LabSummary } from './summary.ts';

/** The curves behind the plots, read from each run's metrics.jsonl. */
export interface Series {
  /** Fine-tuning training lines: loss per logged step, per arm. */
  train: { arm: string; step: number; loss: number }[];
  /** Fine-tuning evaluation points, per arm. */
  evals: { arm: string; step: number; task_acc?: number; drift?: number }[];
  /** Pretraining loss (`train`) and held-out loss (`held out`). */
  pretrain: { step: number; series: 'train' | 'held out'; loss: number }[];
}

/** Most points drawn per curve: longer runs are thinned evenly (last point kept) to keep the HTML small. */
export const MAX_POINTS = 400;

export function thin<T>(xs: T[], max = MAX_POINTS): T[] {
  if (xs.length <= max) return xs;
  const k = Math.ceil(xs.length / max);
  return xs.filter((_, i) => i % k === 0 || i === xs.length - 1);
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

function read(file: string): Record<string, unknown>[] {
  try {
    return readMetrics(file);
  } catch (e) {
    throw new DataError(`cannot read metrics: ${(e as Error).message}`, { file }, { cause: e });
  }
}

/**
 * Loads every curve (each thinned to MAX_POINTS). A missing metrics.jsonl gives no points (the report still renders); an
 * arm's evaluation points come from its metrics file, or from `arm.evals` in the summary when the
 * file has none.
 */
export function loadSeries(labDir: string, s: LabSummary): Series {
  const out: Series = { train: [], evals: [], pretrain: [] };
  for (const a of s.arms) {
    const recs = read(join(labDir, a.run_dir, 'metrics.jsonl'));
    const evals: Series['evals'] = [], train: Series['train'] = [];
    for (const r of recs) {
      if (!isNum(r.step)) continue;
      if (isNum(r.loss)) train.push({ arm: a.name, step: r.step, loss: r.loss });
      if (isNum(r.task_acc) || isNum(r.drift)) {
        evals.push({ arm: a.name, step: r.step, ...(isNum(r.task_acc) && { task_acc: r.task_acc }), ...(isNum(r.drift) && { drift: r.drift }) });
      }
    }
    if (evals.length === 0) {
      for (const e of a.evals ?? []) evals.push({ arm: a.name, step: e.step, ...(isNum(e.task_acc) && { task_acc: e.task_acc }), ...(isNum(e.drift) && { drift: e.drift }) });
    }
    out.evals.push(...evals);
    out.train.push(...thin(train));
  }
  const pre: Series['pretrain'] = [], held: Series['pretrain'] = [];
  for (const r of read(join(labDir, s.base.model_dir, 'metrics.jsonl'))) {
    if (!isNum(r.step)) continue;
    if (isNum(r.loss)) pre.push({ step: r.step, series: 'train', loss: r.loss });
    if (isNum(r.val_loss)) held.push({ step: r.step, series: 'held out', loss: r.val_loss });
  }
  out.pretrain.push(...thin(pre), ...thin(held));
  return out;
}
