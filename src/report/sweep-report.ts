/**
 * A sweep's report (`fmn report SWEEP_DIR`): the learning–forgetting frontier of every cell —
 * task gain against control drift (on the rows' split: test, or dev when the cells had only dev
 * probes, as the lab's) — with seeds as faint points around their setting's mean, the Pareto frontier of each method, the bound, and the recipe's defaults
 * marked; a table of the frontier settings and of every setting; and one pair of effect plots
 * per swept field. Pure but for writing the files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { Cell, Section } from './document.ts';
import { htmlPage, type PlotMeta, type RenderedPlot } from './html.ts';
import { markdownPage } from './markdown.ts';
import { scopeIds, specToSvg, svgToPng } from './render.ts';

type Value = number | string | boolean | string[] | number[];

/** One finished cell of a sweep (a line of sweep.jsonl). */
export interface SweepRow {
  cell: number;
  name: string;
  /** The settings that vary, seed included. */
  axis: Record<string, Value>;
  method: 'lora' | 'full';
  lr: number;
  seed: number;
  /** The run directory, relative to the sweep directory. */
  run_dir: string;
  split: 'test' | 'dev';
  task_acc_before: number | null;
  task_acc: number | null;
  task_acc_se: number | null;
  task_gain: number | null;
  task_gain_ci: [number, number] | null;
  task_gain_p: number | null;
  gen_em: number | null;
  control_ppl: number | null;
  drift: number | null;
  drift_ci: [number, number] | null;
  adoption: number | null;
  verdict: string | null;
  pass: boolean;
  dev: { task_acc: number | null; drift: number | null };
  /** ‖θ − θ₀‖ over every weight (LoRA: the merged ΔW). */
  delta_theta: number;
  trainable_params: number;
  steps: number;
  seconds: number;
  backend: string;
  threads: number;
}

/** The cells of one setting (every axis but the seed), with their means. */
export interface SweepGroup {
  key: string;
  label: string;
  settings: Record<string, Value>;
  method: 'lora' | 'full';
  rows: SweepRow[];
  task_gain: number;
  /** sd of the task gain over seeds (NaN with one seed), or the row's own half-interval. */
  task_gain_sd: number;
  drift: number;
  drift_lo: number;
  drift_hi: number;
  delta_theta: number;
  passes: number;
  frontier: boolean;
  /** Every swept value equals fmn finetune's default for its method. */
  recipeDefault: boolean;
}

/** fmn finetune's defaults that can mark a setting as "the recipe's" (lr depends on the method). */
const RECIPE: Record<string, (m: 'lora' | 'full') => Value> = {
  lr: (m) => (m === 'full' ? 1e-5 : 1e-4), rank: () => 8, alpha: () => 16, dropout: () => 0, replay: () => 0, lora_l2: () => 0, l2sp: () => 0, steps: () => 300, batch: () => 16,
};

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const sd = (xs: number[]) => (xs.length < 2 ? NaN : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));
const show = (v: Value) => (Array.isArray(v) ? v.join('+') : typeof v === 'number' ? (Math.abs(v) < 1e-2 && v !== 0 ? v.toExponential(0) : String(v)) : String(v));

/** Groups rows by setting (seed aside), computes means, and marks each method's Pareto frontier (more gain, less drift). */
export function groupSweep(rows: readonly SweepRow[], axes: readonly string[]): SweepGroup[] {
  const keys = axes.filter((k) => k !== 'seed');
  const by = new Map<string, SweepRow[]>();
  for (const r of rows) {
    if (r.task_gain === null || r.drift === null) continue;
    const k = [r.method, ...keys.map((a) => `${a}=${show(r.axis[a] ?? '')}`)].join(' ');
    by.set(k, [...(by.get(k) ?? []), r]);
  }
  const groups: SweepGroup[] = [...by].map(([key, rs]) => {
    const settings: Record<string, Value> = { method: rs[0]!.method };
    for (const a of keys) if (rs[0]!.axis[a] !== undefined) settings[a] = rs[0]!.axis[a]!;
    const gains = rs.map((r) => r.task_gain!), drifts = rs.map((r) => r.drift!);
    const one = rs.length === 1 ? rs[0]! : null;
    return {
      key, settings, method: rs[0]!.method, rows: rs,
      label: keys.filter((a) => a !== 'method').map((a) => `${a} ${show(settings[a]!)}`).join(', ') || rs[0]!.method,
      task_gain: mean(gains), task_gain_sd: one?.task_gain_ci ? (one.task_gain_ci[1] - one.task_gain_ci[0]) / 3.92 : sd(gains),
      drift: mean(drifts), drift_lo: Math.min(...rs.map((r) => r.drift_ci?.[0] ?? r.drift!)), drift_hi: Math.max(...rs.map((r) => r.drift_ci?.[1] ?? r.drift!)),
      delta_theta: mean(rs.map((r) => r.delta_theta)), passes: rs.filter((r) => r.pass).length, frontier: false,
      recipeDefault: keys.length > 0 && keys.every((a) => a === 'method' || a === 'seed' || (a in RECIPE && JSON.stringify(settings[a]) === JSON.stringify(RECIPE[a]!(rs[0]!.method)))),
    };
  });
  for (const m of ['lora', 'full'] as const) {
    let best = -Infinity;
    for (const g of groups.filter((x) => x.method === m).sort((a, b) => a.drift - b.drift || b.task_gain - a.task_gain)) {
      if (g.task_gain > best) { g.frontier = true; best = g.task_gain; }
    }
  }
  return groups.sort((a, b) => (a.method === b.method ? b.task_gain - a.task_gain : a.method < b.method ? 1 : -1));
}

