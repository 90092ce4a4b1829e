/**
 * The lab's verdict in sentences, each derived from this run's intervals and matched contrasts:
 * what each mitigation did to each method, what the method did at a fixed data recipe, and what
 * made the target arm pass. Nothing here is written by hand about a particular result.
 */
import type { ArmSummary, Contrast, LabSummary, Mitigation } from '../report/summary.ts';

export const RECIPE_TEXT: Record<Mitigation, string> = {
  none: 'no mitigation',
  replay: 'replay of the clean tier (replay.txt)',
  'replay-pretrain': 'replay of the noisy pretraining text (pretrain.txt)',
  anchor: 'the anchor (λ‖ΔW‖² on LoRA, L2-SP on full)',
};
const METHOD_TEXT = { lora: 'LoRA', full: 'full fine-tuning' } as const;

const pct = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}%`;
/** A difference of two drifts, in percentage points. */
const pp = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)} pp`;
const ci = (lo: number, hi: number, f: (x: number) => string) => `[${f(lo)}, ${f(hi)}]`;
const acc = (x: number) => x.toFixed(3);
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
const pval = (p: number) => (p < 0.001 ? 'p < 0.001' : `p ${p.toPrecision(2)}`);

export const inside = (a: ArmSummary, bound: number) => a.drift_ci[1] <= bound;
export const outside = (a: ArmSummary, bound: number) => a.drift_ci[0] > bound;
const learned = (a: ArmSummary, alpha: number) => a.task_gain.diff > 0 && a.task_gain.p < alpha;

/** "drift +20.3% [+18.1%, +22.9%], task 0.370 → 0.693" */
export const armFacts = (a: ArmSummary, baseTask: number) =>
  `drift ${pct(a.drift)} ${ci(a.drift_ci[0], a.drift_ci[1], pct)}, task ${acc(baseTask)} → ${acc(a.task_acc)} ± ${acc(a.task_acc_se)}`;

const where = (a: ArmSummary, bound: number) => (inside(a, bound) ? 'inside the bound' : outside(a, bound) ? 'over the bound' : 'straddling the bound');

export function story(s: Pick<LabSummary, 'arms' | 'contrasts' | 'drift_bound' | 'level' | 'base' | 'best' | 'few_shot'>): string[] {
  const bound = s.drift_bound, alpha = 1 - s.level, baseTask = s.base.task_acc;
  const cell = (m: 'lora' | 'full', r: Mitigation) => s.arms.find((a) => a.kind === 'factorial' && a.method === m && a.recipe === r);
  const find = (factor: Contrast['factor'], a?: ArmSummary, b?: ArmSummary) => (a && b ? s.contrasts.find((c) => c.factor === factor && c.a === a.name && c.b === b.name) : undefined);
  const out: string[] = [];

  // 1. no mitigation
  const l0 = cell('lora', 'none'), f0 = cell('full', 'none');
  if (l0 && f0) {
    out.push(`Without a mitigation, LoRA at lr ${l0.lr} ends ${where(l0, bound)} (${armFacts(l0, baseTask)}) and full fine-tuning at lr ${f0.lr} ${where(f0, bound)} (${armFacts(f0, baseTask)}).`);
  }

  // 2. each mitigation, against none, per method
  for (const r of ['replay', 'replay-pretrain', 'anchor'] as const) {
    const per = (['lora', 'full'] as const).map((m) => ({ m, arm: cell(m, r), none: cell(m, 'none') })).filter((x) => x.arm && x.none);
    if (per.length === 0) continue;
    const inB = per.filter((x) => inside(x.arm!, bound) && !inside(x.none!, bound)).map((x) => METHOD_TEXT[x.m]);
    const verb = inB.length === 2 ? 'moved both methods inside the bound' : inB.length === 1 ? `moved ${inB[0]} inside the bound` : per.every((x) => inside(x.none!, bound)) ? 'kept both methods inside the bound, as they already were' : 'moved neither method inside the bound';
    const parts = per.map(({ m, arm, none }) => {
      const c = find('mitigation', arm, none);
      const dd = c ? `; against no mitigation drift ${pp(c.drift.diff)} ${ci(c.drift.lo, c.drift.hi, pp)}, task ${signed(c.task.diff)} (${pval(c.task.p)})` : '';
      return `${METHOD_TEXT[m]}: ${armFacts(arm!, baseTask)}${dd}`;
    });
    out.push(`${cap(RECIPE_TEXT[r])} ${verb} — ${parts.join('; ')}.`);
  }

  // 3. the method at each data recipe
  const methodLines = (['none', 'replay', 'replay-pretrain', 'anchor'] as const).flatMap((r) => {
    const c = find('method', cell('full', r), cell('lora', r));
    if (!c) return [];
    const sig = c.task.p < alpha;
    return [`${RECIPE_TEXT[r]}: full − LoRA task ${signed(c.task.diff)} ${ci(c.task.lo, c.task.hi, signed)} (${pval(c.task.p)}${sig ? '' : ', not significant'}), drift ${pp(c.drift.diff)} ${ci(c.drift.lo, c.drift.hi, pp)}`];
  });
  if (methodLines.length > 0) out.push(`The method, at the same data recipe (matched controls): ${methodLines.join('; ')}.`);

  // 4. what made the best arm pass
  const best = s.arms.find((a) => a.name === s.best);
  if (best) {
    const twin = best.kind === 'factorial' && best.recipe !== 'none' ? cell(best.method, 'none') : undefined;
    const other = best.kind === 'factorial' ? cell(best.method === 'lora' ? 'full' : 'lora', best.recipe) : undefined;
    const because = twin ? ` The same method without the mitigation: ${twin.verdict} (${armFacts(twin, baseTask)}), so ${RECIPE_TEXT[best.recipe]} is what kept it in.` : '';
    const vsOther = other ? ` ${cap(METHOD_TEXT[other.method])} with the same recipe: ${other.verdict} (${armFacts(other, baseTask)}).` : '';
    out.push(`Best arm on the dev split: ${best.name} (${METHOD_TEXT[best.method]}, ${RECIPE_TEXT[best.recipe]}, lr ${best.lr}); on test ${best.verdict}, ${armFacts(best, baseTask)}.${because}${vsOther}`);
    const fs = s.few_shot;
    out.push(fs.task_acc >= best.task_acc
      ? `Prompting with ${fs.k} examples reaches task ${acc(fs.task_acc)} ± ${acc(fs.task_se)}, as high as the best arm: fine-tuning is not needed for the pair probe.`
      : `Prompting with ${fs.k} examples reaches task ${acc(fs.task_acc)} ± ${acc(fs.task_se)}; the best arm is ${signed(best.task_acc - fs.task_acc)} above it.`);
  }
  // 5. over-application and generalization of the arms that learned
  const learners = s.arms.filter((a) => a.kind === 'factorial' && learned(a, alpha));
  if (learners.length > 0) {
    const adopt = learners.map((a) => `${a.name} ${acc(a.adoption_gen_em)}`).join(', ');
    const gen = learners.map((a) => `${a.name} ${acc(a.generalization)} ± ${acc(a.generalization_se)}`).join(', ');
    out.push(`Adoption (correct regular sentences left unchanged, generation; base ${acc(s.base.adoption_gen_em)}): ${adopt}. Generalization to new arrangements (pair accuracy; base ${acc(s.base.generalization)} ± ${acc(s.base.generalization_se)}): ${gen}.`);
  }
  return out;
}

const cap = (t: string) => t.charAt(0).toUpperCase() + t.slice(1);
