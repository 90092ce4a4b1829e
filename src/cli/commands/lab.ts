import { toTyped } from '../../config/schema.ts';
import { runLab } from '../../lab/lab.ts';
import { LAB_SCHEMA, type LabConfig } from '../../lab/lab-config.ts';
import type { LabSummary } from '../../report/summary.ts';
import type { Command } from '../command.ts';
import { contextOf, INTERRUPTED, log, parseCommand, printJson, withSignals } from '../run.ts';
import { LabInterrupted } from '../../lab/runs.ts';

const SMOKE = 'fmn lab --fast: a smoke test of the pipeline — its models are too small and its runs too short for any number below to mean anything';
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}%`;

/** The terminal table: every arm, test split, mean ± sd over seeds, drift with its interval. */
export function labTable(s: LabSummary): string[] {
  const w = Math.max(...s.arms.map((a) => a.name.length)) + 2;
  const pm = (m: number, sd: number) => `${m.toFixed(3)}${Number.isFinite(sd) ? `±${sd.toFixed(3)}` : ''}`;
  return [
    `base (test): task acc ${s.base.task_acc.toFixed(3)} ± ${s.base.task_se.toFixed(3)}  control PPL ${s.base.control_ppl.toFixed(4)}  generalization ${s.base.generalization.toFixed(3)}  echo EM ${s.base.echo_em.toFixed(3)}`,
    `calibrated on dev: LoRA lr ${s.calibration.chosen.lora}, full lr ${s.calibration.chosen.full}`,
    'arm'.padEnd(w) + 'lr'.padStart(8) + 'seeds'.padStart(6) + '  task (±sd)'.padEnd(15) + 'drift [95% CI]'.padEnd(28) + 'gen'.padStart(6) + 'adopt'.padStart(7) + 'genz'.padStart(7) + '  verdict',
    ...s.arms.map((a) => a.name.padEnd(w) + a.lr.toExponential(0).padStart(8) + String(a.seeds.length).padStart(6) + `  ${pm(a.task_acc, a.task_acc_sd)}`.padEnd(15)
      + `${pct(a.drift)} [${pct(a.drift_ci[0])}, ${pct(a.drift_ci[1])}]`.padEnd(28) + a.gen_em.toFixed(2).padStart(6) + a.adoption_gen_em.toFixed(2).padStart(7)
      + a.generalization.toFixed(2).padStart(7) + `  ${a.verdict}${a.name === s.best ? '  (best on dev)' : ''}`),
  ];
}

export const command: Command = {
  async run(argv) {
    const r = parseCommand(LAB_SCHEMA, argv);
    if (r === null) return 0;
    const cfg = toTyped<LabConfig>(LAB_SCHEMA, r.values);
    const ctx = contextOf(r.values);
    let s: LabSummary;
    try { s = await withSignals(ctx.stop, 'the lab', () => runLab(cfg, ctx)); } catch (e) {
      if (e instanceof LabInterrupted) { log('lab: interrupted; the finished runs are on disk in its sweep, runs/ (the lab starts over when run again)'); return INTERRUPTED; }
      throw e;
    }
    log(['', ...labTable(s), '', ...s.story.map((l) => `· ${l}`), '',
      `target: ${s.target.met ? 'MET' : 'NOT MET'} — ${s.target.note}`,
      `report: ${cfg.out}/report.html  (${s.wall_seconds.toFixed(0)} s on ${s.backend}, ${s.threads} threads)`,
      ...(cfg.fast ? [SMOKE] : [])].join('\n'));
    printJson(r.values, s);
    return cfg.gate && !s.target.met ? 1 : 0;
  },
};