const COLORS = { lora: '#4c78a8', full: '#f58518' };
const W = 520, H = 300;
const CONFIG = { font: 'sans-serif', background: 'white', padding: 8, axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e8e8e8' }, legend: { orient: 'bottom' as const, direction: 'horizontal' as const }, title: { fontSize: 14, anchor: 'start' as const, subtitleColor: '#666' }, view: { stroke: '#ddd' } };
const methodColor = { field: 'method', type: 'nominal' as const, title: 'method', scale: { domain: ['lora', 'full'], range: [COLORS.lora, COLORS.full] } };
const spec = (title: string, subtitle: string, body: Record<string, unknown>): TopLevelSpec =>
  ({ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: { text: title, subtitle }, width: W, height: H, config: CONFIG, ...body }) as TopLevelSpec;

function frontierSpec(groups: SweepGroup[], bound: number, split: string): TopLevelSpec {
  const cells = groups.flatMap((g) => g.rows.map((r) => ({ method: g.method, drift: r.drift, gain: r.task_gain, name: r.name })));
  const means = groups.map((g) => ({ method: g.method, drift: g.drift, gain: g.task_gain, label: g.label, lo: g.drift_lo, hi: g.drift_hi, glo: g.task_gain - g.task_gain_sd, ghi: g.task_gain + g.task_gain_sd, frontier: g.frontier, recipe: g.recipeDefault }));
  const spread = Math.max(bound, ...cells.map((c) => Math.abs(c.drift ?? 0)));
  const symlog = spread > 10 * bound;
  const x = { field: 'drift', type: 'quantitative' as const, title: `control drift (${split})${symlog ? ', symlog scale' : ''}`, axis: { format: '.0%' }, scale: symlog ? { type: 'symlog' as const, constant: bound / 2 } : { zero: false } };
  const y = { field: 'gain', type: 'quantitative' as const, title: 'task gain (accuracy after − before)' };
  const front = means.filter((m) => m.frontier).sort((a, b) => a.drift - b.drift);
  return spec('The learning–forgetting frontier', `${cells.length} cells, ${groups.length} settings · bound ${+(bound * 100).toFixed(2)}% · lines: each method's Pareto frontier`, {
    layer: [
      { data: { values: [{ drift: bound }] }, mark: { type: 'rule', color: '#d62728', strokeDash: [6, 4] }, encoding: { x } },
      { data: { values: means.filter((m) => Number.isFinite(m.lo)) }, mark: { type: 'rule', opacity: 0.5 }, encoding: { x: { ...x, field: 'lo' }, x2: { field: 'hi' }, y, color: methodColor } },
      { data: { values: means.filter((m) => Number.isFinite(m.glo)) }, mark: { type: 'rule', opacity: 0.5 }, encoding: { x, y: { ...y, field: 'glo' }, y2: { field: 'ghi' }, color: methodColor } },
      { data: { values: cells }, mark: { type: 'point', filled: true, opacity: 0.3, size: 30 }, encoding: { x, y, color: methodColor } },
      { data: { values: front }, mark: { type: 'line', strokeWidth: 2 }, encoding: { x, y, color: methodColor, order: { field: 'drift' } } },
      { data: { values: means }, mark: { type: 'point', filled: true, size: 90 }, encoding: { x, y, color: methodColor, shape: { field: 'frontier', type: 'nominal', title: 'on the frontier', scale: { domain: [true, false], range: ['circle', 'triangle-down'] } } } },
      { data: { values: means.filter((m) => m.recipe) }, mark: { type: 'point', size: 260, strokeWidth: 2, color: '#000', filled: false }, encoding: { x, y } },
      { data: { values: means.filter((m) => m.recipe) }, mark: { type: 'text', dy: -16, fontSize: 11 }, encoding: { x, y, text: { value: 'recipe default' } } },
      { data: { values: front }, mark: { type: 'text', dx: 8, align: 'left', fontSize: 10 }, encoding: { x, y, text: { field: 'label' } } },
    ],
  });
}

function effectSpecs(groups: SweepGroup[], field: string): { name: string; title: string; spec: TopLevelSpec }[] {
  const vals = [...new Set(groups.map((g) => show(g.settings[field] ?? '—')))];
  const numeric = groups.every((g) => typeof g.settings[field] === 'number');
  const order = numeric ? [...new Set(groups.map((g) => g.settings[field] as number))].sort((a, b) => a - b).map(show) : vals;
  const agg = (pick: (g: SweepGroup) => number) => ['lora', 'full'].flatMap((m) => order.map((v) => {
    const gs = groups.filter((g) => g.method === m && show(g.settings[field] ?? '—') === v);
    return gs.length ? [{ method: m, value: v, y: mean(gs.map(pick)), n: gs.length }] : [];
  }).flat());
  const plot = (what: string, ytitle: string, data: object[], fmt?: string) => spec(`${what} by ${field}`, 'mean over the other settings and seeds', {
    data: { values: data },
    mark: { type: 'line', point: { size: 60 }, strokeWidth: 2 },
    encoding: { x: { field: 'value', type: 'ordinal', title: field, sort: order, axis: { labelAngle: 0 } }, y: { field: 'y', type: 'quantitative', title: ytitle, ...(fmt && { axis: { format: fmt } }) }, color: methodColor },
  });
  const slug = field.replace(/[^a-z0-9]+/gi, '-');
  return [
    { name: `effect-${slug}-task`, title: `Task gain by ${field}`, spec: plot('Task gain', 'task gain', agg((g) => g.task_gain)) },
    { name: `effect-${slug}-drift`, title: `Drift by ${field}`, spec: plot('Control drift', 'control drift', agg((g) => g.drift), '.0%') },
  ];
}

const pm = (m: number, s: number) => `${m >= 0 ? '+' : ''}${m.toFixed(3)}${Number.isFinite(s) ? ` ± ${s.toFixed(3)}` : ''}`;
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}%`;

function sections(groups: SweepGroup[], rows: readonly SweepRow[], axes: readonly string[], bound: number, effectNames: string[]): Section[] {
  const head = ['method', 'setting', 'seeds', 'task gain (± sd)', 'drift (mean)', 'drift range of the intervals', 'passes', '‖Δθ‖'];
  const row = (g: SweepGroup): Cell[] => [g.method, g.label + (g.recipeDefault ? ' (recipe default)' : ''), String(g.rows.length), pm(g.task_gain, g.task_gain_sd), pct(g.drift),
    `[${pct(g.drift_lo)}, ${pct(g.drift_hi)}]`, { text: `${g.passes}/${g.rows.length}`, tone: g.passes === g.rows.length ? 'pass' : g.passes === 0 ? 'fail' : undefined }, g.delta_theta.toPrecision(3)];
  const numeric = head.map((_, i) => i >= 2);
  const split = rows[0]?.split ?? 'test';
  const within = (m: 'lora' | 'full') => groups.filter((g) => g.method === m && g.drift_hi <= bound).sort((a, b) => b.task_gain - a.task_gain)[0];
  const lines = (['lora', 'full'] as const).flatMap((m) => {
    const w = within(m);
    if (groups.every((g) => g.method !== m)) return [];
    return [w ? `${m === 'lora' ? 'LoRA' : 'Full fine-tuning'}: the most learning with every interval inside the bound is ${w.label} — task gain ${pm(w.task_gain, w.task_gain_sd)}, drift ${pct(w.drift)} (intervals within [${pct(w.drift_lo)}, ${pct(w.drift_hi)}]).`
      : `${m === 'lora' ? 'LoRA' : 'Full fine-tuning'}: no setting keeps every seed's drift interval inside the bound.`];
  });
  return [
    {
      id: 'frontier', title: 'The frontier', blocks: [
        { kind: 'p', text: `${rows.length} cells (${groups.length} settings × seeds), ${split} split; swept: ${axes.join(', ')}. Each point is a cell; large points are a setting's mean over seeds with the range of its drift intervals and ± 1 sd of the task gain; a method's Pareto frontier joins the settings no other setting beats on both gain and drift. Choosing a setting from this plot is choosing on the ${split} split: confirm the choice on fresh items before reporting it.` },
        { kind: 'list', items: lines.map((text) => ({ text })) },
        { kind: 'plot', name: 'sweep-frontier' },
        { kind: 'table', head, rows: groups.filter((g) => g.frontier).map(row), numeric },
      ],
    },
    { id: 'effects', title: 'Effect of each swept setting', blocks: effectNames.length ? effectNames.map((name) => ({ kind: 'plot' as const, name })) : [{ kind: 'p', text: 'Nothing but the seed was swept.', tone: 'muted' }] },
    { id: 'settings', title: 'Every setting', blocks: [{ kind: 'table', head, rows: groups.map(row), numeric }] },
    {
      id: 'cells', title: 'Every cell', blocks: [{
        kind: 'table', head: ['cell', 'task', 'task gain [CI]', 'drift [CI]', 'verdict', '‖Δθ‖', 'time'],
        rows: rows.map((r) => [r.name, r.task_acc?.toFixed(3) ?? '—', r.task_gain === null ? '—' : `${pm(r.task_gain, NaN)}${r.task_gain_ci ? ` [${r.task_gain_ci[0].toFixed(3)}, ${r.task_gain_ci[1].toFixed(3)}]` : ''}`,
          r.drift === null ? '—' : `${pct(r.drift)}${r.drift_ci ? ` [${pct(r.drift_ci[0])}, ${pct(r.drift_ci[1])}]` : ''}`,
          { text: r.verdict ?? '—', tone: r.verdict === 'PASS' ? 'pass' : r.verdict === 'FAIL' ? 'fail' : 'muted' }, r.delta_theta.toPrecision(3), `${r.seconds.toFixed(1)} s`]),
        numeric: [false, true, true, true, false, true, true],
      }],
    },
  ];
}

