/**
 * A sweep directory and its cells, and how one cell runs: `fmn finetune --config
 * DIR/cells/NAME/cell.json` in a child process (so a cell that fails, or is killed, takes
 * nothing else with it), resumed from its saved state when it has one; then ‖Δθ‖, and the
 * cell's row written to DIR/cells/NAME/result.json — whole, last, once. DIR/sweep.jsonl is
 * rebuilt from the result files in cell order, so it reads the same however the cells ran.
 *
 *   DIR/sweep.json          the plan: every cell's settings (a sweep resumes only its own plan)
 *   DIR/cells/NAME/cell.json   the cell's fmn finetune config
 *   DIR/cells/NAME/run/        the cell's run directory (adapter or model, metrics, checkpoints)
 *   DIR/cells/NAME/finetune.json  what fmn finetune returned (its --json result: dev/test numbers by
 *                              group, the in-training curve), written just before the row
 *   DIR/cells/NAME/result.json the cell's row, once it finished
 *   DIR/sweep.jsonl         one row per finished cell, in cell order
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadUpdate, norm } from '../analyze/update.ts';
import type { RunContext } from '../backend/context.ts';
import { fileKeys, type Values } from '../config/schema.ts';
import { ConfigError, DataError } from '../errors.ts';
import type { FinetuneResult } from '../train/finetune.ts';
import { FINETUNE_SCHEMA } from '../train/finetune-config.ts';
import { LOCK } from '../train/run-dir.ts';
import { pidAlive, writeFileAtomic } from '../util/fs.ts';
import { hostname } from 'node:os';
import { parseJson } from '../util/json.ts';
import { PARENT_ENV } from '../util/parent.ts';
import type { SweepRow } from '../report/sweep-report.ts';
import type { Cell, SweepPlan } from './config.ts';

export type { SweepRow };

const FMN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'fmn.js');

export const cellDir = (dir: string, c: Cell) => join(dir, 'cells', c.name);
const resultFile = (dir: string, c: Cell) => join(cellDir(dir, c), 'result.json');
const finetuneFile = (dir: string, c: Cell) => join(cellDir(dir, c), 'finetune.json');

/** What fmn finetune returned for a finished cell (its dev and test numbers by group, its in-training curve). */
export function cellFinetune(dir: string, c: Cell): FinetuneResult {
  const f = finetuneFile(dir, c);
  return parseJson(readFileSync(f, 'utf8'), (m) => { throw new DataError(m, { file: f }); }) as FinetuneResult;
}

/** What the sweep directory holds of the plan: the rows of finished cells, and which were started. */
export function cellStates(dir: string, plan: SweepPlan): { done: Map<number, SweepRow>; started: Set<number> } {
  const done = new Map<number, SweepRow>(), started = new Set<number>();
  for (const c of plan.cells) {
    const f = resultFile(dir, c);
    if (existsSync(f)) done.set(c.index, parseJson(readFileSync(f, 'utf8'), (m) => { throw new DataError(m, { file: f }); }) as SweepRow);
    else if (existsSync(join(cellDir(dir, c), 'run'))) started.add(c.index);
  }
  return { done, started };
}

/**
 * Takes DIR for this plan: writes sweep.json the first time; afterwards the plan must be the
 * same cells (resuming another config's sweep into DIR would mix them) unless `overwrite` —
 * or, with `extend` (a search that adds cells once it has read the first ones' rows, as the
 * lab's calibration does), the cells DIR holds followed by new ones.
 */
export function preparePlan(dir: string, plan: SweepPlan, overwrite: boolean, o: { extend?: boolean } = {}): void {
  const manifest = { format: 'forgetmenot-sweep/1', config: plan.file, axes: plan.axes, cells: plan.cells.map((c) => ({ index: c.index, name: c.name, axis: c.axis, values: c.values })) };
  const file = join(dir, 'sweep.json');
  if (existsSync(file) && !overwrite) {
    const old = parseJson(readFileSync(file, 'utf8'), (m) => { throw new DataError(m, { file }); }) as typeof manifest;
    const same = (n: number) => JSON.stringify(old.cells) === JSON.stringify(manifest.cells.slice(0, n));
    if (same(manifest.cells.length)) return;
    if (!(o.extend && Array.isArray(old.cells) && old.cells.length < manifest.cells.length && same(old.cells.length))) {
      throw new ConfigError('holds a sweep of other cells (its sweep.json differs from this config); choose another --out or start over with --overwrite', { file: dir, field: '--out' });
    }
    writeFileAtomic(file, JSON.stringify(manifest, null, 2) + '\n');
    return;
  }
  if (existsSync(dir) && readdirSync(dir).some((n) => n !== LOCK && n !== 'sweep.json' && n !== 'cells' && n !== 'sweep.jsonl' && !n.startsWith('report') && n !== 'plots')) {
    if (!existsSync(file)) throw new ConfigError('is not empty and is not a sweep directory; choose another --out', { file: dir, field: '--out' });
  }
  mkdirSync(join(dir, 'cells'), { recursive: true });
  writeFileAtomic(file, JSON.stringify(manifest, null, 2) + '\n');
}

