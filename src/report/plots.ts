import type { TopLevelSpec } from 'vega-lite';
import { tagRows } from './by-tag.ts';
import { placeLabels, SPOTS } from './labels.ts';
import type { Series } from './series.ts';
import type { LabSummary } from './summary.ts';

/** Every plot of the report: file stem in plots/, title, and how to read it. */
export const PLOTS = [
  { name: 'frontier', title: 'Learning vs forgetting', caption: 'Each arm after fine-tuning, test split: control drift (x) against task accuracy (y). Large points are the means over seeds with the drift interval (horizontal bar) and ± 1 se of task accuracy (vertical bar); faint points are the single seeds; the black diamond is the base model; the red rule is the bound.' },
  { name: 'drift', title: 'Control drift over steps (dev)', caption: 'Relative change of the dev control probe\'s perplexity during fine-tuning (first seed of each arm); the red rule is the bound.' },
  { name: 'task-acc', title: 'Task accuracy over steps (dev)', caption: 'Dev task-probe (irregular verb) pair accuracy during fine-tuning (first seed of each arm); the dashed rule is the base model on dev.' },
  { name: 'loss', title: 'Fine-tuning loss', caption: 'Training loss per logged step (first seed): mean cross-entropy over the completion tokens of the SFT rows and, in replay arms, over every token of the replayed windows too, so replay arms sit on another scale.' },
  { name: 'pretrain-loss', title: 'Pretraining loss', caption: 'Loss of the base model during pretraining, training batches and held-out text.' },
  { name: 'per-verb', wide: true, title: 'Task accuracy per verb', caption: 'Task-probe accuracy per irregular verb: base model (grey) and each arm.' },
  { name: 'update-curve', title: 'One update, scaled', caption: 'θ₀ + α·Δθ for the analyzed arms (first seeds, test split): each line runs from the base (α 0) to the tuned model (α 1); faint points are every arm\'s result (means over seeds), as in the learning–forgetting plot.' },
  { name: 'update-rank', title: 'Effective rank of the update', caption: 'Effective rank of ΔW per updated matrix (exp of the entropy of σᵢ/Σσ), per analyzed arm: how many directions each update uses.' },
] as const;

export type PlotName = (typeof PLOTS)[number]['name'];

/** Vega's tableau10 (yellow darkened to read as text), spelled out so every plot gives an arm the same color. */
const PALETTE = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#b8960a', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];
const BASE_COLOR = '#8c8c8c';
const BOUND_COLOR = '#d62728';
const W = 480, H = 250;

const CONFIG = {
  font: 'sans-serif',
  background: 'white',
  padding: 8,
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e8e8e8' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 200, orient: 'bottom' as const, direction: 'horizontal' as const, columns: 3, columnPadding: 16 },
  title: { fontSize: 14, anchor: 'start' as const, subtitleColor: '#666' },
  view: { stroke: '#ddd' },
};

const armColor = (s: LabSummary) => ({
  field: 'arm', type: 'nominal' as const, title: 'arm',
  scale: { domain: s.arms.map((a) => a.name), range: s.arms.map((_, i) => PALETTE[i % PALETTE.length]!) },
});

/**
 * Drift spans orders of magnitude when one arm forgets badly: then symlog, linear otherwise.
 * The domain is set (not niced, padded 4% in screen space) so labels can be laid out in pixels.
 */
