/**
 * --precision bf16 end to end: a short pretraining run whose loss curve stays within 1% of the
 * fp32 run's, the kernel path saved with the run, fp32 runs unchanged; the flag validated by
 * the CLI (exit 2, the flag named, no stack trace).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.ts';
import { createJsBackend } from '../src/backend/js/index.ts';
import { loadNativeBackend } from '../src/backend/native/index.ts';
import { pretrain, PRETRAIN_RECIPE_DEFAULTS, type PretrainConfig } from '../src/train/pretrain.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

function backend(): Backend {
  try { return loadNativeBackend(); } catch { return createJsBackend(); }
}

const text = Array.from({ length: 400 }, (_, i) =>
  `She ${['worked', 'played', 'walked', 'went', 'saw', 'ate'][i % 6]} at home ${['yesterday', 'today', 'on Monday'][i % 3]}. <|sep|> Ella ${i % 7}.`).join('\n');

describe('--precision bf16', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fmn-bf16-'));
  writeFileSync(join(dir, 'text.txt'), text);
  const be = backend();
  const logs: string[] = [];
  const run = (precision: 'fp32' | 'bf16') => {
    const cfg: PretrainConfig = {
      ...PRETRAIN_RECIPE_DEFAULTS, text: [join(dir, 'text.txt')], vocab: 300, out: join(dir, precision), preset: 'micro',
      steps: 12, batch: 4, seqLen: 32, warmup: 2, logEvery: 1, evalEvery: 12, saveEvery: 0, precision,
    };
    return pretrain(cfg, { backend: be, log: (l) => logs.push(l) });
  };
  const losses = (p: string) => readFileSync(join(dir, p, 'metrics.jsonl'), 'utf8').trim().split('\n')
    .map((l) => JSON.parse(l) as { loss?: number }).filter((m) => m.loss !== undefined).map((m) => m.loss!);

  it(`the loss curve stays within 1% of fp32's; the path is logged and saved; the backend is back to fp32 after (${be.name})`, async () => {
    const a = await run('fp32');
    const b = await run('bf16');
    const fp32 = losses('fp32'), bf16 = losses('bf16');
    expect(bf16).toHaveLength(12);
    for (let i = 0; i < fp32.length; i++) expect(Math.abs(bf16[i] - fp32[i]) / fp32[i], `step ${i + 1}`).toBeLessThan(0.01);
    expect(Math.abs(b.heldOutLoss - a.heldOutLoss) / a.heldOutLoss).toBeLessThan(0.01);
    const mode = JSON.parse(readFileSync(join(dir, 'bf16', 'config.resolved.json'), 'utf8'));
    expect(mode.precision).toBe('bf16');
    expect(['amx', 'avx512bf16', 'js-bf16', 'fp32']).toContain(mode.fmn.matmul);
    expect(logs.some((l) => l.startsWith('precision bf16'))).toBe(true);
    const plain = JSON.parse(readFileSync(join(dir, 'fp32', 'config.resolved.json'), 'utf8'));
    expect(plain.precision).toBe('fp32');
    expect(plain.fmn.matmul).toBe('fp32');
    expect(be.matmulMode.precision).toBe('fp32');
    // a bf16 path really ran: the curves are close, not equal
    if (mode.fmn.matmul !== 'fp32') expect(bf16).not.toEqual(fp32);
  });

  it('a bad value exits 2 naming --precision, without a stack trace', () => {
    for (const cmd of ['pretrain', 'finetune']) {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin/fmn.js'), cmd, '--precision', 'fp16'], { encoding: 'utf8', cwd: ROOT, timeout: 60_000 });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/--precision.*must be one of fp32, bf16, got "fp16"/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
