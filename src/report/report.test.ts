import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureSummary, writeFixtureMetrics } from './fixture.testutil.ts';
import { renderHtml } from './html.ts';
import { renderMarkdown } from './markdown.ts';
import { PLOTS } from './plots.ts';
import type { LabSummary } from './summary.ts';
import { writeReport, type ReportFiles } from './write.ts';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('writeReport', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fmn-report-'));
  const summary = fixtureSummary();
  let files: ReportFiles;
  let html: string;
  beforeAll(async () => {
    writeFixtureMetrics(dir, summary);
    files = await writeReport(dir, summary);
    html = readFileSync(files.html, 'utf8');
  });

  it('writes report.html, report.md, summary.json and an svg + png per plot', () => {
    expect(files.html).toBe(join(dir, 'report.html'));
    for (const f of [files.html, files.md, files.json]) expect(existsSync(f), f).toBe(true);
    for (const p of PLOTS) {
      expect(existsSync(join(dir, 'plots', `${p.name}.svg`)), p.name).toBe(true);
      const png = readFileSync(join(dir, 'plots', `${p.name}.png`));
      expect(png.subarray(0, 8).equals(PNG_SIGNATURE), p.name).toBe(true);
      expect(png.length, p.name).toBeGreaterThan(5000);
    }
  });

  it('summary.json round-trips', () => {
    expect(JSON.parse(readFileSync(files.json, 'utf8'))).toEqual(summary);
  });

  it('the HTML is self-contained: no scripts, links or remote sources', () => {
    for (const bad of [/<script/i, /<link/i, /\bsrc=/i, /url\((?!#)/i, /@import|@font-face/i, /<iframe|<object|<embed/i]) {
      expect(bad.test(html), String(bad)).toBe(false);
    }
  });

  it('the HTML names every arm and inlines one svg per plot, with unique ids', () => {
    for (const a of summary.arms) expect(html.includes(a.name), a.name).toBe(true);
    expect(html.match(/<svg/g)?.length).toBe(PLOTS.length);
    for (const p of PLOTS) expect(new RegExp(`<figure id="plot-${p.name}"[^>]*><svg`).test(html), p.name).toBe(true);
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('each plot has drawn marks: lines for curves, seed points and interval bars in the scatter, bars per verb', () => {
    const svg = (name: string) => readFileSync(join(dir, 'plots', `${name}.svg`), 'utf8');
    expect(svg('loss').match(/class="mark-line[^"]*"/g)?.length).toBeGreaterThan(0);
    expect(svg('drift')).toMatch(/class="mark-rule/);
    expect(svg('frontier').match(/<text[^>]*>(lora-none|lora-replay|full-none|full-replay|base)<\/text>/g)).toHaveLength(5);
    // 4 arms × 3 seeds faint points + 4 means + the base diamond
    expect(svg('frontier').match(/aria-roledescription="point"/g)!.length).toBeGreaterThanOrEqual(4 * 3 + 4 + 1);
    // 8 verbs × base + 4 arms, less the one verb that lora-replay lacks
    expect(svg('per-verb').match(/<path[^>]*aria-roledescription="bar"/g)).toHaveLength(8 * 5 - 1);
  });

  it('the first screen: target, the method × mitigation table with intervals, the generalization row, then the derived story', () => {
    const md = readFileSync(files.md, 'utf8');
    const verdict = md.indexOf('## Verdict');
    expect(verdict).toBeGreaterThan(0);
    expect(verdict).toBeLessThan(md.indexOf('## Arms'));
    expect(md).toContain('Target met (arm lora-replay): lora-replay passes with task 0.380 → 0.912; what made it pass: replay of the clean tier (replay.txt)');
    expect(md).toContain('- Replay of the clean tier (replay.txt) moved LoRA inside the bound.');
    expect(md).toContain('| mitigation | LoRA task (± sd) | LoRA drift [CI] | LoRA | full task (± sd) | full drift [CI] | full |');
    expect(md).toContain('| replay replay.txt | 0.912 ± 0.010 | +2.10% [+1.10%, +3.30%] | **PASS** | 0.950 ± 0.010 | +4.50% [+3.50%, +5.70%] | INCONCLUSIVE |');
    expect(md).toContain('| none | 0.600 ± 0.060 | 0.600 ± 0.060 |');
    expect(html.indexOf('id="verdict"')).toBeLessThan(html.indexOf('id="arms"'));
    // the tables come straight after the target, before the story, so they fit on the first screen
    expect(md.indexOf('| mitigation | LoRA task')).toBeLessThan(md.indexOf('| mitigation | LoRA generalization'));
    expect(md.indexOf('| mitigation | LoRA generalization')).toBeLessThan(md.indexOf('- Replay of the clean tier (replay.txt) moved LoRA'));
  });

  it('the Markdown has rows per arm, seed, contrast, calibration run, sample, tag and layer', () => {
    const md = readFileSync(files.md, 'utf8');
    expect(md).toContain('| lora-replay (best on dev) | factorial | lora | 1e-2 | 0.5 (replay.txt) | 0 | 3 | 24,576 | 0.912 ± 0.010 | +0.532 (< 0.001) |');
    expect(md).toContain('| full-none | 1235 | 0.975 | 0.780 | +180.0% | 0.850 | 0.600 | 0.965 | +180.1% | 20.0 s | runs/full-none-s1235 |');
    expect(md).toContain('| method | full-replay | lora-replay | +0.038 [+0.010, +0.070] | 0.020 | +2.40% [+0.50%, +4.00%] |');
    expect(md).toContain('| lora | 1e-2 | replay replay.txt | 0.900 | +2.00% | **yes** |');
    expect(md).toContain('| lora-none | task | He goed home.<\\|sep\\|> | He went home. (correction) | He goed home. (correct) | He went home. (correction) |');
    expect(md).toContain('| verb=write | 12 | 0.550 | 0.790 (+0.240) | — | 1.000 (+0.450) | 1.000 (+0.450) |');
    expect(md).toContain('| transformer.h.0.attn.c_attn | 128 | 384 | 49,152 | 4,096 | 8.33% |');
    expect(md).toContain('4 examples in context, no training, 96 test items: task acc 0.450 ± 0.050');
    expect(md).toContain('wall time 5 min 12 s; backend native, 2 threads');
    expect(md).toContain('mean cross-entropy over the completion tokens of the SFT rows and, in replay arms, over every token of the replayed windows too');
    for (const p of PLOTS) expect(md).toContain(`](plots/${p.name}.png)`);
  });
});

describe('renderMarkdown / renderHtml', () => {
  it('--fast says on the first screen that its numbers mean nothing', () => {
    const s: LabSummary = { ...fixtureSummary(), fast: true };
    const md = renderMarkdown(s);
    expect(md.indexOf('smoke test')).toBeLessThan(md.indexOf('## Arms'));
  });

  it('are pure and survive missing per-tag results, NaN intervals and no metrics', () => {
    const s: LabSummary = fixtureSummary();
    s.base.probes = {};
    s.arms[0]!.probes = { task: { n: 1 } };
    s.arms[0]!.drift_ci = [NaN, NaN];
    s.arms[0]!.task_acc_sd = NaN;
    const md = renderMarkdown(s);
    expect(md).toBe(renderMarkdown(s));
    expect(md).toContain('| none | 0.700 | +20.0% [—, —] | **FAIL** |');
    const html = renderHtml(s, []);
    expect(html).toContain('plot frontier not rendered');
    expect(html).not.toContain('<svg');
  });

  it('escapes HTML and Markdown table syntax in names', () => {
    const s = fixtureSummary();
    s.arms[0]!.name = 'a|b<script>';
    expect(renderHtml(s, [])).toContain('a|b&lt;script&gt;');
    expect(renderHtml(s, [])).not.toContain('<script>');
    expect(renderMarkdown(s)).toContain('| a\\|b<script> | factorial | lora |');
  });
});

describe('plotSpecs', () => {
  it('compile without vega-lite warnings', async () => {
    const { plotSpecs } = await import('./plots.ts');
    const { compileSpec } = await import('./render.ts');
    const s = fixtureSummary();
    const series = { train: [{ arm: 'lora-default', step: 0, loss: 2 }], evals: [{ arm: 'lora-default', step: 0, task_acc: 0.4, drift: 0 }], pretrain: [] };
    for (const { name, spec } of plotSpecs(s, series)) expect(compileSpec(spec).warnings, name).toEqual([]);
  });
});

describe('thin', () => {
  it('keeps at most max points, evenly, with the first and last', async () => {
    const { thin } = await import('./series.ts');
    const xs = Array.from({ length: 1001 }, (_, i) => i);
    const t = thin(xs, 100);
    expect(t.length).toBeLessThanOrEqual(101);
    expect([t[0], t[1], t.at(-1)]).toEqual([0, 11, 1000]);
    expect(thin([1, 2, 3], 100)).toEqual([1, 2, 3]);
  });
});
