/** A synthetic lab directory for the report tests: a base model and four arms with metrics. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProbeResult } from '../eval/evaluate.ts';
import type { ArmSummary, LabSummary } from './summary.ts';

const VERBS = ['be', 'have', 'do', 'go', 'come', 'see', 'eat', 'write'];

/** Task probe with per-verb / per-form accuracies; `skip` leaves keys out (missing-key case). */
function taskProbe(accOf: (i: number) => number, skip: string[] = []): Record<string, ProbeResult> {
  const by_tag: NonNullable<ProbeResult['by_tag']> = {};
  VERBS.forEach((v, i) => { if (!skip.includes(`verb=${v}`)) by_tag[`verb=${v}`] = { n: 12, acc: accOf(i) }; });
  by_tag['form=past'] = { n: 48, acc: accOf(1) };
  by_tag['form=participle'] = { n: 48, acc: accOf(5) };
  return { task: { n: 96, acc: accOf(3), se: 0.03, gen_em: accOf(4) / 2, by_tag }, control: { n: 40, ppl: 12.5 }, generalization: { n: 60, acc: 0.5, se: 0.06 } };
}

type Core = Pick<ArmSummary, 'method' | 'recipe' | 'kind' | 'task_acc' | 'drift' | 'verdict'>;

function arm(name: string, o: Partial<ArmSummary> & Core): ArmSummary {
  const seeds = [1234, 1235, 1236].map((seed, k) => ({
    seed, run_dir: `runs/${name}-s${seed}`, task_acc: o.task_acc + 0.01 * (k - 1), gen_em: o.task_acc * 0.8, control_ppl: 12.5 * (1 + o.drift), drift: o.drift + 0.002 * (k - 1),
    adoption: 0.9, adoption_gen_em: 0.85, generalization: 0.6, generalization_gen_em: 0.4, seconds: 20, dev: { task_acc: o.task_acc - 0.01, drift: o.drift + 0.001 },
  }));
  return {
    name, description: `${name} arm`, lr: 1e-4, steps: 60, replay: 0, replay_text: null, lambda: 0, run_dir: `runs/${name}-s1234`, split: 'test', seeds,
    task_acc_sd: 0.01, task_acc_se: 0.03, gen_em: o.task_acc * 0.8, gen_em_sd: 0.02, control_ppl: 12.5 * (1 + o.drift), drift_sd: 0.002,
    drift_ci: [o.drift - 0.01, o.drift + 0.012], adoption: 0.9, adoption_gen_em: 0.85, generalization: 0.6, generalization_se: 0.06, generalization_gen_em: 0.4,
    task_gain: { diff: o.task_acc - 0.38, lo: o.task_acc - 0.44, hi: o.task_acc - 0.32, p: 1e-5 }, pass: o.verdict === 'PASS',
    reasons: o.verdict === 'PASS' ? [] : ['drift over the bound'], dev: { task_acc: o.task_acc - 0.01, drift: o.drift + 0.001 },
    trainable_params: o.method === 'lora' ? 24576 : 812_000, seconds: 61.5, evals: [], probes: taskProbe((i) => Math.min(1, o.task_acc - 0.05 + 0.02 * i)),
    samples: [{ probe: 'task', prompt: 'He goed home.<|sep|>', expected: 'He went home. (correction)', base: 'He goed home. (correct)', tuned: 'He went home. (correction)' }],
    ...o,
  };
}

