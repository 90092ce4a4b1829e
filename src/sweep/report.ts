import { writeSweepReport } from '../report/sweep-report.ts';
import { FINETUNE_SCHEMA } from '../train/finetune-config.ts';
import { loadPlan, writeSweepJsonl } from './cells.ts';

/** `fmn report SWEEP_DIR`: rebuilds sweep.jsonl from the finished cells and writes the frontier report. */
export async function reportSweep(dir: string): Promise<{ html: string; md: string; plots: string[]; cells: number }> {
  const plan = loadPlan(dir);
  const rows = writeSweepJsonl(dir, plan);
  const bound = (plan.cells[0]?.values.drift_bound as number | undefined) ?? (FINETUNE_SCHEMA.fields.find((f) => f.key === 'drift_bound')!.default as number);
  return { ...(await writeSweepReport(dir, rows, plan.axes, bound)), cells: rows.length };
}
