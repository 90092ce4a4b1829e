import type { Block, Cell, Section } from './document.ts';
import { tagRows } from './by-tag.ts';
import { acc, delta, int, lr, num, pct, plain, seconds, share } from './format.ts';
import { PLOTS } from './plots.ts';
import type { ArmSummary, LabSummary, Mitigation } from './summary.ts';

const plot = (name: (typeof PLOTS)[number]['name']): Block => ({ kind: 'plot', name });
const badge = (v: ArmSummary['verdict']): Cell => ({ text: v, tone: v === 'PASS' ? 'pass' : v === 'FAIL' ? 'fail' : 'muted' });
const pm = (m: number, sd: number) => `${acc(m)}${Number.isFinite(sd) ? ` ± ${acc(sd)}` : ''}`;
const driftCi = (a: ArmSummary) => `${pct(a.drift)} [${pct(a.drift_ci[0])}, ${pct(a.drift_ci[1])}]`;
const pval = (p: number) => (!Number.isFinite(p) ? '—' : p < 0.001 ? '< 0.001' : p.toPrecision(2));

const RECIPE_LABEL: Record<Mitigation, string> = {
  none: 'none', replay: 'replay replay.txt', 'replay-pretrain': 'replay pretrain.txt', anchor: 'anchor λ‖ΔW‖²',
};

/** The first screen: the target, the derived verdict, the factorial table and the generalization row. */
function verdict(s: LabSummary): Section {
  const t = s.target;
  const fact = (m: 'lora' | 'full', r: Mitigation) => s.arms.find((a) => a.kind === 'factorial' && a.method === m && a.recipe === r);
  const recipes = (['none', 'replay', 'replay-pretrain', 'anchor'] as const).filter((r) => fact('lora', r) || fact('full', r));
  const cell = (a: ArmSummary | undefined, f: (a: ArmSummary) => string): Cell => (a ? f(a) : { text: '—', tone: 'muted' });
  const head = ['mitigation', 'LoRA task (± sd)', 'LoRA drift [CI]', 'LoRA', 'full task (± sd)', 'full drift [CI]', 'full'];
  const rows: Cell[][] = recipes.map((r) => {
    const l = fact('lora', r), f = fact('full', r);
    return [RECIPE_LABEL[r], cell(l, (a) => pm(a.task_acc, a.task_acc_sd)), cell(l, driftCi), l ? badge(l.verdict) : '—',
      cell(f, (a) => pm(a.task_acc, a.task_acc_sd)), cell(f, driftCi), f ? badge(f.verdict) : '—'];
  });
  const genRow: Cell[][] = recipes.map((r) => {
    const l = fact('lora', r), f = fact('full', r);
    return [RECIPE_LABEL[r], cell(l, (a) => `${acc(a.generalization)} ± ${acc(a.generalization_se)}`), cell(f, (a) => `${acc(a.generalization)} ± ${acc(a.generalization_se)}`)];
  });
  const lrs = s.calibration.chosen;
  return {
    id: 'verdict', title: 'Verdict',
    blocks: [
      { kind: 'p', text: `${t.met ? 'Target met' : 'Target not met'}${t.arm ? ` (arm ${t.arm})` : ''}: ${t.note}`, tone: t.met ? 'pass' : 'fail' },
      ...(s.fast ? [{ kind: 'p' as const, text: 'This is fmn lab --fast: a smoke test of the pipeline. Its models are too small and its runs too short for any number here to mean anything.', tone: 'fail' as const }] : []),
      { kind: 'p', text: `Method × mitigation, test split, mean ± sd over ${s.seeds.length} fine-tuning seeds; drift with its ${Math.round(100 * s.level)}% paired bootstrap interval over control items and seeds. Learning rates calibrated on the dev split: LoRA ${lr(lrs.lora)}, full ${lr(lrs.full)}. Base task ${acc(s.base.task_acc)} ± ${acc(s.base.task_se)}. PASS: drift's upper bound ≤ ${share(s.drift_bound)} and a significant task gain; INCONCLUSIVE: a significant gain, but the drift interval straddles the bound; FAIL: the interval wholly over the bound, or no significant gain.` },
      { kind: 'table', head, rows, numeric: head.map((_, i) => i === 1 || i === 2 || i === 4 || i === 5) },
      { kind: 'p', text: `Generalization: pair accuracy ± se on the task's verbs in sentence arrangements the corpus never writes for training (fronted adverbials, a subordinate clause first, coordinated subjects, "Did … ?" questions); base ${acc(s.base.generalization)} ± ${acc(s.base.generalization_se)}.` },
      { kind: 'table', head: ['mitigation', 'LoRA generalization', 'full generalization'], rows: genRow, numeric: [false, true, true] },
      { kind: 'list', items: s.story.map((text) => ({ text })) },
    ],
  };
}

