/** A synthetic lab directory for the report tests: a base model and three arms with metrics. */
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
  return { task: { n: 96, acc: accOf(3), gen_em: accOf(4) / 2, by_tag }, control: { n: 40, ppl: 12.5 } };
}

function arm(name: string, o: Partial<ArmSummary> & Pick<ArmSummary, 'method' | 'task_acc' | 'drift' | 'pass'>): ArmSummary {
  return {
    name, description: `${name} arm`, lr: 1e-4, steps: 60, replay: 0, lambda: 0, run_dir: `runs/${name}`,
    gen_em: o.task_acc * 0.8, control_ppl: 12.5 * (1 + o.drift), adoption: 0.9, adoption_gen_em: 0.85,
    reasons: o.pass ? [] : ['drift over the bound'], trainable_params: o.method === 'lora' ? 24576 : 812_000, seconds: 41.5,
    kept_step: null, evals: [], probes: taskProbe((i) => Math.min(1, o.task_acc - 0.05 + 0.02 * i)), ...o,
  };
}

export function fixtureSummary(): LabSummary {
  const arms = [
    arm('lora-default', { method: 'lora', rank: 8, alpha: 16, task_acc: 0.912, drift: 0.021, pass: true }),
    arm('full-aggressive', { method: 'full', lr: 1e-3, task_acc: 0.975, drift: 1.8, pass: false, kept_step: 40 }),
    arm('lora-replay', { method: 'lora', rank: 8, alpha: 16, replay: 0.05, replay_text: 'replay.txt', lambda: 0.01, task_acc: 0.85, drift: -0.004, pass: true,
      probes: taskProbe((i) => 0.8 + 0.02 * i, ['verb=write']) }),
  ];
  const rows = [0, 1].flatMap((l) => [
    { layer: `transformer.h.${l}.attn.c_attn`, in: 128, out: 384, full: 128 * 384, lora: 8 * 512, share: (8 * 512) / (128 * 384) },
    { layer: `transformer.h.${l}.attn.c_proj`, in: 128, out: 128, full: 128 * 128, lora: 8 * 256, share: (8 * 256) / (128 * 128) },
  ]);
  return {
    version: 1, created: '2025-01-02T03:04:05.000Z', backend: 'native', threads: 2, wall_seconds: 312.4, drift_bound: 0.05, fast: false,
    corpus: { dir: 'corpus', seed: 0, pretrain_lines: 20000, sft_rows: 600 },
    base: {
      model_dir: 'base', task_acc: 0.38, gen_em: 0.1, control_ppl: 12.5, control_acc: 0.97, adoption: 0.95, adoption_gen_em: 0.9,
      echo_em: 0.88, params: 812_000,
      pretrain: { steps: 200, seconds: 120.2, tokens_per_s: 15000, final_loss: 1.62, held_out_loss: 1.71 },
      probes: taskProbe((i) => 0.2 + 0.05 * i),
    },
    arms,
    search: [
      { name: 'lr=3e-4,replay=0', lr: 3e-4, steps: 60, replay: 0, lambda: 0, task_acc: 0.93, drift: 0.07, pass: false },
      { name: 'lr=1e-4,replay=0.05', lr: 1e-4, steps: 60, replay: 0.05, lambda: 0, task_acc: 0.88, drift: 0.01, pass: true },
    ],
    few_shot: { k: 4, task_acc: 0.45, gen_em: 0.12, n: 96 },
    params: { rank: 8, rows, total_params: 812_000, lora_params: rows.reduce((t, r) => t + r.lora, 0) },
    target: { met: true, arm: 'lora-default', note: 'lora-default reaches task 0.912 ≥ 0.9 with drift +2.1% ≤ 5%; base task 0.380 ≤ 0.5' },
  };
}

const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

/** Writes the metrics.jsonl files of the fixture's base model and arms under dir. */
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
        rows.push({ step, task_acc: s.base.task_acc + (a.task_acc - s.base.task_acc) * f, gen_em: a.gen_em * f, control_ppl: s.base.control_ppl * (1 + a.drift * f), drift: a.drift * f });
      }
    }
    writeFileSync(join(dir, a.run_dir, 'metrics.jsonl'), jsonl(rows));
  });
}
