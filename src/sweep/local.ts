/**
 * A sweep on this machine: up to N cells at once, each a child process with its share of the
 * kernel threads; finished cells are never run again, a started one continues from its saved
 * state. A stop request (SIGINT) is passed on to the running cells, which save and exit.
 */
import type { RunContext } from '../backend/context.ts';
import { isUserError } from '../errors.ts';
import type { Cell, SweepPlan } from './config.ts';
import { cellStates, runCell, writeSweepJsonl, type SweepRow } from './cells.ts';

export interface SweepOutcome { rows: SweepRow[]; failed: { cell: Cell; error: string }[]; interrupted: boolean; ran: number }

/** Kernel threads for each of `workers` cells at once: the cores split between them (at least one each). */
export const threadsPerCell = (total: number, workers: number) => Math.max(1, Math.floor(total / workers));

export async function runLocal(dir: string, plan: SweepPlan, workers: number, ctx: RunContext & { stop?: { requested: boolean } },
  hooks: { onChild?: (kill: (sig: NodeJS.Signals) => void) => () => void } = {}): Promise<SweepOutcome> {
  const { done } = cellStates(dir, plan);
  const todo = plan.cells.filter((c) => !done.has(c.index));
  const threads = threadsPerCell(ctx.backend.threads, workers);
  ctx.log(`sweep: ${plan.cells.length} cells, ${done.size} finished before, ${todo.length} to run; ${Math.min(workers, Math.max(1, todo.length))} at once, ${threads} thread${threads > 1 ? 's' : ''} each`);
  const failed: SweepOutcome['failed'] = [];
  let interrupted = false, ran = 0, next = 0, finished = done.size;
  let fatal: unknown;
  const worker = async () => {
    while (next < todo.length && !interrupted && fatal === undefined && !ctx.stop?.requested) {
      const c = todo[next++]!;
      let release = () => {};
      try {
        const out = await runCell(dir, c, {
          threads, log: (l) => ctx.log(`  [${c.name}] ${l}`),
          onChild: (kill) => { release = hooks.onChild?.(kill) ?? (() => {}); },
        }, ctx);
        if ('interrupted' in out) { interrupted = true; break; }
        ran++; finished++;
        const r = out.row;
        ctx.log(`sweep: ${finished}/${plan.cells.length} ${c.name}: task ${fmt(r.task_acc)}, drift ${pct(r.drift)} [${pct(r.drift_ci?.[0])}, ${pct(r.drift_ci?.[1])}], ${r.verdict ?? '—'} (${r.seconds.toFixed(1)} s)`);
        writeSweepJsonl(dir, plan);
      } catch (e) {
        if (isUserError(e)) { fatal ??= e; break; }
        failed.push({ cell: c, error: (e as Error).message });
        ctx.log(`sweep: ${c.name} failed: ${(e as Error).message}`);
      } finally { release(); }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(workers, todo.length)) }, worker));
  if (fatal !== undefined) { writeSweepJsonl(dir, plan); throw fatal; }
  if (ctx.stop?.requested) interrupted = true;
  return { rows: writeSweepJsonl(dir, plan), failed, interrupted, ran };
}

const fmt = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x.toFixed(3));
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}%`);