function arms(s: LabSummary): Section {
  const head = ['arm', 'kind', 'method', 'lr', 'replay', 'λ', 'seeds', 'trainable', 'task (± sd)', 'task gain (p)', 'gen EM', 'control PPL', 'drift [CI]', 'adoption gen EM', 'generalization', 'dev task', 'dev drift', 'verdict'];
  const rows: Cell[][] = s.arms.map((a) => [
    a.name + (a.name === s.best ? ' (best on dev)' : ''), a.kind, a.method, lr(a.lr), a.replay > 0 && a.replay_text ? `${plain(a.replay)} (${a.replay_text})` : plain(a.replay), plain(a.lambda),
    int(a.seeds.length), int(a.trainable_params), pm(a.task_acc, a.task_acc_sd), `${delta(a.task_gain.diff)} (${pval(a.task_gain.p)})`, pm(a.gen_em, a.gen_em_sd), num(a.control_ppl),
    { text: driftCi(a), tone: a.drift_ci[0] > s.drift_bound ? 'fail' : undefined }, acc(a.adoption_gen_em), `${acc(a.generalization)} ± ${acc(a.generalization_se)}`,
    acc(a.dev.task_acc), pct(a.dev.drift), badge(a.verdict),
  ]);
  rows.unshift(['base (no fine-tune)', '—', '—', '—', '—', '—', '—', '—', `${acc(s.base.task_acc)} ± ${acc(s.base.task_se)}`, '—', acc(s.base.gen_em), num(s.base.control_ppl), pct(0),
    acc(s.base.adoption_gen_em), `${acc(s.base.generalization)} ± ${acc(s.base.generalization_se)}`, acc(s.base.dev.task_acc), pct(0), { text: '—', tone: 'muted' }]);
  const seedHead = ['arm', 'seed', 'task', 'gen EM', 'drift', 'adoption gen EM', 'generalization', 'dev task', 'dev drift', 'time', 'run'];
  const seedRows: Cell[][] = s.arms.flatMap((a) => a.seeds.map((x) => [a.name, plain(x.seed), acc(x.task_acc), acc(x.gen_em), pct(x.drift), acc(x.adoption_gen_em), acc(x.generalization), acc(x.dev.task_acc), pct(x.dev.drift), seconds(x.seconds), x.run_dir]));
  return {
    id: 'arms', title: 'Arms',
    blocks: [
      { kind: 'p', text: 'Every arm on the test split (means over seeds; ± sd over seeds; task gain after − before on the same items with its paired test), with the dev numbers that selection read. Reference arms (the recipe\'s defaults) are shown for orientation and read by no verdict.' },
      { kind: 'table', head, rows, numeric: head.map((_, i) => i >= 3 && i <= 16) },
      { kind: 'list', items: s.arms.map((a) => ({ text: `${a.name}: ${a.description}${a.alpha !== undefined ? ` (r ${a.rank}, α ${plain(a.alpha)})` : ''}; ${seconds(a.seconds)} of fine-tuning and scoring.${a.reasons.length ? ` ${a.reasons.join('; ')}.` : ''}` })) },
      { kind: 'p', text: 'Each seed:' },
      { kind: 'table', head: seedHead, rows: seedRows, numeric: seedHead.map((_, i) => i >= 1 && i <= 9) },
    ],
  };
}

