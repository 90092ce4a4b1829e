/**
 * A sweep spread over machines: the cells go into a BullMQ queue on Redis, `fmn worker`
 * processes anywhere take them and run them against shared storage (a directory every machine
 * mounts), and each result comes back through the queue. Paths travel relative to the storage
 * root, so each machine may mount it elsewhere.
 *
 * Reliability is BullMQ's: a worker holds a job's lock while its cell runs (the cell trains in a
 * child process, so the worker's event loop is free to renew it); a worker that dies loses the
 * lock, the stalled-job check moves the job back to the queue, and another worker continues the
 * cell from its last saved state. A job's id is the sweep's and the cell's, so enqueuing a
 * sweep again (after it was interrupted) adds nothing twice; a finished cell's result file makes
 * any later attempt return at once, so a cell counts once.
 */
import { createHash } from 'node:crypto';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import type { RunContext } from '../backend/context.ts';
import type { Value } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import { pidAlive } from '../util/fs.ts';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { LOCK } from '../train/run-dir.ts';
import type { Cell, SweepPlan } from './config.ts';
import { cellDir, runCell, writeSweepJsonl, type SweepRow } from './cells.ts';
import type { SweepOutcome } from './local.ts';

export const QUEUE_NAME = 'fmn-sweep';

/** Finetune keys that hold paths (made relative to the storage root for the trip). */
const PATH_KEYS = ['base', 'data', 'replay_text', 'task', 'control', 'adoption', 'probes', 'dev_task', 'dev_control', 'dev_adoption', 'dev_probes'];

export interface QueueJob { sweep: string; out: string; cell: Cell }

/** redis://HOST:PORT[/DB] → BullMQ connection options; anything else is a usage error naming --queue. */
export function connectionOf(url: string): { host: string; port: number; db: number; maxRetriesPerRequest: null } {
  const m = /^redis:\/\/([^:/]+)(?::(\d+))?(?:\/(\d+))?\/?$/.exec(url);
  if (!m) throw new ConfigError(`must be redis://HOST:PORT[/DB], got ${JSON.stringify(url.slice(0, 80))}`, { field: '--queue' });
  return { host: m[1]!, port: m[2] ? Number(m[2]) : 6379, db: m[3] ? Number(m[3]) : 0, maxRetriesPerRequest: null };
}

function inside(root: string, p: string, field: string): string {
  const rel = relative(root, resolve(p));
  if (rel.startsWith('..') || isAbsolute(rel)) throw new ConfigError(`${p} is outside --storage ${root}: every input of a queued sweep must be where the workers can read it`, { field });
  return rel.split(sep).join('/');
}

/** The cell with its paths relative to `root` (or, with `back`, made absolute under it). */
function mapPaths(c: Cell, f: (p: string, key: string) => string): Cell {
  const values = { ...c.values };
  for (const k of PATH_KEYS) {
    const v = values[k];
    if (typeof v === 'string') values[k] = f(v, k);
    else if (Array.isArray(v)) values[k] = (v as string[]).map((x) => f(x, k)) as Value;
  }
  return { ...c, values };
}

/** A stable id of a sweep: its directory (relative to storage) and its cells. */
const sweepId = (out: string, plan: SweepPlan) => createHash('sha256').update(out + '\n' + JSON.stringify(plan.cells.map((c) => [c.name, c.values]))).digest('hex').slice(0, 16);

