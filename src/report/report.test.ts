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

  it('each plot has drawn marks: lines for curves, points for the scatter, bars per verb', () => {
    const svg = (name: string) => readFileSync(join(dir, 'plots', `${name}.svg`), 'utf8');
    expect(svg('loss').match(/class="mark-line[^"]*"/g)?.length).toBeGreaterThan(0);
    expect(svg('drift')).toMatch(/class="mark-rule/);
    expect(svg('frontier').match(/<text[^>]*>(lora-default|full-aggressive|lora-replay|base)<\/text>/g)).toHaveLength(4);
    // 8 verbs × base + 3 arms, less the one verb that lora-replay lacks
    expect(svg('per-verb').match(/<path[^>]*aria-roledescription="bar"/g)).toHaveLength(8 * 4 - 1);
  });

  it('the verdict comes first, with the target line and each arm PASS/FAIL and why', () => {
    const md = readFileSync(files.md, 'utf8');
    const verdict = md.indexOf('## Verdict');
    expect(verdict).toBeGreaterThan(0);
    expect(verdict).toBeLessThan(md.indexOf('## Arms'));
    expect(md).toContain('Target met (arm lora-default): lora-default reaches task 0.912');
    expect(md).toContain('- **PASS** lora-default — drift +2.10% ≤ bound 5%; task acc 0.380 → 0.912 (+0.532).');
    expect(md).toContain('- **FAIL** full-aggressive — drift +180.0% > bound 5%; task acc 0.380 → 0.975 (+0.595). drift over the bound.');
    expect(html.indexOf('id="verdict"')).toBeLessThan(html.indexOf('id="arms"'));
    expect(html.includes('<span class="badge fail">FAIL</span>full-aggressive')).toBe(true);
  });

  it('the Markdown has a table row per arm, per tag, per search candidate and per layer', () => {
    const md = readFileSync(files.md, 'utf8');
    expect(md).toContain('| lora-default | lora | 1e-4 | 60 | 0 | 0 | 8 | 24,576 | 0.912 | 0.730 | 12.76 | +2.10% | 0.900 | 0.850 | **PASS** |');
    expect(md).toContain('| full-aggressive | full | 1e-3 | 60 | 0 | 0 | — | 812,000 | 0.975 | 0.780 | 35 | **+180.0%** |');
    expect(md).toContain('| lora-replay | lora | 1e-4 | 60 | 0.05 (replay.txt) | 0.01 | 8 |');
    expect(md).toContain('| verb=go | 12 | 0.350 | 0.922 (+0.572) | 0.985 (+0.635) | 0.860 (+0.510) |');
    expect(md).toContain('| verb=write | 12 | 0.550 | 1.000 (+0.450) | 1.000 (+0.450) | — |');
    expect(md).toContain('| lr=3e-4,replay=0 | 3e-4 | 60 | 0 | 0 | 0.930 | +7.00% | **FAIL** |');
    expect(md).toContain('| transformer.h.0.attn.c_attn | 128 | 384 | 49,152 | 4,096 | 8.33% |');
    expect(md).toContain('4 examples in context, no training, 96 items: task acc 0.450');
    expect(md).toContain('wall time 5 min 12 s; backend native, 2 threads');
    for (const p of PLOTS) expect(md).toContain(`](plots/${p.name}.png)`);
  });
});

describe('renderMarkdown / renderHtml', () => {
  it('an arm replaying pretrain.txt is set against the search candidate with its recipe', () => {
    const s: LabSummary = fixtureSummary();
    expect(renderMarkdown(s)).not.toContain('Replay source');
    const twin = s.search[1]!;
    s.arms.push({ ...s.arms[2]!, name: 'ablation-noisy-replay', description: 'noisy replay', lr: twin.lr, steps: twin.steps, replay: twin.replay,
      lambda: twin.lambda, replay_text: 'pretrain.txt', task_acc: 0.41, drift: -0.012, pass: true });
    expect(renderMarkdown(s)).toContain('Replay source: the recipe of lr=1e-4,replay=0.05 reaches task acc 0.880 (drift +1.00%) replaying the curated '
      + 'replay.txt, and 0.410 (drift −1.20%) replaying pretrain.txt, errors and all (ablation-noisy-replay).');
  });

  it('are pure and survive missing per-tag results, no search and no metrics', () => {
    const s: LabSummary = fixtureSummary();
    s.base.probes = {};
    s.arms[0]!.probes = { task: { n: 1 } };
    s.search = [];
    const md = renderMarkdown(s);
    expect(md).toBe(renderMarkdown(s));
    expect(md).toContain('| verb=be | 12 | — | — | 0.925 (+0.925) |'.replace(' (+0.925)', ''));
    expect(md).toContain('No search was run.');
    const html = renderHtml(s, []);
    expect(html).toContain('plot frontier not rendered');
    expect(html).not.toContain('<svg');
  });

  it('escapes HTML and Markdown table syntax in names', () => {
    const s = fixtureSummary();
    s.arms[0]!.name = 'a|b<script>';
    expect(renderHtml(s, [])).toContain('a|b&lt;script&gt;');
    expect(renderHtml(s, [])).not.toContain('<script>');
    expect(renderMarkdown(s)).toContain('| a\\|b<script> | lora |');
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