function contrasts(s: LabSummary): Section {
  const head = ['factor', 'a', 'b', 'task a − b [CI]', 'p', 'drift a − b [CI]'];
  const rows: Cell[][] = s.contrasts.map((c) => [c.factor, c.a, c.b, `${delta(c.task.diff)} [${delta(c.task.lo)}, ${delta(c.task.hi)}]`, pval(c.task.p),
    `${pct(c.drift.diff)} [${pct(c.drift.lo)}, ${pct(c.drift.hi)}]`]);
  return {
    id: 'contrasts', title: 'Matched contrasts',
    blocks: [
      { kind: 'p', text: `Pairs of arms that differ in one factor: the method at a fixed data recipe, or a mitigation against none for a fixed method (test split). Task: per-item accuracy averaged over seeds, paired over the same items (${Math.round(100 * s.level)}% bootstrap interval; p from McNemar's exact test for one seed, a paired t-test otherwise). Drift: a bootstrap over the shared control items and each arm's seeds.` },
      { kind: 'table', head, rows, numeric: [false, false, false, true, true, true] },
    ],
  };
}

function curves(): Section {
  return { id: 'curves', title: 'Learning and forgetting', blocks: [plot('frontier'), plot('drift'), plot('task-acc'), plot('loss')] };
}

function samples(s: LabSummary): Section {
  const rows: Cell[][] = s.arms.filter((a) => a.kind !== 'reference').flatMap((a) => a.samples.map((x) => [a.name, x.probe, x.prompt, x.expected ?? '—', x.base, x.tuned]));
  return {
    id: 'samples', title: 'Sample generations',
    blocks: [
      { kind: 'p', text: 'Greedy generations of each arm\'s first seed beside the base model\'s, on the first task, adoption and generalization prompts of the test split (SFT format, after <|sep|>) and on the first words of control sentences (plain continuation). Read them for what the numbers do not show: rewritten content, invented rules, corrections of correct sentences.' },
      { kind: 'table', head: ['arm', 'probe', 'prompt', 'expected', 'base', 'tuned'], rows },
    ],
  };
}

function perTag(s: LabSummary): Section {
  const rows = tagRows(s);
  if (rows.length === 0) return { id: 'per-verb', title: 'Per verb and form', blocks: [{ kind: 'p', text: 'No per-tag task results in the summary.', tone: 'muted' }] };
  const head = ['tag', 'n', 'base', ...s.arms.map((a) => a.name)];
  const body: Cell[][] = rows.map((r) => [
    r.key, r.n === null ? '—' : int(r.n), acc(r.base),
    ...s.arms.map((a): Cell => {
      const v = r.arms[a.name] ?? null;
      if (v === null) return { text: '—', tone: 'muted' };
      return r.base === null ? acc(v) : `${acc(v)} (${delta(v - r.base)})`;
    }),
  ]);
  return {
    id: 'per-verb', title: 'Per verb and form',
    blocks: [
      { kind: 'p', text: 'Task-probe accuracy (test split) before (base) → after each arm (mean over seeds), per tag; the change from base in brackets.' },
      { kind: 'table', head, rows: body, numeric: head.map((_, i) => i >= 1) },
      plot('per-verb'),
    ],
  };
}

function calibration(s: LabSummary): Section {
  const head = ['method', 'lr', 'mitigation', 'dev task', 'dev drift', 'chosen'];
  const rows: Cell[][] = s.calibration.rows.map((r) => [r.method, lr(r.lr), RECIPE_LABEL[r.recipe], acc(r.dev_task_acc), pct(r.dev_drift), r.chosen ? { text: 'yes', tone: 'pass' } : '']);
  return {
    id: 'calibration', title: 'Learning-rate calibration (dev split)',
    blocks: [
      { kind: 'p', text: `Each method's rate, chosen on the dev split only (first seed): the rate whose best run learns most on dev with dev drift within ${share(s.drift_bound)}. These runs are reused as the first seed of their factorial cells; their test numbers were never looked at to choose.` },
      { kind: 'table', head, rows, numeric: [false, true, false, true, true, false] },
    ],
  };
}