/** Writes DIR/report.html, report.md and plots/ for a sweep's rows; returns the files. */
export async function writeSweepReport(dir: string, rows: readonly SweepRow[], axes: readonly string[], bound: number): Promise<{ html: string; md: string; plots: string[] }> {
  const groups = groupSweep(rows, axes);
  const fields = axes.filter((a) => a !== 'seed' && a !== 'method' && new Set(groups.map((g) => show(g.settings[a] ?? '—'))).size > 1);
  const effects = fields.flatMap((f) => effectSpecs(groups, f));
  const metas: PlotMeta[] = [
    { name: 'sweep-frontier', title: 'The learning–forgetting frontier', caption: 'Task gain against control drift for every cell (faint) and every setting (large: mean over seeds; bars: the range of its drift intervals, ± 1 sd of the gain); lines join each method\'s Pareto frontier; the red rule is the drift bound; a black ring marks the recipe\'s defaults.', wide: true },
    ...effects.map((e) => ({ name: e.name, title: e.title, caption: `${e.title}: each method's mean over the other swept settings and the seeds.` })),
  ];
  const specs = [{ name: 'sweep-frontier', spec: frontierSpec(groups, bound, rows[0]?.split ?? 'test') }, ...effects];
  const plotDir = join(dir, 'plots');
  mkdirSync(plotDir, { recursive: true });
  const rendered: RenderedPlot[] = [];
  const written: string[] = [];
  for (const s of specs) {
    const svg = scopeIds(await specToSvg(s.spec), s.name);
    rendered.push({ name: s.name, svg });
    writeFileSync(join(plotDir, `${s.name}.svg`), svg);
    writeFileSync(join(plotDir, `${s.name}.png`), svgToPng(svg));
    written.push(join(plotDir, `${s.name}.svg`), join(plotDir, `${s.name}.png`));
  }
  const secs = sections(groups, rows, axes, bound, effects.map((e) => e.name));
  const subtitle = `${rows.length} cells · backend ${rows[0]?.backend ?? '—'} · drift bound ${+(bound * 100).toFixed(2)}%`;
  const files = { html: join(dir, 'report.html'), md: join(dir, 'report.md'), plots: written };
  writeFileSync(files.html, htmlPage('forgetmenot sweep report', subtitle, secs, rendered, metas));
  writeFileSync(files.md, markdownPage('forgetmenot sweep report', subtitle, secs, metas));
  return files;
}