function driftScale(s: LabSummary, values: number[]) {
  const symlog = Math.max(...values.map(Math.abs), s.drift_bound) > 10 * s.drift_bound;
  const c = s.drift_bound / 2;
  const f = (v: number) => (symlog ? Math.sign(v) * Math.log1p(Math.abs(v) / c) : v);
  const inv = (u: number) => (symlog ? Math.sign(u) * c * Math.expm1(Math.abs(u)) : u);
  const lo = Math.min(0, ...values), hi = Math.max(s.drift_bound, ...values);
  const pad = 0.04 * (f(hi) - f(lo));
  const domain: [number, number] = [lo < 0 ? inv(f(lo) - pad) : 0, inv(f(hi) + pad)];
  const frac = (v: number) => (f(v) - f(domain[0])) / (f(domain[1]) - f(domain[0]));
  const scale = symlog ? { type: 'symlog' as const, constant: c, domain, nice: false } : { type: 'linear' as const, domain, nice: false };
  const ticks = [...new Set([-10, -5, -2, -1, -0.5, -0.2, -0.1, -s.drift_bound, -0.02, 0, s.drift_bound, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100])].sort((a, b) => a - b);
  const axis = { format: '.0%', ...(symlog && { values: ticks.filter((t) => t >= domain[0] && t <= domain[1]) }) };
  return { scale, frac, axis };
}

function spec(title: string, subtitle: string | undefined, body: Record<string, unknown>): TopLevelSpec {
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: { text: title, ...(subtitle && { subtitle }) }, width: W, height: H, config: CONFIG, ...body } as TopLevelSpec;
}

const noData = (n: number) => (n === 0 ? 'no data' : undefined);

function frontier(s: LabSummary): TopLevelSpec {
  const points = [{ arm: 'base', drift: 0, task_acc: s.base.task_acc }, ...s.arms.map((a) => ({ arm: a.name, drift: a.drift, task_acc: a.task_acc }))];
  const seedPts = s.arms.flatMap((a) => a.seeds.map((x) => ({ arm: a.name, drift: x.drift, task_acc: x.task_acc })));
  const bars = s.arms.map((a) => ({ arm: a.name, drift: a.drift, lo: a.drift_ci[0], hi: a.drift_ci[1], task_acc: a.task_acc, tlo: a.task_acc - a.task_acc_se, thi: a.task_acc + a.task_acc_se }))
    .filter((b) => Number.isFinite(b.lo) && Number.isFinite(b.hi));
  const { scale, frac, axis } = driftScale(s, [...points.map((a) => a.drift), ...seedPts.map((p) => p.drift), ...bars.flatMap((b) => [b.lo, b.hi])]);
  const x = { field: 'drift', type: 'quantitative' as const, title: `control drift${scale.type === 'symlog' ? ' (symlog scale)' : ''}`, axis, scale };
  const y = { field: 'task_acc', type: 'quantitative' as const, title: 'task accuracy', scale: { domain: [0, 1] } };
  const obstacles = [
    ...seedPts.map((c) => ({ x0: frac(c.drift) * W - 3, x1: frac(c.drift) * W + 3, y0: (1 - c.task_acc) * H - 3, y1: (1 - c.task_acc) * H + 3 })),
    { x0: frac(s.drift_bound) * W - 1, x1: frac(s.drift_bound) * W + 1, y0: 0, y1: H },
  ];
  const labelColor = { field: 'arm', type: 'nominal' as const, legend: null, scale: { domain: ['base', ...armColor(s).scale.domain], range: ['#000', ...armColor(s).scale.range] } };
  const spots = placeLabels(points.map((p) => ({ px: frac(p.drift) * W, py: (1 - p.task_acc) * H, text: p.arm })), W, H, obstacles);
  const labels = SPOTS.map((spot, k) => ({
    data: { values: points.filter((_, i) => spots[i] === k) },
    mark: { type: 'text', align: spot.align, baseline: 'middle', dx: spot.dx, dy: spot.dy, fontSize: 11 },
    encoding: { x, y, text: { field: 'arm' }, color: labelColor },
  })).filter((l) => l.data.values.length > 0);
  return spec('Learning vs forgetting', `test split · bound ${+(s.drift_bound * 100).toFixed(2)}% · ${s.seeds.length} seeds`, {
    layer: [
      { data: { values: [{ drift: s.drift_bound }] }, mark: { type: 'rule', color: BOUND_COLOR, strokeDash: [6, 4] }, encoding: { x } },
      { data: { values: bars }, mark: { type: 'rule', strokeWidth: 1.5, opacity: 0.7 }, encoding: { x: { ...x, field: 'lo' }, x2: { field: 'hi' }, y, color: labelColor } },
      { data: { values: bars }, mark: { type: 'rule', strokeWidth: 1.5, opacity: 0.7 }, encoding: { x, y: { ...y, field: 'tlo' }, y2: { field: 'thi' }, color: labelColor } },
      { data: { values: seedPts }, mark: { type: 'point', filled: true, opacity: 0.3, size: 35 }, encoding: { x, y, color: labelColor } },
      { data: { values: points.slice(0, 1) }, mark: { type: 'point', filled: true, color: '#000', size: 70, shape: 'diamond' }, encoding: { x, y } },
      { data: { values: points.slice(1) }, mark: { type: 'point', filled: true, size: 110, opacity: 1 }, encoding: { x, y, color: labelColor } },
      ...labels,
    ],
  });
}