function base(s: LabSummary): Section {
  const b = s.base, p = b.pretrain;
  const rows: Cell[][] = [
    ['task acc (test)', `${acc(b.task_acc)} ± ${acc(b.task_se)}`], ['task acc (dev)', acc(b.dev.task_acc)], ['gen EM', acc(b.gen_em)], ['control PPL (test)', num(b.control_ppl)],
    ['control PPL (dev)', num(b.dev.control_ppl)], ['control acc', acc(b.control_acc)], ['adoption', acc(b.adoption)], ['adoption gen EM', acc(b.adoption_gen_em)],
    ['generalization', `${acc(b.generalization)} ± ${acc(b.generalization_se)}`], ['echo EM', acc(b.echo_em)], ['parameters', int(b.params)],
    ['pretraining', `${int(p.steps)} steps, ${seconds(p.seconds)}, ${int(p.tokens_per_s)} tokens/s`],
    ['pretraining loss', `${num(p.final_loss)} (held out ${num(p.held_out_loss)})`],
  ];
  return {
    id: 'base', title: 'Base model',
    blocks: [
      { kind: 'p', text: `The pretrained model (${b.model_dir}) before any fine-tuning.` },
      { kind: 'table', head: ['measure', 'value'], rows, numeric: [false, true] },
      plot('pretrain-loss'),
    ],
  };
}

function fewShot(s: LabSummary): Section {
  const f = s.few_shot;
  const best = s.arms.find((a) => a.name === s.best);
  const cmp = best === undefined ? 'No arm was eligible as best on dev.'
    : f.task_acc >= best.task_acc ? `Prompting alone matches the best arm on dev (${best.name}, test ${acc(best.task_acc)}): fine-tuning is not needed for this task.`
      : `The best arm on dev (${best.name}) reaches ${acc(best.task_acc)} on test, ${delta(best.task_acc - f.task_acc)} over prompting.`;
  return {
    id: 'few-shot', title: 'Few-shot baseline',
    blocks: [{ kind: 'p', text: `${f.k} examples in context, no training, ${int(f.n)} test items: task acc ${acc(f.task_acc)} ± ${acc(f.task_se)}, gen EM ${acc(f.gen_em)} (base zero-shot ${acc(s.base.task_acc)}). ${cmp}` }],
  };
}

function params(s: LabSummary): Section {
  const p = s.params;
  const head = ['layer', 'in', 'out', 'full (in·out)', `LoRA r·(in+out), r=${p.rank}`, 'share'];
  const rows: Cell[][] = p.rows.map((r) => [r.layer, int(r.in), int(r.out), int(r.full), int(r.lora), share(r.share)]);
  const full = p.rows.reduce((t, r) => t + r.full, 0), lora = p.rows.reduce((t, r) => t + r.lora, 0);
  if (p.rows.length > 0) rows.push([{ text: 'targeted layers', tone: 'muted' }, '', '', int(full), int(lora), share(full > 0 ? lora / full : NaN)]);
  return {
    id: 'params', title: 'Parameters',
    blocks: [
      { kind: 'p', text: `LoRA rank ${p.rank} trains ${int(p.lora_params)} of ${int(p.total_params)} parameters (${share(p.lora_params / p.total_params, 3)}); full fine-tuning trains all of them.` },
      { kind: 'table', head, rows, numeric: head.map((_, i) => i >= 1) },
    ],
  };
}

function run(s: LabSummary): Section {
  const c = s.corpus;
  return {
    id: 'run', title: 'Run',
    blocks: [{
      kind: 'list',
      items: [
        { text: `wall time ${seconds(s.wall_seconds)}; backend ${s.backend}, ${s.threads} threads${s.fast ? '; fast mode (--fast, a smoke test)' : ''}` },
        { text: `fine-tuning seeds ${s.seeds.join(', ')}; intervals at ${Math.round(100 * s.level)}%` },
        { text: `corpus ${c.dir} (seed ${c.seed}): ${int(c.pretrain_lines)} pretraining lines, ${int(c.sft_rows)} SFT rows; probes in dev and test halves` },
        { text: `created ${s.created}` },
      ],
    }],
  };
}

