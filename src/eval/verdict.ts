import type { EvalResult } from './evaluate.ts';

/** Default bound on control-perplexity drift: 5%. */
export const DEFAULT_DRIFT_BOUND = 0.05;

/** drift = (PPL_after − PPL_before) / PPL_before. */
export function drift(pplBefore: number, pplAfter: number): number {
  return (pplAfter - pplBefore) / pplBefore;
}

export interface Verdict {
  drift: number | null;
  task_acc_before: number | null;
  task_acc_after: number | null;
  /** drift ≤ bound and task accuracy up. */
  pass: boolean;
  reasons: string[];
}

/**
 * The verdict of a fine-tune against its base: the control probe's perplexity drift within
 * the bound, and task accuracy up. Probe names default to the lab's (`control`, `task`).
 */
export function verdict(before: EvalResult, after: EvalResult, bound = DEFAULT_DRIFT_BOUND,
  names: { control: string; task: string } = { control: 'control', task: 'task' }): Verdict {
  const reasons: string[] = [];
  const pb = before.probes[names.control]?.ppl, pa = after.probes[names.control]?.ppl;
  const d = pb !== undefined && pa !== undefined ? drift(pb, pa) : null;
  if (d === null) reasons.push(`no perplexity for probe "${names.control}"`);
  else if (d > bound) reasons.push(`control drift ${(100 * d).toFixed(1)}% exceeds the ${(100 * bound).toFixed(1)}% bound`);
  const tb = before.probes[names.task]?.acc ?? null, ta = after.probes[names.task]?.acc ?? null;
  if (tb !== null && ta !== null && !(ta > tb)) reasons.push(`task accuracy did not rise (${tb.toFixed(3)} → ${ta.toFixed(3)})`);
  return { drift: d, task_acc_before: tb, task_acc_after: ta, pass: reasons.length === 0, reasons };
}
