import { ablate, diffUpdate, interpolate, Scorer, truncate, type AnalyzeConfig, type Score } from '../../analyze/analyze.ts';
import { ANALYZE_SCHEMAS, ANALYZE_SUBCOMMANDS, type AnalyzeSub } from '../../analyze/analyze-config.ts';
import { loadUpdate } from '../../analyze/update.ts';
import { toTyped } from '../../config/schema.ts';
import { ConfigError } from '../../errors.ts';
import { NO_PROBES } from '../../eval/probe-files.ts';
import { makeOutDir, writeFileAtomic } from '../../util/fs.ts';
import { specToSvg } from '../../report/render.ts';
import { groupSpectrumSpecs } from '../../report/update-plots.ts';
import { join } from 'node:path';
import type { Command } from '../command.ts';
import { contextOf, log, parseCommand, printJson } from '../run.ts';

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}%`;
const scoreText = (s: Score) => `task ${s.task_acc.toFixed(3)} ± ${s.task_se.toFixed(3)}  drift ${pct(s.drift)} [${pct(s.drift_ci[0])}, ${pct(s.drift_ci[1])}]`;
const num = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : '—');

export const command: Command = {
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === undefined || sub === '--help' || sub === '-h') {
      process.stdout.write(`usage: fmn analyze ${ANALYZE_SUBCOMMANDS.join('|')} --base MODEL (--tuned MODEL | --adapter RUN) [options]   (fmn analyze <sub> --help)\n`);
      return sub === undefined ? 2 : 0;
    }
    if (!(ANALYZE_SUBCOMMANDS as readonly string[]).includes(sub)) throw new ConfigError(`unknown subcommand "${sub.slice(0, 40)}" (expected ${ANALYZE_SUBCOMMANDS.join(', ')})`, { field: 'subcommand' });
    const schema = ANALYZE_SCHEMAS[sub as AnalyzeSub];
    const r = parseCommand(schema, rest);
    if (r === null) return 0;
    const c = { probes: NO_PROBES, intruderK: 10, intruderEps: 0.5, nullDraws: 3, seed: 0, alphas: [], ranks: [], driftBound: 0.05, ...toTyped<Partial<AnalyzeConfig>>(schema, r.values) } as AnalyzeConfig;
    const ctx = contextOf(r.values);
    const t0 = performance.now();
    const u = loadUpdate(c.base, { tuned: c.tuned, adapter: c.adapter }, ctx);
    let result: object;
    if (sub === 'diff') {
      const d = diffUpdate(u, c);
      log(`‖Δθ‖ ${d.delta_theta.toPrecision(4)} (${d.kind === 'adapter' ? 'LoRA adapter, merged' : 'full model difference'}); intruders: top ${d.intruder_k} singular vectors of W₀+ΔW with |cos| < ${d.intruder_eps} to every one of W₀`);
      log(`${'group'.padEnd(18)}${'params'.padStart(10)}${'‖Δ‖'.padStart(10)}${'‖Δ‖/‖W₀‖'.padStart(11)}${'share ‖Δ‖²'.padStart(12)}`);
      for (const g of [...d.groups, ...d.blocks]) log(`${g.group.padEnd(18)}${String(g.params).padStart(10)}${g.delta_fro.toPrecision(4).padStart(10)}${num(g.rel_delta, 4).padStart(11)}${`${(100 * g.share_of_delta_sq).toFixed(1)}%`.padStart(12)}`);
      log(`${'matrix'.padEnd(40)}${'shape'.padStart(11)}${'‖ΔW‖'.padStart(9)}${'rel'.padStart(8)}${'erank'.padStart(8)}${'r90'.padStart(6)}${'stable'.padStart(8)}${'intr.'.padStart(7)}${'null'.padStart(6)}`);
      for (const m of d.matrices) {
        log(`${m.name.padEnd(40)}${m.shape.join('×').padStart(11)}${m.delta_fro.toPrecision(3).padStart(9)}${num(m.rel_delta).padStart(8)}${num(m.erank, 1).padStart(8)}${String(m.r90).padStart(6)}`
          + `${num(m.stable_rank, 1).padStart(8)}${String(m.intruders).padStart(7)}${num(m.intruders_null, 1).padStart(6)}`);
      }
      if (r.values.plots !== undefined) {
        const dir = String(r.values.plots);
        makeOutDir(dir, '--plots');
        for (const { group, spec } of groupSpectrumSpecs(d)) {
          const file = join(dir, `${group.replace(/[^a-z0-9]+/gi, '-')}.svg`);
          writeFileAtomic(file, await specToSvg(spec));
          log(`wrote ${file}`);
        }
      }
      result = d;
    } else {
      const s = new Scorer(u, c.probes, c.driftBound);
      log(`scored on the ${s.split} split (${s.items.length} likelihood items); base task ${(s.base.roles.task?.acc ?? NaN).toFixed(3)}, control PPL ${(s.base.roles.control?.ppl ?? NaN).toFixed(4)}`);
      if (sub === 'ablate') {
        const a = ablate(s);
        for (const row of a.rows) log(`${`${row.mode} ${row.group}`.padEnd(26)}${scoreText(row)}`);
        result = a;
      } else if (sub === 'interpolate') {
        const a = interpolate(s, c.alphas);
        for (const row of a.rows) log(`α ${String(row.alpha).padEnd(6)}${scoreText(row)}`);
        result = a;
      } else {
        const a = truncate(s, c.ranks);
        for (const row of a.rows) log(`rank ${String(row.rank).padEnd(4)} ${row.mode.padEnd(9)} ‖Δθ‖ ${row.delta_fro.toPrecision(4).padEnd(8)} ${scoreText(row)}`);
        result = a;
      }
    }
    log(`analyze ${sub}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    printJson(r.values, result);
    return 0;
  },
};
