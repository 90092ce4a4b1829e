import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backend/select.ts';
import { probeFileObservers } from '../src/data/probes.ts';
import { runLab } from '../src/lab/lab.ts';
import { LAB_FAST, type LabConfig } from '../src/lab/lab-config.ts';
import type { LabSummary } from '../src/report/summary.ts';
import { loadForInference } from '../src/lora/load.ts';

// The CI-sized lab end to end: every arm and seed runs (as cells of the lab's sweep, two at a
// time), selection reads the dev split only, the report and summary.json agree, and every run
// directory is one `fmn eval` accepts.
describe('fmn lab --fast', () => {
  const out = mkdtempSync(join(tmpdir(), 'fmn-lab-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  let summary: LabSummary;
  const events: string[] = [];

  it('runs every arm; no test probe file is opened before every selection is made', async () => {
    const backend = selectBackend();
    // on the js fallback (no addon) the same pipeline runs at a fraction of the steps
    const cfg: LabConfig = backend.name === 'js'
      ? {
        ...LAB_FAST, out,
        corpus: { ...LAB_FAST.corpus, probes: { ...LAB_FAST.corpus.probes, taskPairs: 1, taskGenerate: 1, controlText: 1, controlPairs: 1, adoptionPairs: 1, adoptionGenerate: 1, generalizationPairs: 1, generalizationGenerate: 1, echo: 4 } },
        pretrain: { ...LAB_FAST.pretrain, steps: 40 }, finetune: { ...LAB_FAST.finetune, steps: 6, evalEvery: 3 },
      }
      : { ...LAB_FAST, out };
    const observe = (file: string) => events.push(`open ${file.includes('/probes/test/') ? 'test' : file.includes('/probes/dev/') ? 'dev' : 'other'}`);
    probeFileObservers.add(observe);
    try {
      summary = await runLab(cfg, { backend, log: (l) => { if (l.startsWith('lab: selection done')) events.push('selection done'); } });
    } finally { probeFileObservers.delete(observe); }
    const done = events.indexOf('selection done');
    expect(done).toBeGreaterThan(0);
    expect(events.slice(0, done)).toContain('open dev');
    expect(events.slice(0, done)).not.toContain('open test');
    expect(events.slice(done)).toContain('open test');

    for (const f of ['report.html', 'report.md', 'summary.json', 'config.resolved.json']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(summary.arms.map((a) => a.name)).toEqual(['lora-none', 'lora-replay', 'lora-replay-pretrain', 'lora-anchor', 'full-none', 'full-replay', 'full-replay-pretrain', 'full-anchor',
      'lora-default', 'full-default', 'full-aggressive']);
    const byName = new Map(summary.arms.map((a) => [a.name, a]));
    // matched controls: the two methods of a recipe share it and differ in method only
    for (const r of ['none', 'replay', 'replay-pretrain', 'anchor']) {
      const l = byName.get(`lora-${r}`)!, f = byName.get(`full-${r}`)!;
      expect([l.recipe, f.recipe, l.replay_text, l.replay]).toEqual([r, r, f.replay_text, f.replay]);
      expect(l.seeds.map((s) => s.seed)).toEqual(summary.seeds);
    }
    expect(byName.get('lora-replay')!.replay_text).toBe('replay.txt');
    expect(byName.get('lora-replay-pretrain')!.replay_text).toBe('pretrain.txt');
    expect(JSON.parse(readFileSync(join(out, byName.get('full-replay-pretrain')!.run_dir, 'config.resolved.json'), 'utf8')).replay_text).toMatch(/pretrain\.txt$/);
    // the calibration's runs are reused as first seeds: the chosen rate is every factorial cell's
    for (const a of summary.arms.filter((x) => x.kind === 'factorial')) expect(a.lr).toBe(summary.calibration.chosen[a.method]);
    expect(summary.contrasts.filter((c) => c.factor === 'method')).toHaveLength(4);
    expect(summary.contrasts.filter((c) => c.factor === 'mitigation')).toHaveLength(6);
    expect(summary.story.length).toBeGreaterThan(2);
  }, 900_000);

  it('every fine-tune is a cell of the lab\'s sweep (DIR/runs): one row each in sweep.jsonl, the dev numbers selection read', () => {
    const runs = join(out, 'runs');
    const plan = JSON.parse(readFileSync(join(runs, 'sweep.json'), 'utf8')) as { cells: { name: string; values: Record<string, unknown> }[] };
    const rows = readFileSync(join(runs, 'sweep.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { name: string; split: string; dev: { task_acc: number }; run_dir: string });
    expect(rows.map((r) => r.name)).toEqual(plan.cells.map((c) => c.name));
    // the calibration's runs are its first cells; a run asked for twice is one cell
    expect(plan.cells.slice(0, summary.calibration.rows.length).map((c) => c.name))
      .toEqual(summary.calibration.rows.map((r) => `${r.method}-${r.recipe}-lr${r.lr}-s${summary.seeds[0]}`));
    expect(new Set(plan.cells.map((c) => c.name)).size).toBe(plan.cells.length);
    // the cells read the dev probes only; their rows say so and carry what selection read
    for (const c of plan.cells) expect(JSON.stringify(c.values)).not.toContain('/probes/test/');
    const byName = new Map(rows.map((r) => [r.name, r]));
    for (const r of rows) expect(r.split).toBe('dev');
    for (const cal of summary.calibration.rows) expect(byName.get(`${cal.method}-${cal.recipe}-lr${cal.lr}-s${summary.seeds[0]}`)!.dev.task_acc).toBe(cal.dev_task_acc);
    for (const a of summary.arms) {
      expect(a.run_dir.startsWith(join('runs', 'cells'))).toBe(true);
      for (const s of a.seeds) expect(byName.get(`${a.method}-${a.recipe}-lr${a.lr}-s${s.seed}`)!.dev.task_acc).toBe(s.dev.task_acc);
    }
  });

  it('summary.json on disk is the returned summary; the report leads with the verdict and the factorial table', () => {
    const disk = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(disk).toEqual(JSON.parse(JSON.stringify(summary)));
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    for (const a of summary.arms) expect(md).toContain(a.name);
    expect(md.indexOf('| mitigation | LoRA task (± sd)')).toBeLessThan(md.indexOf('## Arms'));
    expect(md.indexOf('smoke test')).toBeLessThan(md.indexOf('## Arms'));
  });

  it('every number is a measurement: finite where it must be, in range, consistent with the verdict rule', () => {
    const b = summary.base;
    for (const x of [b.task_acc, b.control_acc, b.adoption, b.echo_em, b.generalization]) { expect(x).toBeGreaterThanOrEqual(0); expect(x).toBeLessThanOrEqual(1); }
    expect(b.control_ppl).toBeGreaterThan(1);
    for (const a of summary.arms) {
      for (const s of a.seeds) expect(s.drift).toBeCloseTo((s.control_ppl - b.control_ppl) / b.control_ppl, 10);
      expect(a.drift_ci[0]).toBeLessThanOrEqual(a.drift + 1e-12);
      expect(a.drift_ci[1]).toBeGreaterThanOrEqual(a.drift - 1e-12);
      const hi = a.drift_ci[1], lo = a.drift_ci[0];
      if (a.verdict === 'PASS') expect(hi).toBeLessThanOrEqual(summary.drift_bound);
      if (lo > summary.drift_bound) expect(a.verdict).toBe('FAIL');
      expect(a.split).toBe('test');
      expect(a.evals[0].step).toBe(0);
      expect(a.samples.length).toBeGreaterThan(0);
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