function drift(s: LabSummary, series: Series): TopLevelSpec {
  const pts = series.evals.filter((e) => e.drift !== undefined);
  const { scale, axis } = driftScale(s, pts.map((p) => p.drift!));
  const y = { field: 'drift', type: 'quantitative' as const, title: `control drift${scale.type === 'symlog' ? ' (symlog)' : ''}`, axis, scale };
  return spec('Control drift over steps', noData(pts.length), {
    layer: [
      { data: { values: [{ drift: s.drift_bound }] }, mark: { type: 'rule', color: BOUND_COLOR, strokeDash: [6, 4] }, encoding: { y } },
      { data: { values: pts }, mark: { type: 'line', point: true, strokeWidth: 2 }, encoding: { x: { field: 'step', type: 'quantitative', title: 'step' }, y, color: armColor(s) } },
    ],
  });
}

function taskAcc(s: LabSummary, series: Series): TopLevelSpec {
  const pts = series.evals.filter((e) => e.task_acc !== undefined);
  const y = { field: 'task_acc', type: 'quantitative' as const, title: 'task accuracy', scale: { domain: [0, 1] } };
  return spec('Task accuracy over steps', noData(pts.length), {
    layer: [
      { data: { values: [{ task_acc: s.base.dev.task_acc }] }, mark: { type: 'rule', color: BASE_COLOR, strokeDash: [4, 4] }, encoding: { y } },
      { data: { values: pts }, mark: { type: 'line', point: true, strokeWidth: 2 }, encoding: { x: { field: 'step', type: 'quantitative', title: 'step' }, y, color: armColor(s) } },
    ],
  });
}

function loss(s: LabSummary, series: Series): TopLevelSpec {
  return spec('Fine-tuning loss', noData(series.train.length), {
    data: { values: series.train },
    mark: { type: 'line', strokeWidth: 1.5, opacity: 0.85 },
    encoding: { x: { field: 'step', type: 'quantitative', title: 'step' }, y: { field: 'loss', type: 'quantitative', title: 'training loss', scale: { zero: false } }, color: armColor(s) },
  });
}

function pretrainLoss(series: Series): TopLevelSpec {
  return spec('Pretraining loss', noData(series.pretrain.length), {
    data: { values: series.pretrain },
    mark: { type: 'line', strokeWidth: 1.5, point: series.pretrain.length <= 80 ? { size: 20 } : false },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step' },
      y: { field: 'loss', type: 'quantitative', title: 'loss', scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: '', scale: { domain: ['train', 'held out'], range: [PALETTE[0], PALETTE[1]] } },
    },
  });
}

