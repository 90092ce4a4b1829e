// The native thread pool under preemption: many back-to-back jobs of varying task counts, with
// more threads than cores, must each run every task exactly once and never hang. It runs in a
// child process with a time limit because a pool deadlock would block this worker's event loop
// (and the test timeout with it).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { addonPath, loadNativeAddon } from '../src/backend/native/index.ts';

let reason = '';
try {
  loadNativeAddon();
} catch (e) {
  reason = (e as Error).message;
}

describe.skipIf(reason !== '')(`native thread pool${reason ? ` (skipped: ${reason})` : ''}`, () => {
  it.each([2, 4, 8])('%i threads: 30,000 jobs of 1–97 tasks, each task once, no deadlock', (threads) => {
    const script = `const a = require(${JSON.stringify(addonPath)}); a.setThreads(${threads}); process.stdout.write(String(a.poolSelfTest(30000)));`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.signal, 'the pool deadlocked (killed at the time limit)').toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(Number(r.stdout)).toBe(0);
  }, 90_000);

  it('jobs of more tasks than the pool\'s counter holds (150,000) run each task once', () => {
    const script = `const a = require(${JSON.stringify(addonPath)}); a.setThreads(3); process.stdout.write(String(a.poolSelfTest(20, 150000)));`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.signal, 'the pool deadlocked (killed at the time limit)').toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(Number(r.stdout)).toBe(0);
  }, 90_000);
});
