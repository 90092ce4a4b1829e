import { toTyped } from '../../config/schema.ts';
import { EVAL_SCHEMA, runEval, type EvalConfig } from '../../eval/run-eval.ts';
import type { ProbeResult } from '../../eval/evaluate.ts';
import type { Command } from '../command.ts';
import { contextOf, log, parseCommand, printJson } from '../run.ts';

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}%`;
const signed = (x: number, d: number) => `${x >= 0 ? '+' : ''}${x.toFixed(d)}`;

function line(name: string, p: ProbeResult): string {
  const parts = [`n ${p.n}`];
  if (p.role) parts.push(`role ${p.role}`);
  if (p.acc !== undefined) parts.push(`acc ${p.acc.toFixed(3)} ± ${(p.se ?? NaN).toFixed(3)}`);
  if (p.acc_norm !== undefined) parts.push(`acc_norm ${p.acc_norm.toFixed(3)}`);
  if (p.ppl !== undefined) parts.push(`ppl ${p.ppl.toFixed(4)}`, `bpb ${p.bpb!.toFixed(4)}`, `word_ppl ${p.word_ppl!.toFixed(3)}`);
  if (p.gen_em !== undefined) parts.push(`gen_em ${p.gen_em.toFixed(3)} ± ${(p.gen_em_se ?? NaN).toFixed(3)}`);
  return `  ${name}: ${parts.join('  ')}`;
}

export const command: Command = {
  async run(argv) {
    const r = parseCommand(EVAL_SCHEMA, argv);
    if (r === null) return 0;
    const cfg = toTyped<EvalConfig>(EVAL_SCHEMA, r.values);
    const rep = runEval(cfg, contextOf(r.values));
    for (const split of ['dev', 'test'] as const) {
      const s = rep[split];
      if (!s) continue;
      log(`${split} split:`);
      for (const [name, p] of Object.entries(s.probes)) {
        log(line(name, p));
        const ch = s.changes?.[name];
        if (ch?.acc_diff) log(`    vs baseline: acc ${ch.acc_before!.toFixed(3)} → ${ch.acc_after!.toFixed(3)}, ${signed(ch.acc_diff.diff, 3)} [${signed(ch.acc_diff.lo, 3)}, ${signed(ch.acc_diff.hi, 3)}] (p ${ch.acc_diff.p.toPrecision(2)})`);
        if (ch?.drift !== undefined) log(`    vs baseline: ppl ${ch.ppl_before!.toFixed(4)} → ${ch.ppl_after!.toFixed(4)}, drift ${pct(ch.drift)} [${pct(ch.drift_ci![0])}, ${pct(ch.drift_ci![1])}]`);
      }
      const v = s.verdict;
      if (v) {
        log(`  verdict (${split}): ${v.verdict}` + (v.drift !== null ? ` — drift ${pct(v.drift)} [${pct(v.drift_ci![0])}, ${pct(v.drift_ci![1])}] (bound ${pct(cfg.driftBound)})` : '')
          + (v.task_gain ? `, task ${v.task_acc_before!.toFixed(3)} → ${v.task_acc_after!.toFixed(3)} (gain ${v.task_gain.diff >= 0 ? '+' : ''}${v.task_gain.diff.toFixed(3)}, p ${v.task_gain.p.toPrecision(2)})` : '')
          + (v.reasons.length ? `; ${v.reasons.join('; ')}` : ''));
      }
    }
    if (cfg.logSamples) log(`samples: ${cfg.logSamples}/results.json, ${cfg.logSamples}/samples_*.jsonl`);
    printJson(r.values, rep);
    return cfg.gate && rep.verdict !== 'PASS' ? 1 : 0;
  },
};
