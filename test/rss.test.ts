/**
 * Memory over a long fine-tune (issue #16): scripts/rss-flat.ts runs 500 LoRA steps on SFT rows
 * of varying length (shapes change every step) in a child process with --expose-gc, sampling
 * RSS after a full GC. The RSS must stay bounded after step 10 and be flat over the second half;
 * the buffer pool must not park more than a few steps' worth of buffers.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

describe('memory over 500 fine-tuning steps', () => {
  for (const backend of ['native', 'js'] as const) {
    it(`${backend}: RSS bounded after step 10, flat over the second half`, () => {
      const steps = backend === 'js' ? 100 : 500;
      const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(ROOT, 'scripts', 'rss-flat.ts'), '--steps', String(steps), '--batch', '8'],
        { cwd: ROOT, encoding: 'utf8', timeout: 240_000, env: { ...process.env, FMN_BACKEND: backend } });
      expect(r.status, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      if (backend === 'native' && !String(j.backend).startsWith('native')) return;   // the addon is absent: the js run covers it
      const mb = (x: number) => (x / 2 ** 20).toFixed(1);
      console.log(`${j.backend} ${steps} steps: RSS ${mb(j.rss[0].rss)} MB at step 10, +${mb(j.growth_bytes)} MB at most after it, +${mb(j.tail_growth_bytes)} MB over the second half; pool parks ${mb(j.pool_parked_bytes)} MB`);
      expect(j.growth_bytes).toBeLessThan(24 * 2 ** 20);
      expect(j.tail_growth_bytes).toBeLessThan(12 * 2 ** 20);
      expect(j.pool_parked_bytes).toBeLessThan(40 * 2 ** 20);
    }, 300_000);
  }
});