export function fixtureSummary(): LabSummary {
  const arms = [
    arm('lora-none', { method: 'lora', recipe: 'none', kind: 'factorial', rank: 8, alpha: 16, lr: 1e-2, task_acc: 0.7, drift: 0.2, verdict: 'FAIL' }),
    arm('lora-replay', { method: 'lora', recipe: 'replay', kind: 'factorial', rank: 8, alpha: 16, lr: 1e-2, replay: 0.5, replay_text: 'replay.txt', task_acc: 0.912, drift: 0.021, verdict: 'PASS',
      probes: taskProbe((i) => 0.8 + 0.02 * i, ['verb=write']) }),
    arm('full-none', { method: 'full', recipe: 'none', kind: 'factorial', lr: 1e-3, task_acc: 0.975, drift: 1.8, verdict: 'FAIL' }),
    arm('full-replay', { method: 'full', recipe: 'replay', kind: 'factorial', lr: 1e-3, replay: 0.5, replay_text: 'replay.txt', task_acc: 0.95, drift: 0.045, verdict: 'INCONCLUSIVE' }),
  ];
  const rows = [0, 1].flatMap((l) => [
    { layer: `transformer.h.${l}.attn.c_attn`, in: 128, out: 384, full: 128 * 384, lora: 8 * 512, share: (8 * 512) / (128 * 384) },
    { layer: `transformer.h.${l}.attn.c_proj`, in: 128, out: 128, full: 128 * 128, lora: 8 * 256, share: (8 * 256) / (128 * 128) },
  ]);
  return {
    version: 2, created: '2025-01-02T03:04:05.000Z', backend: 'native', threads: 2, wall_seconds: 312.4, drift_bound: 0.05, level: 0.95, fast: false, seeds: [1234, 1235, 1236],
    corpus: { dir: 'corpus', seed: 0, pretrain_lines: 20000, sft_rows: 600 },
    base: {
      model_dir: 'base', task_acc: 0.38, task_se: 0.035, gen_em: 0.1, control_ppl: 12.5, control_acc: 0.97, adoption: 0.95, adoption_gen_em: 0.9,
      generalization: 0.4, generalization_se: 0.06, echo_em: 0.88, params: 812_000,
      pretrain: { steps: 200, seconds: 120.2, tokens_per_s: 15000, final_loss: 1.62, held_out_loss: 1.71 },
      probes: taskProbe((i) => 0.2 + 0.05 * i), dev: { task_acc: 0.37, control_ppl: 12.4, probes: {} },
    },
    arms,
    calibration: {
      rows: [
        { method: 'lora', lr: 3e-3, recipe: 'none', dev_task_acc: 0.5, dev_drift: 0.08, chosen: false },
        { method: 'lora', lr: 1e-2, recipe: 'replay', dev_task_acc: 0.9, dev_drift: 0.02, chosen: true },
      ],
      chosen: { lora: 1e-2, full: 1e-3 },
    },
    contrasts: [
      { factor: 'method', a: 'full-replay', b: 'lora-replay', task: { diff: 0.038, lo: 0.01, hi: 0.07, p: 0.02 }, drift: { diff: 0.024, lo: 0.005, hi: 0.04 } },
      { factor: 'mitigation', a: 'lora-replay', b: 'lora-none', task: { diff: 0.212, lo: 0.15, hi: 0.27, p: 1e-6 }, drift: { diff: -0.179, lo: -0.2, hi: -0.15 } },
    ],
    best: 'lora-replay',
    story: ['Replay of the clean tier (replay.txt) moved LoRA inside the bound.', 'The method, at the same data recipe: full − LoRA task +0.038.'],
    few_shot: { k: 4, task_acc: 0.45, task_se: 0.05, gen_em: 0.12, n: 96 },
    params: { rank: 8, rows, total_params: 812_000, lora_params: rows.reduce((t, r) => t + r.lora, 0) },
    target: { met: true, arm: 'lora-replay', note: 'lora-replay passes with task 0.380 → 0.912; what made it pass: replay of the clean tier (replay.txt)' },
    geometry: { arms: [geometryArm('full-none', 'full', 24, 1.8), geometryArm('lora-replay', 'lora', 6, 0.02)], paragraph: 'Reverting embeddings/head alone takes full-none\'s drift from +180% to +20%; LoRA never touches embeddings/head. On this run the theory\'s claim held in part.' },
  };
}