/** Enqueues every unfinished cell and waits for all of them; rows come back through the queue. */
export async function runQueued(dir: string, plan: SweepPlan, q: { url: string; storage?: string }, ctx: RunContext & { stop?: { requested: boolean } }): Promise<SweepOutcome> {
  if (q.storage === undefined) throw new ConfigError('is required with --queue (the directory every worker mounts)', { field: '--storage' });
  const root = resolve(q.storage);
  const out = inside(root, dir, '--out');
  const cells = plan.cells.map((c) => mapPaths(c, (p, k) => inside(root, p, k)));
  const id = sweepId(out, plan);
  const connection = connectionOf(q.url);
  const queue = new Queue<QueueJob, SweepRow>(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  const failed: SweepOutcome['failed'] = [];
  let ran = 0;
  try {
    await events.waitUntilReady();
    const todo = cells.filter((c) => !existsSync(join(cellDir(dir, c), 'result.json')));
    ctx.log(`sweep: ${plan.cells.length} cells, ${plan.cells.length - todo.length} finished before; ${todo.length} queued on ${q.url} (queue "${QUEUE_NAME}", sweep ${id}); start workers: fmn worker --queue ${q.url} --storage DIR`);
    const jobs = await queue.addBulk(todo.map((c) => ({
      name: c.name, data: { sweep: id, out, cell: c },
      opts: { jobId: `${id}-${c.index}`, attempts: 3, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: { age: 7 * 24 * 3600 }, removeOnFail: { age: 7 * 24 * 3600 } },
    })));
    // a job of this sweep that failed before (its attempts used up) is tried again
    for (const job of jobs) if (await job.getState() === 'failed') await job.retry();
    let finished = plan.cells.length - todo.length;
    let interrupted = false, timer: NodeJS.Timeout | undefined;
    const stop = new Promise<void>((res) => { timer = setInterval(() => { if (ctx.stop?.requested) { interrupted = true; res(); } }, 200); });
    const all = Promise.all(jobs.map(async (job, i) => {
      try {
        await job.waitUntilFinished(events);
        ran++; finished++;
        ctx.log(`sweep: ${finished}/${plan.cells.length} ${todo[i]!.name} done`);
        writeSweepJsonl(dir, plan);
      } catch (e) {
        failed.push({ cell: plan.cells[todo[i]!.index]!, error: (e as Error).message });
        ctx.log(`sweep: ${todo[i]!.name} failed: ${(e as Error).message}`);
      }
    }));
    try { await Promise.race([all, stop]); } finally { clearInterval(timer); }
    if (interrupted) {
      ctx.log('sweep: stopped waiting; the queued cells stay with the workers — run the same command again to wait for them (or --status)');
      return { rows: writeSweepJsonl(dir, plan), failed, interrupted: true, ran };
    }
    await all;
  } finally {
    await events.close();
    await queue.close();
  }
  return { rows: writeSweepJsonl(dir, plan), failed, interrupted: false, ran };
}

/** Job counts of the queue (waiting, active, completed, failed, delayed) for --status. */
export async function queueStatus(url: string, _dir: string): Promise<Record<string, number>> {
  const queue = new Queue(QUEUE_NAME, { connection: connectionOf(url) });
  try { return await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed'); } finally { await queue.close(); }
}

export interface WorkerOptions { url: string; storage: string; concurrency: number; threads: number; lockSeconds: number; stalledSeconds: number }

/**
 * `fmn worker`: takes cells from the queue and runs them under `storage`, `concurrency` at a
 * time, until stopped (SIGINT / SIGTERM finish the running cells' current step, save, and hand
 * the cells back to the queue).
 */
export async function runWorker(o: WorkerOptions, ctx: RunContext, stopped: Promise<void>): Promise<{ done: number }> {
  const root = resolve(o.storage);
  let done = 0;
  const kills = new Set<(sig: NodeJS.Signals) => void>();
  const worker = new Worker<QueueJob, SweepRow>(QUEUE_NAME, async (job: Job<QueueJob, SweepRow>) => {
    const { out, cell } = job.data;
    const dir = join(root, out);
    const c = mapPaths(cell, (p) => join(root, p));
    const retry = job.attemptsStarted > 1 || job.stalledCounter > 0;
    ctx.log(`worker: ${c.name} (sweep ${job.data.sweep}${retry ? `, attempt ${job.attemptsStarted}, taken over` : ''})`);
    let kill: ((sig: NodeJS.Signals) => void) | null = null;
    try {
      const res = await runCell(dir, c, {
        threads: o.threads, log: (l) => ctx.log(`  [${c.name}] ${l}`), onChild: (k) => { kill = k; kills.add(k); },
        takeOverLock: retry && staleLock(join(cellDir(dir, c), 'run')),
      }, ctx);
      if ('interrupted' in res) throw new Error('interrupted: the worker stopped; the cell continues from its saved state on the next attempt');
      done++;
      return res.row;
    } finally { if (kill) kills.delete(kill); }
  }, {
    connection: connectionOf(o.url), concurrency: o.concurrency, autorun: true,
    lockDuration: o.lockSeconds * 1000, stalledInterval: o.stalledSeconds * 1000, maxStalledCount: 3,
  });
  worker.on('error', (e) => ctx.log(`worker: ${e.message}`));
  await worker.waitUntilReady();
  ctx.log(`worker: waiting for cells on ${o.url} (queue "${QUEUE_NAME}"), storage ${root}, ${o.concurrency} at a time, ${o.threads} thread${o.threads > 1 ? 's' : ''} each`);
  await stopped;
  for (const k of kills) k('SIGINT');
  await worker.close();
  return { done };
}

/** A cell's run lock a retry may take over: held by a dead process on this host, or by another host (BullMQ says its holder stopped renewing the job). */
function staleLock(run: string): boolean {
  const f = join(run, LOCK);
  if (!existsSync(f)) return false;
  try {
    const held = JSON.parse(readFileSync(f, 'utf8')) as { pid: number; host: string };
    return held.host !== hostname() || !pidAlive(held.pid);
  } catch { return true; }
}
