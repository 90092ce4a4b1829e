/**
 * A sweep on this machine: up to N cells at once, each a child process with its share of the
 * kernel threads; finished cells are never run again, a started one continues from its saved
 * state. A stop request (`ctx.stop`, set by a signal) is passed on to the running cells as
 * SIGINT, once each: they save and exit.
 */
import type { RunContext } from '../backend/context.ts';
import { isUserError } from '../errors.ts';
import type { Cell, SweepPlan } from './config.ts';
import { cellStates, runCell, writeSweepJsonl, type SweepRow } from './cells.ts';

export interface SweepOutcome { rows: SweepRow[]; failed: { cell: Cell; error: string }[]; interrupted: boolean; ran: number }

/** Kernel threads for each of `workers` cells at once: the cores split between them (at least one each). */
export const threadsPerCell = (total: number, workers: number) => Math.max(1, Math.floor(total / workers));

export interface LocalOptions {
  /** Called with each child's kill function (a second signal may kill them at once); returns its release. */
  onChild?: (kill: (sig: NodeJS.Signals) => void) => () => void;
  /** The children's backend, when not the default. */
  backend?: 'js' | 'native';
  /** Where the cells' own log lines go (default: the context's log, prefixed with the cell). */
  cellLog?: (cell: Cell, line: string) => void;
  /** Called after each finished cell with its row (in finishing order). */
  onRow?: (cell: Cell, row: SweepRow) => void;
}

export async function runLocal(dir: string, plan: SweepPlan, workers: number, ctx: RunContext & { stop?: { requested: boolean } },
  hooks: LocalOptions = {}): Promise<SweepOutcome> {
  const { done } = cellStates(dir, plan);
  const todo = plan.cells.filter((c) => !done.has(c.index));
  const threads = threadsPerCell(ctx.backend.threads, workers);
  ctx.log(`sweep: ${plan.cells.length} cells, ${done.size} finished before, ${todo.length} to run; ${Math.min(workers, Math.max(1, todo.length))} at once, ${threads} thread${threads > 1 ? 's' : ''} each`);
  const failed: SweepOutcome['failed'] = [];
  let interrupted = false, ran = 0, next = 0, finished = done.size;
  let fatal: unknown;
  // the stop request reaches every running cell once
  const running = new Set<(sig: NodeJS.Signals) => void>();
  let forwarded = false;
  const poll = setInterval(() => {
    if (!ctx.stop?.requested || forwarded) return;
    forwarded = true;
    for (const kill of running) kill('SIGINT');
  }, 100);
  const worker = async () => {
    while (next < todo.length && !interrupted && fatal === undefined && !ctx.stop?.requested) {
      const c = todo[next++]!;
      let release = () => {}, mine: ((sig: NodeJS.Signals) => void) | null = null;
      try {
        const out = await runCell(dir, c, {
          threads, backend: hooks.backend, log: hooks.cellLog ? (l) => hooks.cellLog!(c, l) : (l) => ctx.log(`  [${c.name}] ${l}`),
          onChild: (kill) => {
            mine = kill; running.add(kill);
            if (forwarded) kill('SIGINT');
            release = hooks.onChild?.(kill) ?? (() => {});
          },
        }, ctx);
        if ('interrupted' in out) { interrupted = true; break; }
        ran++; finished++;
        const r = out.row;
        if (hooks.onRow) hooks.onRow(c, r);
        else ctx.log(`sweep: ${finished}/${plan.cells.length} ${c.name}: task ${fmt(r.task_acc)}, drift ${pct(r.drift)} [${pct(r.drift_ci?.[0])}, ${pct(r.drift_ci?.[1])}], ${r.verdict ?? '—'} (${r.seconds.toFixed(1)} s)`);
        writeSweepJsonl(dir, plan);
      } catch (e) {
        if (isUserError(e)) { fatal ??= e; break; }
        failed.push({ cell: c, error: (e as Error).message });
        ctx.log(`sweep: ${c.name} failed: ${(e as Error).message}`);
      } finally { if (mine) running.delete(mine); release(); }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(workers, todo.length)) }, worker));
  } finally { clearInterval(poll); }
  if (fatal !== undefined) { writeSweepJsonl(dir, plan); throw fatal; }
  if (ctx.stop?.requested) interrupted = true;
  return { rows: writeSweepJsonl(dir, plan), failed, interrupted, ran };
}

const fmt = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x.toFixed(3));
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}%`);
