import type { Block, Cell, Section } from './document.ts';
import { tagRows } from './by-tag.ts';
import { acc, delta, int, lr, num, pct, plain, seconds, share } from './format.ts';
import { PLOTS } from './plots.ts';
import type { ArmSummary, LabSummary } from './summary.ts';

const badge = (pass: boolean): Cell => ({ text: pass ? 'PASS' : 'FAIL', tone: pass ? 'pass' : 'fail' });
const plot = (name: (typeof PLOTS)[number]['name']): Block => ({ kind: 'plot', name });

const sentence = (t: string): string => (/[.!?]$/.test(t) ? t : `${t}.`);

/** The checks behind an arm's verdict, as the reader would recompute them. */
export function armFacts(s: LabSummary, a: ArmSummary): string {
  const within = a.drift <= s.drift_bound;
  const up = a.task_acc > s.base.task_acc;
  return `drift ${pct(a.drift)} ${within ? '≤' : '>'} bound ${share(s.drift_bound)}; `
    + `task acc ${acc(s.base.task_acc)} → ${acc(a.task_acc)} (${delta(a.task_acc - s.base.task_acc)}${up ? '' : ', not up'})`;
}

function verdict(s: LabSummary): Section {
  const passed = s.arms.filter((a) => a.pass).length;
  const t = s.target;
  return {
    id: 'verdict', title: 'Verdict',
    blocks: [
      { kind: 'p', text: `${t.met ? 'Target met' : 'Target not met'}${t.arm ? ` (arm ${t.arm})` : ''}: ${t.note}`, tone: t.met ? 'pass' : 'fail' },
      { kind: 'p', text: `${passed} of ${s.arms.length} arms pass "drift ≤ ${share(s.drift_bound)} and task accuracy up" (base task acc ${acc(s.base.task_acc)}).` },
      ...replaySource(s),
      {
        kind: 'list',
        items: s.arms.map((a) => ({
          badge: a.pass ? 'PASS' as const : 'FAIL' as const,
          text: `${a.name} — ${armFacts(s, a)}.${a.reasons.length ? ` ${sentence(a.reasons.join('; '))}` : ''}`,
        })),
      },
    ],
  };
}

/** What the replay source does: the ablation arm against the search candidate it repeats. */
function replaySource(s: LabSummary): Block[] {
  const abl = s.arms.find((a) => a.replay_text === 'pretrain.txt');
  const twin = abl && s.search.find((c) => c.lr === abl.lr && c.steps === abl.steps && c.replay === abl.replay && c.lambda === abl.lambda);
  if (!abl || !twin) return [];
  return [{
    kind: 'p',
    text: `Replay source: the recipe of ${twin.name} reaches task acc ${acc(twin.task_acc)} (drift ${pct(twin.drift)}) replaying the curated replay.txt, `
      + `and ${acc(abl.task_acc)} (drift ${pct(abl.drift)}) replaying pretrain.txt, errors and all (${abl.name}).`,
  }];
}

function arms(s: LabSummary): Section {
  const head = ['arm', 'method', 'lr', 'steps', 'replay', 'λ', 'rank', 'trainable', 'task acc', 'gen EM', 'control PPL', 'drift', 'adoption', 'adoption gen EM', 'pass'];
  const rows: Cell[][] = s.arms.map((a) => [
    a.name, a.method, lr(a.lr), int(a.steps), a.replay > 0 && a.replay_text ? `${plain(a.replay)} (${a.replay_text})` : plain(a.replay), plain(a.lambda), a.rank === undefined ? '—' : plain(a.rank),
    int(a.trainable_params), acc(a.task_acc), acc(a.gen_em), num(a.control_ppl),
    { text: pct(a.drift), tone: a.drift <= s.drift_bound ? undefined : 'fail' }, acc(a.adoption), acc(a.adoption_gen_em), badge(a.pass),
  ]);
  rows.unshift(['base (no fine-tune)', '—', '—', '—', '—', '—', '—', '—', acc(s.base.task_acc), acc(s.base.gen_em),
    num(s.base.control_ppl), pct(0), acc(s.base.adoption), acc(s.base.adoption_gen_em), { text: '—', tone: 'muted' }]);
  return {
    id: 'arms', title: 'Arms',
    blocks: [
      { kind: 'table', head, rows, numeric: head.map((_, i) => i >= 2 && i <= 13) },
      {
        kind: 'list',
        items: s.arms.map((a) => ({
          text: `${a.name}: ${a.description}${a.alpha !== undefined ? ` (α ${plain(a.alpha)})` : ''}; ${seconds(a.seconds)}`
            + `${a.kept_step !== null ? `; the gate kept the step-${a.kept_step} checkpoint` : ''}.`,
        })),
      },
    ],
  };
}