function perVerb(s: LabSummary): TopLevelSpec {
  const all = tagRows(s);
  const verbs = all.some((r) => r.tag === 'verb') ? all.filter((r) => r.tag === 'verb') : all;
  const rows: { key: string; arm: string; acc: number }[] = [];
  for (const r of verbs) {
    if (r.base !== null) rows.push({ key: r.value, arm: 'base', acc: r.base });
    for (const a of s.arms) { const v = r.arms[a.name]; if (v !== null && v !== undefined) rows.push({ key: r.value, arm: a.name, acc: v }); }
  }
  const names = ['base', ...s.arms.map((a) => a.name)];
  return spec('Task accuracy per verb', noData(rows.length), {
    width: Math.max(W, Math.min(1100, verbs.length * names.length * 14)),
    data: { values: rows },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'key', type: 'nominal', title: 'verb', axis: { labelAngle: 0 } },
      xOffset: { field: 'arm', type: 'nominal', scale: { domain: names } },
      y: { field: 'acc', type: 'quantitative', title: 'task accuracy', scale: { domain: [0, 1] } },
      color: { field: 'arm', type: 'nominal', title: 'model', scale: { domain: names, range: [BASE_COLOR, ...s.arms.map((_, i) => PALETTE[i % PALETTE.length]!)] } },
    },
  });
}

function updateCurve(s: LabSummary): TopLevelSpec {
  const g = s.geometry?.arms ?? [];
  const pts = g.flatMap((a) => a.interpolate.map((r) => ({ arm: a.arm, alpha: r.alpha, drift: r.drift, task_acc: r.task_acc })));
  const arms = s.arms.map((a) => ({ arm: a.name, drift: a.drift, task_acc: a.task_acc }));
  const { scale, axis } = driftScale(s, [...pts.map((p) => p.drift), ...arms.map((a) => a.drift)]);
  const x = { field: 'drift', type: 'quantitative' as const, title: `control drift${scale.type === 'symlog' ? ' (symlog scale)' : ''}`, axis, scale };
  const y = { field: 'task_acc', type: 'quantitative' as const, title: 'task accuracy', scale: { domain: [0, 1] } };
  return spec('One update, scaled: θ₀ + α·Δθ', noData(pts.length), {
    layer: [
      { data: { values: [{ drift: s.drift_bound }] }, mark: { type: 'rule', color: BOUND_COLOR, strokeDash: [6, 4] }, encoding: { x } },
      { data: { values: arms }, mark: { type: 'point', filled: true, opacity: 0.25, size: 60, color: BASE_COLOR }, encoding: { x, y } },
      { data: { values: pts }, mark: { type: 'line', point: true, strokeWidth: 2 }, encoding: { x, y, order: { field: 'alpha' }, color: { field: 'arm', type: 'nominal', title: 'update' } } },
      { data: { values: pts }, mark: { type: 'text', dy: -9, fontSize: 10 }, encoding: { x, y, text: { field: 'alpha' } } },
    ],
  });
}

function updateRank(s: LabSummary): TopLevelSpec {
  const rows = (s.geometry?.arms ?? []).flatMap((a) => a.matrices.map((m, i) => ({ arm: a.arm, matrix: i, group: m.group, erank: m.erank })));
  return spec('Effective rank of the update, per matrix', noData(rows.length), {
    data: { values: rows },
    mark: { type: 'point', filled: true, size: 60, opacity: 0.8 },
    encoding: {
      x: { field: 'group', type: 'nominal', title: 'matrix group', axis: { labelAngle: 0 } },
      xOffset: { field: 'arm', type: 'nominal' },
      y: { field: 'erank', type: 'quantitative', title: 'effective rank', scale: { type: 'symlog' } },
      color: { field: 'arm', type: 'nominal', title: 'update' },
    },
  });
}

/** The vega-lite spec of every plot, in PLOTS order. Pure: data in, specs out. */
export function plotSpecs(s: LabSummary, series: Series): { name: PlotName; spec: TopLevelSpec }[] {
  const specs: Record<PlotName, TopLevelSpec> = {
    frontier: frontier(s), drift: drift(s, series), 'task-acc': taskAcc(s, series),
    loss: loss(s, series), 'pretrain-loss': pretrainLoss(series), 'per-verb': perVerb(s),
    'update-curve': updateCurve(s), 'update-rank': updateRank(s),
  };
  return PLOTS.map((p) => ({ name: p.name, spec: specs[p.name] }));
}
