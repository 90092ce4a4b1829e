import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgv, renderHelp } from '../../config/argv.ts';
import { resolveValues } from '../../config/schema.ts';
import { ConfigError } from '../../errors.ts';
import { cellStates, loadPlan, preparePlan } from '../../sweep/cells.ts';
import { readSweepPlan, SWEEP_SCHEMA } from '../../sweep/config.ts';
import { runLocal } from '../../sweep/local.ts';
import { queueStatus, runQueued } from '../../sweep/queue.ts';
import { lockDir } from '../../train/run-dir.ts';
import type { Command } from '../command.ts';
import { contextOf, INTERRUPTED, log, printJson } from '../run.ts';

export const command: Command = {
  async run(argv) {
    const p = parseArgv(SWEEP_SCHEMA, argv);
    if (p.help) { process.stdout.write(renderHelp(SWEEP_SCHEMA) + '\n'); return 0; }
    const cfgFlag = p.flags.get('config');
    const plan = cfgFlag !== undefined ? readSweepPlan(String(cfgFlag.raw), p.flags) : null;
    const settings = plan?.settings ?? resolveValues(SWEEP_SCHEMA, { flags: p.flags }).values;
    const out = settings.out as string | undefined;
    if (out === undefined) throw new ConfigError('is required (the sweep directory)', { field: '--out' });
    const ctx = contextOf(settings);

    if (settings.status) {
      const pl = plan ?? loadPlan(out);
      const { done, started } = cellStates(out, pl);
      const q = settings.queue !== undefined ? await queueStatus(String(settings.queue), out) : null;
      log(`sweep ${out}: ${pl.cells.length} cells — ${done.size} finished, ${started.size} started, ${pl.cells.length - done.size - started.size} not started`
        + (q ? `; queue: ${Object.entries(q).map(([k, v]) => `${v} ${k}`).join(', ')}` : ''));
      printJson(settings, { cells: pl.cells.length, finished: done.size, started: started.size, ...(q && { queue: q }) });
      return 0;
    }
    if (plan === null) throw new ConfigError('is required (the sweep: finetune keys, grid, cells)', { field: '--config' });

    const release = lockDir(out, log);
    try {
      if (settings.overwrite) for (const n of ['cells', 'sweep.json', 'sweep.jsonl']) rmSync(join(out, n), { recursive: true, force: true });
      preparePlan(out, plan, settings.overwrite as boolean);
      const stop = { requested: false };
      const children = new Set<(sig: NodeJS.Signals) => void>();
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals) => {
        signals++;
        stop.requested = true;
        if (signals === 1) log(`\n${sig}: the running cells save their state and stop (${sig} again to stop them at once); run the same command to continue`);
        // the first reaches the running cells through the stop request; a second kills them
        else for (const kill of children) kill('SIGKILL');
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      let res;
      try {
        res = settings.queue !== undefined
          ? await runQueued(out, plan, { url: String(settings.queue), storage: settings.storage as string | undefined }, { ...ctx, stop })
          : await runLocal(out, plan, settings.workers as number, { ...ctx, stop }, { onChild: (kill) => { children.add(kill); return () => children.delete(kill); } });
      } finally { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); }
      log(`sweep: ${res.rows.length}/${plan.cells.length} cells finished (${res.ran} this time) → ${join(out, 'sweep.jsonl')}; the frontier: fmn report ${out}`);
      if (res.failed.length > 0) log(`sweep: ${res.failed.length} cell${res.failed.length > 1 ? 's' : ''} failed: ${res.failed.map((f) => f.cell.name).join(', ')} (run the sweep again to retry them)`);
      printJson(settings, { out, cells: plan.cells.length, finished: res.rows.length, failed: res.failed.map((f) => ({ cell: f.cell.index, name: f.cell.name, error: f.error })), rows: res.rows });
      if (res.interrupted) return INTERRUPTED;
      return res.failed.length > 0 ? 1 : 0;
    } finally { release(); }
  },
};