/** The cell's fmn finetune config file (values as the finetune schema keys them), with `out` = its run dir. */
function writeCellConfig(dir: string, c: Cell): string {
  const cd = cellDir(dir, c);
  mkdirSync(cd, { recursive: true });
  const file = join(cd, 'cell.json');
  const keys = fileKeys(FINETUNE_SCHEMA);
  const values: Values = Object.fromEntries(Object.entries({ ...c.values, out: join(cd, 'run') }).filter(([k, v]) => v !== undefined && keys.has(k)));
  writeFileAtomic(file, JSON.stringify(values, null, 2) + '\n');
  return file;
}

export interface CellRunOptions {
  /** Kernel threads of the child (FMN_THREADS). */
  threads: number;
  /** Where the child's stderr goes, a line at a time (the sweep prefixes it with the cell). */
  log: (line: string) => void;
  /** Called with the child process, so a signal can be forwarded to it. */
  onChild?: (kill: (sig: NodeJS.Signals) => void) => void;
  /** A stale lock in the run directory may be removed (a queue worker taking over a stalled cell). */
  takeOverLock?: boolean;
  /** The child's backend (FMN_BACKEND), when not the default one (native if it loads). */
  backend?: 'js' | 'native';
}

/** The outcome of running a cell: its row, or that it was interrupted (its state saved). */
export type CellOutcome = { row: SweepRow } | { interrupted: true };

/**
 * Runs one cell to its end (continuing a started one from its saved state) and writes its row.
 * A cell that already has its row is not run again.
 */
export async function runCell(dir: string, c: Cell, o: CellRunOptions, ctx: RunContext): Promise<CellOutcome> {
  const done = resultFile(dir, c);
  if (existsSync(done)) return { row: parseJson(readFileSync(done, 'utf8'), (m) => { throw new DataError(m, { file: done }); }) as SweepRow };
  const cfg = writeCellConfig(dir, c);
  const run = join(cellDir(dir, c), 'run');
  if (o.takeOverLock) rmSync(join(run, LOCK), { force: true });
  // a cell whose sweep was killed may still have its process for a step (it stops when it sees
  // its parent gone): wait for it before deciding how to continue
  await lockReleased(run);
  const mode = existsSync(join(run, 'checkpoints')) && readdirSync(join(run, 'checkpoints')).some((n) => n.startsWith('step-')) ? ['--resume'] : ['--overwrite'];
  const t0 = performance.now();
  const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((res, rej) => {
    const child = spawn(process.execPath, [FMN, 'finetune', '--config', cfg, '--json', '--quiet', ...mode], {
      env: { ...process.env, FMN_THREADS: String(o.threads), [PARENT_ENV]: String(process.pid), ...(o.backend ? { FMN_BACKEND: o.backend } : {}) }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '', err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString('utf8'); });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString('utf8');
      const lines = err.split('\n');
      err = lines.pop()!;
      for (const l of lines) if (l.trim() !== '') o.log(l);
    });
    child.on('error', rej);
    child.on('close', (code) => { if (err.trim() !== '') o.log(err); res({ code, stdout: out }); });
    o.onChild?.((sig) => child.kill(sig));
  });
  if (code === 130) return { interrupted: true };
  // exit 2 is bad input, the same in every cell: the sweep stops (its message is above)
  if (code === 2) throw new ConfigError('fmn finetune refused this cell\'s settings or inputs (its message is above); every cell would fail alike', { file: cfg });
  if (code !== 0) throw new DataError(`fmn finetune exited ${code}; its messages are above (the cell's run: ${relative(process.cwd(), run)})`, { file: cfg });
  const r = parseJson(stdout.trim().split('\n').at(-1) ?? '', (m) => { throw new DataError(`fmn finetune printed no result: ${m}`, { file: cfg }); }) as FinetuneResult;
  const row = rowOf(dir, c, r, (performance.now() - t0) / 1000, ctx, o.threads);
  writeFileAtomic(finetuneFile(dir, c), JSON.stringify(r, null, 2) + '\n');
  writeFileAtomic(done, JSON.stringify(row, null, 2) + '\n');
  return { row };
}

