/**
 * A run directory's safety: one writer at a time (a lock holding pid and host), no silent
 * overwrite of a finished run or of a directory that is not a run, and training state saved as
 * one unit — `checkpoints/step-NNNNNNNN/` with a manifest (every file's size and sha256) written
 * last, renamed into place whole — so a kill at any moment leaves either the previous complete
 * state or the new one, never a mix.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { CheckpointError, ConfigError } from '../errors.ts';
import { crashPoint, fsyncDir, pidAlive, removeStaleTemps, writeFileSynced } from '../util/fs.ts';

export const LOCK = '.fmn-lock';
const CHECKPOINTS = 'checkpoints';
const MANIFEST = 'manifest.json';
/** Complete checkpoints kept (the newest first); older ones are removed after a save. */
const KEEP = 2;

/** What marks a directory as an fmn run: its resolved config. */
const isRun = (dir: string) => existsSync(join(dir, 'config.resolved.json'));

/**
 * Takes `dir` for one writer: refuses a directory another live fmn holds (a lock from a dead
 * process, or from this host's dead pid, is taken over), a finished or started run without
 * `resume` or `overwrite`, and a non-empty directory that is not a run. Removes temp files that
 * dead processes left. Returns the release function (also called at exit).
 */
export function claimRunDir(dir: string, o: { resume: boolean; overwrite: boolean }, log: (l: string) => void): () => void {
  const release = lockDir(dir, log);
  try {
    // what a killed writer left half-written goes first: it is not part of any run
    const stale = [...removeStaleTemps(dir), ...removeStaleTemps(join(dir, CHECKPOINTS)).map((n) => `${CHECKPOINTS}/${n}`)];
    if (stale.length > 0) log(`run: removed ${stale.length} temp file${stale.length > 1 ? 's' : ''} left by a dead process (${stale.slice(0, 3).join(', ')})`);
    const others = readdirSync(dir).filter((n) => n !== LOCK);
    if (others.length > 0 && !isRun(dir) && !existsSync(join(dir, CHECKPOINTS))) {
      throw new ConfigError(`is not empty and is not an fmn run (${others.slice(0, 3).join(', ')}${others.length > 3 ? ', …' : ''}); choose another --out`, { file: dir, field: '--out' });
    }
    if (others.length > 0 && !o.resume && !o.overwrite) {
      throw new ConfigError('already holds a run; continue it with --resume or replace it with --overwrite', { file: dir, field: '--out' });
    }
    if (o.resume && !existsSync(join(dir, CHECKPOINTS))) throw new CheckpointError('no training state to resume from', { file: dir, field: '--resume' });
    if (o.overwrite && !o.resume) for (const n of others) rmSync(join(dir, n), { recursive: true, force: true });
  } catch (e) { release(); throw e; }
  return release;
}

/**
 * Takes `dir` for a command that writes a directory of one kind (a model, a corpus, a tokenizer,
 * a lab): one writer (the lock); `dir` is absent, empty, or already of that kind (`owns`) — a
 * non-empty directory of anything else is refused, so nothing of the user's is mixed with or
 * overwritten by our files. With `overwrite` given (false or true), a directory of the kind is
 * replaced only when it is true; without it (a kind that is regenerated whole, like a corpus),
 * it is written over. `inputs` may not be `dir` itself (merging into the base). Returns the release.
 */
export function claimOutputDir(dir: string, o: { kind: string; owns: (dir: string) => boolean; overwrite?: boolean; inputs?: (string | undefined)[] }, log: (l: string) => void): () => void {
  for (const i of o.inputs ?? []) {
    if (i !== undefined && resolve(i) === resolve(dir)) throw new ConfigError('is also an input of this command; choose another --out', { file: dir, field: '--out' });
  }
  const release = lockDir(dir, log);
  try {
    const others = readdirSync(dir).filter((n) => n !== LOCK);
    if (others.length > 0 && !o.owns(dir)) {
      throw new ConfigError(`is not empty and is not ${o.kind} (${others.slice(0, 3).join(', ')}${others.length > 3 ? ', …' : ''}); choose another --out`, { file: dir, field: '--out' });
    }
    if (others.length > 0 && o.overwrite === false) {
      throw new ConfigError(`already holds ${o.kind}; replace it with --overwrite, or choose another --out`, { file: dir, field: '--out' });
    }
    if (others.length > 0 && o.overwrite === true) for (const n of others) rmSync(join(dir, n), { recursive: true, force: true });
  } catch (e) { release(); throw e; }
  return release;
}

/**
 * One writer per directory: a lock file holding pid and host, created exclusively. A lock left
 * by a dead process on this host is taken over; a live one (or another host's) is refused.
 * Returns the release function (also run at exit).
 */
