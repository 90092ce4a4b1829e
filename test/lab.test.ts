import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backend/select.ts';
import { runLab } from '../src/train/lab.ts';
import { LAB_FAST } from '../src/train/lab-config.ts';
import type { LabSummary } from '../src/report/summary.ts';
import { loadForInference } from '../src/train/load.ts';

// The CI-sized lab end to end: every arm runs, the report and summary.json agree, and every
// run directory is one that `fmn eval --model … --adapter …` accepts.
describe('fmn lab --fast', () => {
  const out = mkdtempSync(join(tmpdir(), 'fmn-lab-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  let summary: LabSummary;

  it('runs every arm and writes report.html, report.md and summary.json', async () => {
    const backend = selectBackend();
    // on the js fallback (no addon) the same pipeline runs at a fraction of the steps
    const cfg = backend.name === 'js'
      ? {
        ...LAB_FAST,
        corpus: { ...LAB_FAST.corpus, probes: { taskPairs: 1, taskGenerate: 1, controlText: 1, controlPairs: 1, adoptionPairs: 1, adoptionGenerate: 1, echo: 4 } },
        pretrain: { ...LAB_FAST.pretrain, steps: 40 }, finetune: { ...LAB_FAST.finetune, steps: 6, evalEvery: 3 }, search: { ...LAB_FAST.search, steps: [6] },
      }
      : LAB_FAST;
    summary = await runLab(out, cfg, { backend, log: () => {}, fast: true });
    for (const f of ['report.html', 'report.md', 'summary.json']) expect(existsSync(join(out, f)), f).toBe(true);
    const names = summary.arms.map((a) => a.name);
    expect(names).toEqual(['lora-default', 'full-default', 'full-aggressive', 'full-measured', 'lora-replay', 'lora-anchor', 'lora-best', 'ablation-noisy-replay']);
    expect(summary.search.length).toBeGreaterThan(0);
    // replay comes from the curated tier, except in the ablation that replays the noisy pretraining text
    const byName = new Map(summary.arms.map((a) => [a.name, a]));
    expect(byName.get('lora-replay')!.replay_text).toBe('replay.txt');
    expect(byName.get('lora-default')!.replay_text).toBeNull();
    const abl = byName.get('ablation-noisy-replay')!;
    expect(abl.replay_text).toBe('pretrain.txt');
    expect(abl.replay).toBeGreaterThan(0);
    expect(summary.search.some((s) => s.lr === abl.lr && s.replay === abl.replay && s.steps === abl.steps)).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'runs', 'ablation-noisy-replay', 'config.resolved.json'), 'utf8')).replayText).toMatch(/pretrain\.txt$/);
  }, 600_000);

  it('summary.json on disk is the returned summary; the report shows every arm and verdict', () => {
    const disk = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(disk).toEqual(JSON.parse(JSON.stringify(summary)));
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    for (const a of summary.arms) {
      expect(md).toContain(a.name);
      expect(a.pass).toBe(a.drift <= summary.drift_bound && a.task_acc > summary.base.task_acc);
    }
  });

  it('every number is a measurement: finite, in range, consistent with the verdict rule', () => {
    const b = summary.base;
    for (const x of [b.task_acc, b.control_acc, b.adoption, b.echo_em]) expect(x).toBeGreaterThanOrEqual(0);
    expect(b.control_ppl).toBeGreaterThan(1);
    for (const a of summary.arms) {
      expect(Number.isFinite(a.drift)).toBe(true);
      expect(a.drift).toBeCloseTo((a.control_ppl - b.control_ppl) / b.control_ppl, 10);
      expect(a.evals[0].step).toBe(0);
    }
  });

  it('model_dir and run_dir load as `fmn eval --model … [--adapter …]` would', () => {
    const ctx = { backend: selectBackend(), log: () => {} };
    for (const a of summary.arms) {
      const r = a.method === 'lora'
        ? loadForInference(join(out, summary.base.model_dir), join(out, a.run_dir), ctx)
        : loadForInference(join(out, a.run_dir), undefined, ctx);
      expect(r.model.config.vocabSize).toBe(r.tok.vocabSize);
    }
  });
});