function geometryArm(arm: string, method: 'lora' | 'full', r90: number, drift: number): NonNullable<LabSummary['geometry']>['arms'][number] {
  const score = (f: number) => ({ task_acc: 0.38 + 0.5 * f, task_se: 0.03, control_ppl: 12.5 * (1 + drift * f), drift: drift * f, drift_ci: [drift * f - 0.01, drift * f + 0.01] as [number, number] });
  const groups = ['embeddings/head', 'attention qkv', 'attention out', 'mlp up', 'mlp down', 'norms'];
  return {
    arm, method, split: 'test', delta_theta: method === 'full' ? 13 : 5,
    groups: groups.map((group, i) => ({ group, params: 1000 * (i + 1), delta_fro: method === 'lora' && i !== 1 && i !== 2 ? 0 : 1 + i, rel_delta: 0.1, share_of_delta_sq: 1 / 6 })),
    blocks: [0, 1].map((b) => ({ group: `block ${b}`, params: 5000, delta_fro: 2, rel_delta: 0.1, share_of_delta_sq: 0.4 })),
    matrices: [0, 1, 2, 3].map((i) => ({ name: `transformer.h.${i % 2}.attn.c_attn.weight`, group: groups[1 + (i % 2)], shape: [128, 384], delta_fro: 1.5, erank: method === 'full' ? 60 + i : 5 + i, r90: r90 + i, stable_rank: 4, intruders: method === 'lora' ? 2 : 0, intruders_null: 0 })),
    median_erank: method === 'full' ? 61.5 : 6.5, median_r90: r90, median_width: 128, intruders: method === 'lora' ? 8 : 0, intruders_null: 0,
    ablate: [{ group: 'tuned', mode: 'none', ...score(1) }, { group: 'base', mode: 'all', ...score(0) }, ...groups.flatMap((g, i) => [{ group: g, mode: 'revert' as const, ...score(1 - 0.1 * i) }, { group: g, mode: 'only' as const, ...score(0.1 * i) }])],
    interpolate: [0, 0.25, 0.5, 0.75, 1].map((alpha) => ({ alpha, ...score(alpha) })),
    truncate: [1, 4, 16].flatMap((rank) => (['truncate', 'shrink'] as const).map((mode) => ({ rank, mode, delta_fro: rank, ...score(rank / 16) }))),
    seconds: 12,
  };
}

const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

/** Writes the metrics.jsonl files of the fixture's base model and arms (first seed) under dir. */
export function writeFixtureMetrics(dir: string, s: LabSummary): void {
  mkdirSync(join(dir, s.base.model_dir), { recursive: true });
  const pre: object[] = [];
  for (let step = 0; step <= 200; step += 10) {
    pre.push({ step, loss: 1.6 + 4 * Math.exp(-step / 40), lr: 1e-3, grad_norm: 1, tokens_per_s: 15000 });
    if (step % 50 === 0) pre.push({ step, val_loss: 1.7 + 4 * Math.exp(-step / 45) });
  }
  writeFileSync(join(dir, s.base.model_dir, 'metrics.jsonl'), jsonl(pre));
  s.arms.forEach((a, k) => {
    mkdirSync(join(dir, a.run_dir), { recursive: true });
    const rows: object[] = [];
    for (let step = 0; step <= a.steps; step += 5) {
      rows.push({ step, loss: 0.4 + 2 * Math.exp(-step / (10 + 5 * k)) + 0.05 * Math.sin(step), lr: a.lr, grad_norm: 0.8, tokens_per_s: 9000, ...(a.replay > 0 && { replay_loss: 1.7 }) });
      if (step % 20 === 0) {
        const f = step / a.steps;
        rows.push({ step, split: 'dev', task_acc: s.base.dev.task_acc + (a.task_acc - s.base.dev.task_acc) * f, control_ppl: s.base.control_ppl * (1 + a.drift * f), drift: a.drift * f });
      }
    }
    writeFileSync(join(dir, a.run_dir, 'metrics.jsonl'), jsonl(rows));
  });
}