export function lockDir(dir: string, log: (l: string) => void): () => void {
  if (existsSync(dir) && !statIsDir(dir)) throw new ConfigError('exists and is not a directory', { file: dir, field: '--out' });
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, LOCK);
  const me = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
      let held: { pid?: number; host?: string } = {};
      try { held = JSON.parse(readFileSync(lock, 'utf8')); } catch { /* a torn lock: treat as stale */ }
      if (held.host === me.host && held.pid !== undefined && pidAlive(held.pid)) {
        throw new ConfigError(`another fmn (pid ${held.pid} on ${held.host}) is writing this run; wait for it, or stop it first`, { file: dir, field: '--out' });
      }
      if (held.host !== undefined && held.host !== me.host) {
        throw new ConfigError(`locked by an fmn on host ${held.host} (pid ${held.pid}); if that run is dead, delete ${lock}`, { file: dir, field: '--out' });
      }
      log(`run: taking over the stale lock of pid ${held.pid ?? '?'} (no such process)`);
      rmSync(lock, { force: true });
    }
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    try { if (JSON.parse(readFileSync(lock, 'utf8')).pid === process.pid) rmSync(lock, { force: true }); } catch { /* gone already */ }
  };
  process.once('exit', release);
  return release;
}

function statIsDir(p: string): boolean {
  try { return readdirSync(p) !== null; } catch { return false; }
}

const stepName = (step: number) => `step-${String(step).padStart(8, '0')}`;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Saves one checkpoint as a unit: files into a temp directory, the manifest last, then one rename. */
export function saveCheckpoint(dir: string, step: number, files: Map<string, Uint8Array>): void {
  const root = join(dir, CHECKPOINTS);
  mkdirSync(root, { recursive: true });
  const final = join(root, stepName(step));
  const tmp = join(root, `.tmp-${stepName(step)}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  const manifest: Record<string, { bytes: number; sha256: string }> = {};
  for (const [name, data] of files) {
    writeFileSynced(join(tmp, name), data);
    manifest[name] = { bytes: data.length, sha256: sha(data) };
  }
  writeFileSynced(join(tmp, MANIFEST), JSON.stringify({ step, files: manifest }, null, 2) + '\n');
  fsyncDir(tmp);
  crashPoint();
  if (existsSync(final)) {
    // the same step saved again (a resumed run): the old copy aside first, so one complete copy always exists
    const old = join(root, `.tmp-old-${stepName(step)}-${process.pid}`);
    renameSync(final, old);
    crashPoint();
    renameSync(tmp, final);
    rmSync(old, { recursive: true, force: true });
  } else renameSync(tmp, final);
  fsyncDir(root);
  for (const n of completeSteps(root).slice(KEEP)) rmSync(join(root, stepName(n)), { recursive: true, force: true });
}

/** Steps with a checkpoint directory, newest first (complete or not). */
function completeSteps(root: string): number[] {
  let names: string[];
  try { names = readdirSync(root); } catch { return []; }
  return names.flatMap((n) => { const m = /^step-(\d{8})$/.exec(n); return m ? [Number(m[1])] : []; }).sort((a, b) => b - a);
}

/** Why a checkpoint directory cannot be used, or null when every file matches its manifest. */
function verify(cdir: string): { files: Map<string, Buffer>; step: number } | string {
  let m: { step: number; files: Record<string, { bytes: number; sha256: string }> };
  try { m = JSON.parse(readFileSync(join(cdir, MANIFEST), 'utf8')); } catch (e) { return `no readable manifest (${(e as Error).message.split('\n')[0]})`; }
  if (!Number.isInteger(m.step) || typeof m.files !== 'object' || m.files === null) return 'the manifest has no step or files';
  const files = new Map<string, Buffer>();
  for (const [name, meta] of Object.entries(m.files)) {
    let b: Buffer;
    try { b = readFileSync(join(cdir, name)); } catch { return `${name} is missing`; }
    if (b.length !== meta.bytes || sha(b) !== meta.sha256) return `${name} does not match the manifest (${b.length} bytes)`;
    files.set(name, b);
  }
  return { files, step: m.step };
}

/**
 * The newest complete checkpoint: each candidate's files checked against its manifest; a torn or
 * damaged one is reported and the previous one used. Throws CheckpointError when none is complete.
 */
export function loadLatestCheckpoint(dir: string, log: (l: string) => void): { step: number; files: Map<string, Buffer>; dir: string } {
  const root = join(dir, CHECKPOINTS);
  const steps = completeSteps(root);
  const problems: string[] = [];
  for (const s of steps) {
    const r = verify(join(root, stepName(s)));
    if (typeof r === 'string') { problems.push(`${stepName(s)}: ${r}`); log(`resume: ${CHECKPOINTS}/${stepName(s)} is damaged (${r}); trying the one before`); continue; }
    if (r.step !== s) { problems.push(`${stepName(s)}: its manifest says step ${r.step}`); continue; }
    return { ...r, dir: join(root, stepName(s)) };
  }
  throw new CheckpointError(steps.length === 0 ? 'no training state to resume from' : `no complete training state (${problems.join('; ')})`, { file: root });
}