/** Waits (up to 60 s) while a live process on this host holds the run's lock. */
async function lockReleased(run: string): Promise<void> {
  const f = join(run, LOCK);
  for (let waited = 0; ; waited += 100) {
    let held: { pid?: number; host?: string } | null = null;
    try { held = JSON.parse(readFileSync(f, 'utf8')) as { pid?: number; host?: string }; } catch { return; }
    if (held.host !== hostname() || typeof held.pid !== 'number' || held.pid === process.pid || !pidAlive(held.pid)) return;
    if (waited >= 60_000) throw new DataError(`is held by live process ${held.pid}; stop it first`, { file: run });
    await new Promise((r) => setTimeout(r, 100));
  }
}

function rowOf(dir: string, c: Cell, r: FinetuneResult, seconds: number, ctx: RunContext, threads: number): SweepRow {
  const v = c.values;
  const method = v.method as 'lora' | 'full';
  const rep = r.test ?? r.dev;
  const ver = rep?.verdict;
  const base = resolve(String(v.base));
  const run = resolve(r.runDir);
  const u = loadUpdate(base, method === 'lora' ? { adapter: run } : { tuned: run }, { ...ctx, log: () => {} });
  const deltaTheta = Math.sqrt(u.params.reduce((a, p) => a + norm(p.delta) ** 2, 0));
  const roles = rep?.eval.roles ?? {};
  const prov = (parseJson(readFileSync(join(run, 'config.resolved.json'), 'utf8'), (m) => { throw new DataError(m, { file: join(run, 'config.resolved.json') }); }) as { fmn?: { backend?: string; threads?: number } }).fmn ?? {};
  return {
    cell: c.index, name: c.name, axis: c.axis, method, lr: v.lr as number, seed: v.seed as number,
    run_dir: relative(dir, run), split: r.test ? 'test' : 'dev',
    task_acc_before: ver?.task_acc_before ?? null, task_acc: ver?.task_acc_after ?? null, task_acc_se: ver?.task_acc_se ?? null,
    task_gain: ver?.task_gain?.diff ?? null, task_gain_ci: ver?.task_gain ? [ver.task_gain.lo, ver.task_gain.hi] : null, task_gain_p: ver?.task_gain?.p ?? null,
    gen_em: roles.task?.gen_em ?? null, control_ppl: roles.control?.ppl ?? null,
    drift: ver?.drift ?? null, drift_ci: ver?.drift_ci ?? null, adoption: roles.adoption?.acc ?? null,
    verdict: ver?.verdict ?? null, pass: ver?.pass ?? false,
    dev: { task_acc: r.dev?.verdict.task_acc_after ?? null, drift: r.dev?.verdict.drift ?? null },
    delta_theta: deltaTheta, trainable_params: r.trainable, steps: r.steps, seconds, backend: prov.backend ?? ctx.backend.name, threads: prov.threads ?? threads,
  };
}

/** Rebuilds DIR/sweep.jsonl from the finished cells' rows, in cell order. */
export function writeSweepJsonl(dir: string, plan: SweepPlan): SweepRow[] {
  const { done } = cellStates(dir, plan);
  const rows = [...done.values()].sort((a, b) => a.cell - b.cell);
  writeFileAtomic(join(dir, 'sweep.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
  return rows;
}

/** The plan a sweep directory holds (its sweep.json), for --status and the report. */
export function loadPlan(dir: string): SweepPlan {
  const file = join(dir, 'sweep.json');
  if (!existsSync(file)) throw new ConfigError('is not a sweep directory (no sweep.json)', { file: dir, field: '--out' });
  const m = parseJson(readFileSync(file, 'utf8'), (msg) => { throw new DataError(msg, { file }); }) as { config: string; axes: string[]; cells: Cell[] };
  if (!Array.isArray(m.cells) || !Array.isArray(m.axes)) throw new DataError('is not a sweep plan (cells, axes)', { file });
  return { file: m.config, settings: {}, axes: m.axes, cells: m.cells };
}
