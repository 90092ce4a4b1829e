import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { saveTokenizer } from '../tokenizer/hf-json.ts';
import { trainBpe } from '../tokenizer/train.ts';
import { join, relative } from 'node:path';
import { writeCorpus } from '../data/corpus.ts';
import { loadProbes, type GenerateProbe, type PairProbe, type ProbeItem } from '../data/probes.ts';
import { loadSft } from '../data/sft-load.ts';
import { evaluateProbes, type EvalResult } from '../eval/evaluate.ts';
import { fewShotBaseline } from '../eval/fewshot.ts';
import { verdict } from '../eval/verdict.ts';
import { LORA_DEFAULTS } from '../lora/config.ts';
import { loraParamCounts } from '../lora/params.ts';
import { writeReport } from '../report/write.ts';
import type { ArmSummary, LabSummary } from '../report/summary.ts';
import type { RunContext } from './context.ts';
import { finetune, FINETUNE_DEFAULTS, type Method } from './finetune.ts';
import type { LabConfig } from './lab-config.ts';
import { loadForInference } from './load.ts';
import { pretrain, PRETRAIN_RECIPE_DEFAULTS } from './pretrain.ts';

interface ArmSpec {
  name: string;
  description: string;
  method: Method;
  lr: number;
  steps: number;
  replay: number;
  lambda: number;
  gate?: boolean;
  /** Replay source: the corpus's curated tier (replay.txt, default) or the noisy pretraining text. */
  replayFrom?: 'replay' | 'pretrain';
}

const lora = (): Method => ({ kind: 'lora', ...LORA_DEFAULTS });

/** The corpus file an arm replays, or null without replay. */
const replayFile = (a: ArmSpec): 'replay.txt' | 'pretrain.txt' | null =>
  a.replay > 0 ? (a.replayFrom === 'pretrain' ? 'pretrain.txt' : 'replay.txt') : null;

/** Highest task accuracy among the arms within the drift bound, or among all when none is. */
function bestOf(arms: ArmSummary[], bound: number): ArmSummary {
  const within = arms.filter((a) => a.drift <= bound);
  return (within.length > 0 ? within : arms).reduce((x, y) => (y.task_acc > x.task_acc ? y : x));
}

/** The fixed arms (a)–(e), plus full fine-tuning at the measured rate; (f) comes from the search. */
export function labArms(c: LabConfig): ArmSpec[] {
  const steps = c.finetune.steps;
  return [
    { name: 'lora-default', description: 'the recipe as written: LoRA r 8, α 16, lr 1e-4', method: lora(), lr: 1e-4, steps, replay: 0, lambda: 0 },
    { name: 'full-default', description: 'full fine-tuning at the recipe\'s lr 1e-5', method: { kind: 'full' }, lr: 1e-5, steps, replay: 0, lambda: 0 },
    { name: 'full-aggressive', description: `full fine-tuning at lr ${c.aggressiveFullLr}: learns, and forgets`, method: { kind: 'full' }, lr: c.aggressiveFullLr, steps, replay: 0, lambda: 0 },
    { name: 'full-measured', description: 'full fine-tuning at lr 1e-4, the rate measured for this model size', method: { kind: 'full' }, lr: 1e-4, steps, replay: 0, lambda: 0 },
    { name: 'lora-replay', description: `LoRA at lr ${c.loraLr} with ${100 * c.replay}% replay of the curated pretraining tier (replay.txt)`, method: lora(), lr: c.loraLr, steps, replay: c.replay, lambda: 0 },
    { name: 'lora-anchor', description: `LoRA at lr ${c.loraLr} with the anchor λ‖ΔW‖², λ = ${c.loraL2}`, method: lora(), lr: c.loraLr, steps, replay: 0, lambda: c.loraL2 },
  ];
}

/** The search grid: LoRA over lr × steps × replay × λ, each with the drift gate. */
export function searchArms(c: LabConfig): ArmSpec[] {
  const out: ArmSpec[] = [];
  for (const lr of c.search.lr) for (const steps of c.search.steps) for (const replay of c.search.replay) for (const lambda of c.search.lambda) {
    out.push({ name: `search-lr${lr}-s${steps}-r${replay}-l${lambda}`, description: 'search candidate (drift gate on)', method: lora(), lr, steps, replay, lambda, gate: true });
  }
  return out;
}

const pick = (r: EvalResult, probe: string, key: 'acc' | 'gen_em' | 'ppl'): number => r.probes[probe]?.[key] ?? NaN;

/**
 * `fmn lab`: corpus → tokenizer → pretrain → base eval → fine-tuning arms (each evaluated
 * during and after training) → search → few-shot baseline → report. Everything lands in
 * `out`; the summary's paths are relative to it.
 */