function geometry(s: LabSummary): Section {
  const g = s.geometry;
  if (!g) return { id: 'geometry', title: 'Where the update lives and what it cost', blocks: [{ kind: 'p', text: 'Not analyzed in this run (--no-geometry).', tone: 'muted' }] };
  const overview: Cell[][] = g.arms.map((a) => [a.arm, a.method, num(a.delta_theta), `${plain(a.median_r90)} of ${plain(a.median_width)}`, num(a.median_erank),
    `${int(a.intruders)} (null ${num(a.intruders_null)})`, seconds(a.seconds)]);
  const groupHead = ['group', ...g.arms.flatMap((a) => [`${a.arm} share of ‖Δθ‖²`, `${a.arm} ‖Δ‖/‖W₀‖`])];
  const groupNames = [...new Set(g.arms.flatMap((a) => [...a.groups, ...a.blocks].map((x) => x.group)))];
  const groupRows: Cell[][] = groupNames.map((name) => [name, ...g.arms.flatMap((a) => {
    const r = [...a.groups, ...a.blocks].find((x) => x.group === name);
    return r ? [share(r.share_of_delta_sq, 1), num(r.rel_delta)] : ['—', '—'];
  })]);
  const ablHead = ['arm', 'variant', 'task (± se)', 'drift [CI]'];
  const score = (r: { task_acc: number; task_se: number; drift: number; drift_ci: [number, number] }): Cell[] => [`${acc(r.task_acc)} ± ${acc(r.task_se)}`, `${pct(r.drift)} [${pct(r.drift_ci[0])}, ${pct(r.drift_ci[1])}]`];
  const ablRows: Cell[][] = g.arms.flatMap((a) => a.ablate.map((r) => [a.arm, r.mode === 'none' ? 'tuned (nothing reverted)' : r.mode === 'all' ? 'base (all reverted)' : `${r.mode === 'revert' ? 'revert' : 'only'} ${r.group}`, ...score(r)]));
  const truncRows: Cell[][] = g.arms.flatMap((a) => a.truncate.map((r) => [a.arm, `rank ${r.rank} ${r.mode}`, num(r.delta_fro), ...score(r)]));
  return {
    id: 'geometry', title: 'Where the update lives and what it cost',
    blocks: [
      { kind: 'p', text: g.paragraph },
      { kind: 'table', head: ['arm', 'method', '‖Δθ‖', 'median r90 of width', 'median effective rank', 'intruders', 'time'], rows: overview, numeric: [false, false, true, true, true, true, true] },
      plot('update-curve'), plot('update-rank'),
      { kind: 'p', text: `Attribution (${g.arms[0]?.split ?? 'test'} split): each group reverted to the base alone ("revert"), or alone fine-tuned ("only"); the drift interval is a paired bootstrap against the base on the same control items.` },
      { kind: 'table', head: ablHead, rows: ablRows, numeric: [false, false, true, true] },
      { kind: 'p', text: 'Each update\'s size by group: its share of ‖Δθ‖² and its size relative to the base weights.' },
      { kind: 'table', head: groupHead, rows: groupRows, numeric: groupHead.map((_, i) => i > 0) },
      { kind: 'p', text: 'Rank against size: every matrix\'s ΔW cut to rank r ("truncate"), beside the same matrices shrunk uniformly to the same norm ("shrink"); other parameters keep their full update.' },
      { kind: 'table', head: ['arm', 'variant', '‖Δθ‖', 'task (± se)', 'drift [CI]'], rows: truncRows, numeric: [false, false, true, true, true] },
    ],
  };
}

/** Every section of the report, in reading order: verdict first. */
export function buildSections(s: LabSummary): Section[] {
  return [verdict(s), arms(s), contrasts(s), curves(), geometry(s), samples(s), perTag(s), calibration(s), base(s), fewShot(s), params(s), run(s)];
}