function curves(): Section {
  return {
    id: 'curves', title: 'Learning and forgetting',
    blocks: [plot('frontier'), plot('drift'), plot('task-acc'), plot('loss')],
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
      { kind: 'p', text: 'Task-probe accuracy before (base) → after each arm, per tag; the change from base in brackets.' },
      { kind: 'table', head, rows: body, numeric: head.map((_, i) => i >= 1) },
      plot('per-verb'),
    ],
  };
}

function base(s: LabSummary): Section {
  const b = s.base, p = b.pretrain;
  const rows: Cell[][] = [
    ['task acc', acc(b.task_acc)], ['gen EM', acc(b.gen_em)], ['control PPL', num(b.control_ppl)],
    ['control acc', acc(b.control_acc)], ['adoption', acc(b.adoption)], ['adoption gen EM', acc(b.adoption_gen_em)],
    ['echo EM', acc(b.echo_em)], ['parameters', int(b.params)],
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
  const best = s.arms.filter((a) => a.pass).sort((a, b) => b.task_acc - a.task_acc)[0];
  const cmp = best === undefined
    ? 'No arm passes, so there is no fine-tuned result to compare with.'
    : f.task_acc >= best.task_acc
      ? `Prompting alone matches the best passing arm (${best.name}, ${acc(best.task_acc)}): fine-tuning is not needed for this task.`
      : `The best passing arm (${best.name}) reaches ${acc(best.task_acc)}, ${delta(best.task_acc - f.task_acc)} over prompting: fine-tuning earns its place.`;
  return {
    id: 'few-shot', title: 'Few-shot baseline',
    blocks: [
      { kind: 'p', text: `${f.k} examples in context, no training, ${int(f.n)} items: task acc ${acc(f.task_acc)}, gen EM ${acc(f.gen_em)} (base zero-shot ${acc(s.base.task_acc)}). ${cmp}` },
    ],
  };
}

function search(s: LabSummary): Section {
  if (s.search.length === 0) return { id: 'search', title: 'Search', blocks: [{ kind: 'p', text: 'No search was run.', tone: 'muted' }] };
  const head = ['candidate', 'lr', 'steps', 'replay', 'λ', 'task acc', 'drift', 'pass'];
  return {
    id: 'search', title: 'Search',
    blocks: [
      { kind: 'p', text: `The ${s.search.length} candidates behind the best arm (faint points in the learning–forgetting plot).` },
      {
        kind: 'table', head, numeric: head.map((_, i) => i >= 1 && i <= 6),
        rows: s.search.map((c) => [c.name, lr(c.lr), int(c.steps), plain(c.replay), plain(c.lambda), acc(c.task_acc), pct(c.drift), badge(c.pass)]),
      },
    ],
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
        { text: `wall time ${seconds(s.wall_seconds)}; backend ${s.backend}, ${s.threads} threads${s.fast ? '; fast mode (--fast)' : ''}` },
        { text: `corpus ${c.dir} (seed ${c.seed}): ${int(c.pretrain_lines)} pretraining lines, ${int(c.sft_rows)} SFT rows` },
        { text: `created ${s.created}` },
      ],
    }],
  };
}

/** Every section of the report, in reading order: verdict first. */
export function buildSections(s: LabSummary): Section[] {
  return [verdict(s), arms(s), curves(), perTag(s), base(s), fewShot(s), search(s), params(s), run(s)];
}