export async function runLab(out: string, c: LabConfig, ctx: RunContext & { fast: boolean }): Promise<LabSummary> {
  const t0 = performance.now();
  mkdirSync(out, { recursive: true });
  const corpusDir = join(out, 'corpus'), baseDir = join(out, 'base');

  // 1. corpus
  ctx.log(`lab: 1/6 corpus → ${corpusDir}`);
  const manifest = writeCorpus(corpusDir, { seed: c.corpus.seed, pretrain: c.corpus.pretrain, replay: { tokens: c.corpus.replayTokens }, sft: { rows: c.corpus.sftRows }, probes: c.corpus.probes });
  const probeFile = (p: string) => join(corpusDir, 'probes', `${p}.jsonl`);
  const probes: Record<string, ProbeItem[]> = {};
  for (const p of ['task', 'control', 'adoption', 'echo']) probes[p] = loadProbes(probeFile(p));

  // 2. tokenizer (on all the lab's text) + pretraining
  const rows = loadSft(join(corpusDir, 'sft.jsonl')).flatMap((e) => (e.kind === 'prompt-completion' ? [{ prompt: e.prompt, completion: e.completion }] : []));
  const tokDir = join(out, 'tokenizer');
  const lines = readFileSync(join(corpusDir, 'pretrain.txt'), 'utf8').split('\n').filter((l) => l !== '');
  saveTokenizer(trainBpe([...lines, ...rows.flatMap((r) => [r.prompt, r.completion])], { vocabSize: c.tokenizer.vocab }), tokDir);
  ctx.log(`lab: 2/6 pretraining the base model (${c.pretrain.preset}, ${c.pretrain.steps} steps; BPE vocab ${c.tokenizer.vocab})`);
  rmSync(baseDir, { recursive: true, force: true });
  const pt = pretrain({
    ...PRETRAIN_RECIPE_DEFAULTS, text: [join(corpusDir, 'pretrain.txt')], tokenizer: tokDir, out: baseDir, preset: c.pretrain.preset,
    steps: c.pretrain.steps, batch: c.pretrain.batch, seqLen: c.pretrain.seqLen, lr: c.pretrain.lr, warmup: c.pretrain.warmup,
    seed: c.pretrain.seed, tailSteps: c.pretrain.tailSteps, tailText: c.pretrain.tailText, evalEvery: Math.max(50, Math.floor(c.pretrain.steps / 6)),
  }, ctx);

  // 3. the base model's numbers
  ctx.log('lab: 3/6 evaluating the base model');
  const base = loadForInference(baseDir, undefined, ctx);
  const baseEval = evaluateProbes(base.model, base.tok, [...probes.task, ...probes.control, ...probes.adoption, ...probes.echo]);
  const fewShot = fewShotBaseline(base.model, base.tok, rows, c.fewShotK,
    probes.task.filter((p): p is PairProbe => p.kind === 'pair'), probes.task.filter((p): p is GenerateProbe => p.kind === 'generate'));
  const counts = loraParamCounts(base.model, { rank: LORA_DEFAULTS.rank, targets: LORA_DEFAULTS.targets });
  ctx.log(`lab: base task acc ${pick(baseEval, 'task', 'acc').toFixed(3)}, control PPL ${pick(baseEval, 'control', 'ppl').toFixed(4)}, ` +
    `control acc ${pick(baseEval, 'control', 'acc').toFixed(3)}, echo EM ${pick(baseEval, 'echo', 'gen_em').toFixed(3)}; few-shot (k ${fewShot.k}) task acc ${fewShot.task_acc.toFixed(3)}`);

  // 4–5. the arms, then the search
  const runArm = (a: ArmSpec): ArmSummary => {
    const runDir = join(out, 'runs', a.name);
    rmSync(runDir, { recursive: true, force: true });
    ctx.log(`lab: arm ${a.name}: ${a.description}`);
    const replayed = replayFile(a);
    const r = finetune({
      ...FINETUNE_DEFAULTS, base: baseDir, data: join(corpusDir, 'sft.jsonl'), out: runDir, method: a.method,
      lr: a.lr, steps: a.steps, batch: c.finetune.batch, warmup: c.finetune.warmup, seed: c.finetune.seed,
      replay: a.replay, replayText: replayed !== null ? join(corpusDir, replayed) : undefined,
      loraL2: a.method.kind === 'lora' ? a.lambda : 0, l2sp: a.method.kind === 'full' ? a.lambda : 0,
      probes: [probeFile('task'), probeFile('control')], evalEvery: c.finetune.evalEvery, driftBound: c.driftBound, gate: a.gate ?? false,
    }, { backend: ctx.backend, log: () => {} });
    const tuned = a.method.kind === 'lora' ? loadForInference(baseDir, runDir, { ...ctx, log: () => {} }) : loadForInference(runDir, undefined, ctx);
    const ev = evaluateProbes(tuned.model, tuned.tok, [...probes.task, ...probes.control, ...probes.adoption]);
    const vd = verdict(baseEval, ev, c.driftBound);
    const arm: ArmSummary = {
      name: a.name, description: a.description, method: a.method.kind, lr: a.lr, steps: r.steps, replay: a.replay,
      replay_text: replayed, lambda: a.lambda,
      ...(a.method.kind === 'lora' ? { rank: a.method.rank, alpha: a.method.alpha } : {}),
      run_dir: relative(out, runDir), task_acc: pick(ev, 'task', 'acc'), gen_em: pick(ev, 'task', 'gen_em'), control_ppl: pick(ev, 'control', 'ppl'),
      drift: vd.drift ?? NaN, adoption: pick(ev, 'adoption', 'acc'), adoption_gen_em: pick(ev, 'adoption', 'gen_em'),
      pass: vd.pass, reasons: vd.reasons, trainable_params: r.trainable, seconds: r.seconds,
      kept_step: a.gate && r.bestStep !== null && r.bestStep !== r.steps ? r.bestStep : null,
      evals: r.evals, probes: ev.probes,
    };
    ctx.log(`lab:   task acc ${arm.task_acc.toFixed(3)}, gen EM ${arm.gen_em.toFixed(3)}, drift ${(100 * arm.drift).toFixed(2)}%, ` +
      `adoption ${arm.adoption.toFixed(3)} — ${arm.pass ? 'PASS' : 'FAIL'} (${r.seconds.toFixed(0)} s)`);
    return arm;
  };
  ctx.log('lab: 4/6 fine-tuning arms');
  const arms = labArms(c).map(runArm);
  ctx.log('lab: 5/6 searching lr × steps × replay × λ (LoRA, drift gate on)');
  const candidates = searchArms(c).map(runArm);
  const best = bestOf(candidates, c.driftBound);
  arms.push({ ...best, name: 'lora-best', description: `best of the search (${best.name})` });
  // the ablation that says what the replay source does: the best replaying candidate's recipe,
  // replaying the noisy pretraining text (errors and all) instead of the curated tier
  const replaying = candidates.filter((a) => a.replay > 0);
  if (replaying.length > 0) {
    const r = bestOf(replaying, c.driftBound);
    ctx.log('lab: ablation — replay from pretrain.txt instead of replay.txt');
    arms.push(runArm({ name: 'ablation-noisy-replay', description: `${r.name} replaying pretrain.txt (errors and all) instead of replay.txt`,
      method: lora(), lr: r.lr, steps: r.steps, replay: r.replay, lambda: r.lambda, gate: true, replayFrom: 'pretrain' }));
  }

  // 6. summary + report
  const baseTask = pick(baseEval, 'task', 'acc');
  const winner = arms.filter((a) => a.method === 'lora' && a.task_acc >= 0.9 && a.drift <= c.driftBound)
    .reduce<ArmSummary | null>((x, y) => (x === null || y.task_acc > x.task_acc ? y : x), null);
  const met = winner !== null && baseTask <= 0.5;
  const summary: LabSummary = {
    version: 1, created: new Date().toISOString(), backend: ctx.backend.name, threads: ctx.backend.threads,
    wall_seconds: (performance.now() - t0) / 1000, drift_bound: c.driftBound, fast: ctx.fast,
    corpus: { dir: relative(out, corpusDir), seed: c.corpus.seed, pretrain_lines: manifest.counts.pretrain.lines, sft_rows: manifest.counts.sft.rows },
    base: {
      model_dir: relative(out, baseDir), task_acc: baseTask, gen_em: pick(baseEval, 'task', 'gen_em'), control_ppl: pick(baseEval, 'control', 'ppl'),
      control_acc: pick(baseEval, 'control', 'acc'), adoption: pick(baseEval, 'adoption', 'acc'), adoption_gen_em: pick(baseEval, 'adoption', 'gen_em'),
      echo_em: pick(baseEval, 'echo', 'gen_em'), params: pt.params,
      pretrain: { steps: c.pretrain.steps, seconds: pt.seconds, tokens_per_s: pt.tokensPerSec, final_loss: pt.finalLoss, held_out_loss: pt.heldOutLoss },
      probes: baseEval.probes,
    },
    arms,
    search: candidates.map((a) => ({ name: a.name, lr: a.lr, steps: a.steps, replay: a.replay, lambda: a.lambda, task_acc: a.task_acc, drift: a.drift, pass: a.pass })),
    few_shot: fewShot,
    params: { rank: LORA_DEFAULTS.rank, rows: counts.rows, total_params: counts.modelTotal, lora_params: counts.loraTotal },
    target: {
      met, arm: winner?.name ?? null,
      note: met ? `${winner!.name} reaches task accuracy ${winner!.task_acc.toFixed(3)} with control drift ${(100 * winner!.drift).toFixed(2)}% (base task accuracy ${baseTask.toFixed(3)})`
        : `no LoRA arm reached task accuracy ≥ 0.9 with drift ≤ ${(100 * c.driftBound).toFixed(0)}% (best: ${best.name}, task ${best.task_acc.toFixed(3)}, drift ${(100 * best.drift).toFixed(2)}%; base task ${baseTask.toFixed(3)})`,
    },
  };
  ctx.log('lab: 6/6 writing the report');
  await writeReport(out, summary);
  return summary;
}
