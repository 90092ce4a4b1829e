import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { ConfigError, DataError } from '../errors.ts';
import { join } from 'node:path';

/**
 * Fault injection for the crash tests (scripts/crash-test.ts): with FMN_CRASH_AT=N the process
 * kills itself (SIGKILL, no cleanup) at the Nth write or rename it makes; FMN_CRASH_COUNT=1 prints
 * how many there were at exit. Off (one comparison) otherwise.
 */
const CRASH_AT = Number(process.env.FMN_CRASH_AT ?? 0);
let writes = 0;
if (process.env.FMN_CRASH_COUNT === '1') process.on('exit', () => process.stderr.write(`fmn-crash-points ${writes}\n`));
export function crashPoint(): void {
  writes++;
  if (writes === CRASH_AT) process.kill(process.pid, 'SIGKILL');
}

/** Writes `file` all or nothing: to `file.tmp-PID`, fsync, rename over `file`. */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSynced(tmp, data);
  crashPoint();
  renameSync(tmp, file);
}

/** Writes a file and fsyncs it (inside a directory that is renamed into place afterwards). */
export function writeFileSynced(file: string, data: Uint8Array | string): void {
  crashPoint();
  const fd = openSync(file, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let at = 0;
    while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
    fsyncSync(fd);
  } finally { closeSync(fd); }
}

/** fsyncs a directory, so a rename inside it survives a power cut. */
export function fsyncDir(dir: string): void {
  let fd: number | null = null;
  try { fd = openSync(dir, 'r'); fsyncSync(fd); } catch { /* not supported here: best effort */ } finally { if (fd !== null) closeSync(fd); }
}

/** True when a process with this pid exists on this machine. */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** Removes `name.tmp-PID` files and `.tmp-…-PID` directories left in `dir` by processes that are gone. Returns what it removed. */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try { names = readdirSync(dir); } catch { return []; }
  const removed: string[] = [];
  for (const n of names) {
    const m = /\.tmp-(\d+)$/.exec(n) ?? /^\.tmp-.*-(\d+)$/.exec(n);
    if (m === null) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    rmSync(join(dir, n), { recursive: true, force: true });
    removed.push(n);
  }
  return removed;
}

/**
 * A text file as UTF-8, strictly: a byte sequence that is not UTF-8 is an error naming the file
 * and line (never silently replaced and trained on); a missing file is an error naming it.
 */
export function readText(file: string, field?: string): string {
  let buf: Buffer;
  try { buf = readFileSync(file); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a file' : `cannot read: ${(e as Error).message}`, { file, field }, { cause: e });
  }
  try { return new TextDecoder('utf-8', { fatal: true }).decode(buf); } catch {
    // find the first invalid sequence: decode growing prefixes line by line
    let line = 1, start = 0;
    for (let i = 0; i <= buf.length; i++) {
      if (i === buf.length || buf[i] === 0x0a) {
        try { new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(start, i)); } catch { break; }
        line++; start = i + 1;
      }
    }
    throw new DataError('is not valid UTF-8 (convert it, e.g. iconv -f latin1 -t utf-8)', { file, line, field });
  }
}

/** Creates the output directory `dir` (and its parents); an existing file there is a user mistake named by `field`. */
export function makeOutDir(dir: string, field = '--out'): void {
  try { mkdirSync(dir, { recursive: true }); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(code === 'EEXIST' || code === 'ENOTDIR' ? 'exists and is not a directory' : `cannot create: ${(e as Error).message}`, { file: dir, field }, { cause: e });
  }
}

/** Whether `p` is a regular file (false when it is absent or unreadable). */
export const isFile = (p: string): boolean => { try { return statSync(p).isFile(); } catch { return false; } };
