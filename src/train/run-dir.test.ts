import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError, ConfigError } from '../errors.ts';
import { claimRunDir, LOCK, loadLatestCheckpoint, lockDir, saveCheckpoint } from './run-dir.ts';

const fresh = () => mkdtempSync(join(tmpdir(), 'fmn-rundir-'));
const files = (k: number) => new Map([['a.bin', new Uint8Array([k, k + 1, k + 2])], ['b.json', Buffer.from(`{"k":${k}}`)]]);
/** A pid that is certainly not running: beyond the kernel's pid_max. */
const DEAD = 4_194_400;

describe('checkpoints as one unit', () => {
  it('the newest complete checkpoint is loaded; a torn or damaged one falls back to the previous, saying so', () => {
    const d = fresh();
    saveCheckpoint(d, 5, files(5));
    saveCheckpoint(d, 10, files(10));
    saveCheckpoint(d, 15, files(15));
    expect(readdirSync(join(d, 'checkpoints')).sort()).toEqual(['step-00000010', 'step-00000015']);   // the newest two kept
    expect(loadLatestCheckpoint(d, () => {}).step).toBe(15);
    truncateSync(join(d, 'checkpoints', 'step-00000015', 'a.bin'), 1);
    const logs: string[] = [];
    const r = loadLatestCheckpoint(d, (l) => logs.push(l));
    expect(r.step).toBe(10);
    expect(r.files.get('b.json')!.toString()).toBe('{"k":10}');
    expect(logs.join()).toMatch(/step-00000015 is damaged \(a\.bin does not match the manifest/);
    unlinkSync(join(d, 'checkpoints', 'step-00000010', 'manifest.json'));     // a kill before the manifest: incomplete
    expect(() => loadLatestCheckpoint(d, () => {})).toThrow(CheckpointError);
    expect(() => loadLatestCheckpoint(fresh(), () => {})).toThrow(/no training state to resume from/);
  });

  it('saving the same step again (a resumed run) replaces it whole', () => {
    const d = fresh();
    saveCheckpoint(d, 5, files(5));
    saveCheckpoint(d, 5, files(7));
    expect(loadLatestCheckpoint(d, () => {}).files.get('b.json')!.toString()).toBe('{"k":7}');
    expect(readdirSync(join(d, 'checkpoints'))).toEqual(['step-00000005']);
  });
});

describe('one writer per run directory', () => {
  it('a live lock refuses a second writer; a dead one is taken over; the lock is released', () => {
    const d = fresh();
    const release = lockDir(d, () => {});
    expect(() => lockDir(d, () => {})).toThrow(new RegExp(`another fmn \\(pid ${process.pid} on ${hostname()}\\) is writing this run`));
    release();
    expect(existsSync(join(d, LOCK))).toBe(false);
    writeFileSync(join(d, LOCK), JSON.stringify({ pid: DEAD, host: hostname() }));
    const logs: string[] = [];
    const r2 = lockDir(d, (l) => logs.push(l));
    expect(logs.join()).toContain(`taking over the stale lock of pid ${DEAD}`);
    r2();
    writeFileSync(join(d, LOCK), JSON.stringify({ pid: 1, host: 'another-machine' }));
    expect(() => lockDir(d, () => {})).toThrow(/locked by an fmn on host another-machine/);
  });

  it('--out on a run needs --resume or --overwrite; a foreign non-empty directory or a file is refused; stale temps are removed', () => {
    const d = fresh();
    writeFileSync(join(d, 'config.resolved.json'), '{}');
    writeFileSync(join(d, 'adapter_model.safetensors'), 'x');
    expect(() => claimRunDir(d, { resume: false, overwrite: false }, () => {})).toThrow(/already holds a run; continue it with --resume or replace it with --overwrite/);
    expect(() => claimRunDir(d, { resume: true, overwrite: false }, () => {})).toThrow(/no training state to resume from/);
    writeFileSync(join(d, `model.safetensors.tmp-${DEAD}`), 'half');
    mkdirSync(join(d, 'checkpoints', `.tmp-step-00000005-${DEAD}`), { recursive: true });
    claimRunDir(d, { resume: false, overwrite: true }, () => {})();
    expect(readdirSync(d)).toEqual([]);                                     // replaced: the old run and its temps are gone

    const foreign = fresh();
    writeFileSync(join(foreign, 'notes.txt'), 'mine');
    expect(() => claimRunDir(foreign, { resume: false, overwrite: true }, () => {})).toThrow(ConfigError);
    expect(readFileSync(join(foreign, 'notes.txt'), 'utf8')).toBe('mine');   // untouched
    const file = join(fresh(), 'a-file');
    writeFileSync(file, 'x');
    expect(() => claimRunDir(file, { resume: false, overwrite: false }, () => {})).toThrow(/exists and is not a directory/);

    const r = fresh();
    saveCheckpoint(r, 3, files(3));
    writeFileSync(join(r, `training.tmp-${DEAD}`), 'x');
    const logs: string[] = [];
    claimRunDir(r, { resume: true, overwrite: false }, (l) => logs.push(l))();
    expect(existsSync(join(r, `training.tmp-${DEAD}`))).toBe(false);
    expect(logs.join()).toContain('removed 1 temp file left by a dead process');
  });
});
