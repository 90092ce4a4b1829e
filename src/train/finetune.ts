import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { resolvedConfig, validateTyped, type Values } from '../config/schema.ts';
import type { ProbeItem } from '../data/probes.ts';
import { copyTokenizerSideFiles, loadChatTemplate } from '../data/chat.ts';
import { encodeSftFile } from '../data/sft-data.ts';
import { encodeDocuments, sequenceTokens } from '../data/sft-format.ts';
import { ConfigError, DataError } from '../errors.ts';
import { evaluateProbes, subsetResult, type EvalResult } from '../eval/evaluate.ts';
import { hasAny, loadProbeSplit, needRole, probeFilesOf } from '../eval/probe-files.ts';
import { drift as driftOf, verdict, type Verdict } from '../eval/verdict.ts';
import { baseParameters, saveModel } from '../model/checkpoint.ts';
import { lmLoss } from '../model/gpt.ts';
import { readText, writeFileAtomic } from '../util/fs.ts';
import { loraScaling, type LoraConfig } from '../lora/config.ts';
import { adapterParameters, applyLora, frozenMatrices, setLoraDisabled, setLoraTraining, type Adapters } from '../lora/inject.ts';
import { saveAdapter } from '../lora/peft.ts';
import { loraDeltaSqNorm, sqDistance } from '../lora/regularizer.ts';
import { add, scale } from '../tensor/ops/elementwise.ts';
import { IGNORE_INDEX } from '../tensor/ops/loss.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { saveTokenizer } from '../tokenizer/hf-json.ts';
import { PAD } from '../tokenizer/special.ts';
import { Rng, type RngState } from '../util/rng.ts';
import { pairedBootstrapDrift } from '../util/stats.ts';
import { versions } from '../util/version.ts';
import type { RunContext } from '../backend/context.ts';
import { usePrecision } from './precision.ts';
import { FINETUNE_SCHEMA, type FinetuneConfig } from './finetune-config.ts';
import { loadForInference } from '../lora/load.ts';
import { SftLoader } from './sft-loader.ts';
import { claimRunDir } from './run-dir.ts';
import { Trainer } from './trainer.ts';

export { DEFAULT_LR, FINETUNE_DEFAULTS, FINETUNE_SCHEMA, type FinetuneConfig, type Method } from './finetune-config.ts';

/** One in-training evaluation on the dev probes, by role. */
export interface EvalPoint {
  step: number; task_acc?: number; task_se?: number; gen_em?: number; control_ppl?: number; adoption_acc?: number;
  /** Dev drift and its 95% paired bootstrap interval over the control items. */
  drift?: number; drift_lo?: number; drift_hi?: number;
}

/** The 95% paired bootstrap interval of the drift between two evaluations of the same control items. */
function driftInterval(before: EvalResult, after: EvalResult, seed: number): [number, number] {
  const nt = (r: EvalResult) => r.items.filter((i) => i.role === 'control' && i.nll !== undefined).map((i) => ({ nll: i.nll!, tokens: i.tokens! }));
  const r = pairedBootstrapDrift(nt(before), nt(after), { rng: new Rng(seed), B: 1000 });
  return [r.lo, r.hi];
}

/** The final evaluation of one split: every group's numbers and the verdict against the base on the same items. */
export interface SplitReport { eval: Omit<EvalResult, 'items'>; base: Omit<EvalResult, 'items'>; verdict: Verdict }

export interface FinetuneResult {
  runDir: string;
  trainable: number;
  total: number;
  finalLoss: number;
  steps: number;
  stoppedByGate: boolean;
  /** The step whose weights were kept (the gate's choice, on dev), or null without the gate. */
  bestStep: number | null;
  evals: EvalPoint[];
  tokensPerSec: number;
  seconds: number;
  truncated: number;
  /** A stop request (a signal) ended training early; the state is saved and `--resume` continues it. */
  interrupted: boolean;
  /** Final numbers on the dev split (what selection read) and the test split (what is reported), when given. */
  dev?: SplitReport;
  test?: SplitReport;
}

/** Task accuracy ± se, generation EM, control perplexity and adoption accuracy of an evaluation, by role. */
export function headline(r: EvalResult): { task_acc?: number; task_se?: number; gen_em?: number; control_ppl?: number; adoption_acc?: number } {
  const out: ReturnType<typeof headline> = {};
  const t = r.roles.task, c = r.roles.control, a = r.roles.adoption;
  if (t?.acc !== undefined) { out.task_acc = t.acc; out.task_se = t.se; }
  if (t?.gen_em !== undefined) out.gen_em = t.gen_em;
  if (c?.ppl !== undefined) out.control_ppl = c.ppl;
  if (a?.acc !== undefined) out.adoption_acc = a.acc;
  return out;
}

const withoutItems = (r: EvalResult): Omit<EvalResult, 'items'> => ({ probes: r.probes, roles: r.roles });

/**
 * The SFT recipe: base model + prompt/completion data → a run directory (a PEFT adapter for
 * LoRA, a full model directory for full fine-tuning) with metrics.jsonl, config.resolved.json
 * and an exact-resume training state. In-training evaluation and the gate read the dev probes
 * only; the test probes are opened once training is over, for the final report.
 */
export async function finetune(cfgIn: FinetuneConfig, ctx: RunContext): Promise<FinetuneResult> {
  const values = validateTyped(FINETUNE_SCHEMA, cfgIn);
  if (cfgIn.seeds > 1) throw new ConfigError('finetune runs one seed; finetuneSeeds (fmn finetune --seeds N) runs several', { field: 'seeds' });
  const release = claimRunDir(cfgIn.out, { resume: cfgIn.resume, overwrite: cfgIn.overwrite }, ctx.log);
  const restore = usePrecision(ctx, cfgIn.precision);
  const cleanups: (() => void)[] = [];
  try { return await runFinetune(cfgIn, values, ctx, cleanups); } finally { for (const c of cleanups.reverse()) c(); restore(); release(); }
}

async function runFinetune(cfgIn: FinetuneConfig, values: Values, ctx: RunContext, cleanups: (() => void)[]): Promise<FinetuneResult> {
  const t0 = performance.now();
  const { model, tok } = loadForInference(cfgIn.base, undefined, ctx);
  const nCtx = model.config.nCtx;
  // conversations are rendered with the model's own chat template (tokenizer_config.json), when it has one
  const chat = loadChatTemplate(cfgIn.base);
  const { sequences, truncated } = encodeSftFile(cfgIn.data, tok, nCtx, cfgIn.truncate, chat);
  if (chat !== null) ctx.log(`data: conversations rendered with the chat template of ${chat.source}, loss on the assistant turns`);
  if (truncated > 0) ctx.log(`data: ${truncated} rows longer than the context were truncated`);
  // epochs → steps, once the rows are counted; the resolved config keeps the steps
  const cfg: FinetuneConfig = cfgIn.epochs === undefined ? cfgIn
    : { ...cfgIn, epochs: undefined, steps: Math.max(1, Math.ceil((cfgIn.epochs * sequences.length) / (cfgIn.batch * cfgIn.gradAccum))) };
  let replayTokens: Int32Array | null = null;
  if (cfg.replay > 0) {
    replayTokens = Int32Array.from(encodeDocuments(tok, readText(cfg.replayText!, 'replay_text')));
    const window = SftLoader.longestRow(sequences) + 1;
    if (replayTokens.length < window + 1) throw new DataError(`only ${replayTokens.length} tokens: shorter than one replay window of ${window}`, { file: cfg.replayText, field: 'replay_text' });
  }
  const devItems: ProbeItem[] = loadProbeSplit(cfg.probes, 'dev');
  // in-training evaluation scores likelihoods only (pairs, texts, choices); generation is scored at the end
  const monitorItems = devItems.filter((i) => i.kind !== 'generate');
  probeFilesOf(cfg.probes, 'test');                     // the test files exist; they are read after training
  if (cfg.gate) needRole(devItems, 'control', 'dev', '--gate');
  const withRoles = monitorItems.some((i) => i.role !== undefined);
  if (devItems.length > 0 && !withRoles) ctx.log('finetune: the dev probes have no item with a role (task, control, adoption): in-training evaluation is skipped');
  // --eval-every 0 with the final evaluation on: the dev probes are scored once, at the end (the
  // final report), not also at step 0 and the last step
  const monitored = withRoles && (cfg.evalEvery > 0 || cfg.gate || !cfg.finalEval);
  if (cfg.evalEvery > 0 && devItems.length === 0) ctx.log('finetune: --eval-every reads the dev probes (--dev-task, --dev-control, …) and none were given');

  const rng = new Rng(cfg.seed);
  // LoRA dropout masks: a generator of its own, saved with the training state (exact resume)
  const dropoutRng = new Rng(cfg.seed + 2);

  // 1. what trains
  let adapters: Adapters | null = null;
  let params: [string, Tensor][];
  if (cfg.method.kind === 'lora') {
    adapters = applyLora(model, cfg.method, rng.fork(), dropoutRng);
    params = adapterParameters(adapters);
    // the base stays fixed for the whole run (nothing here merges the adapters or writes it): a
    // bf16 path converts and packs its matrices once, not in every product
    cleanups.push(ctx.backend.freezeOperands(frozenMatrices(model)));
  } else {
    params = model.namedParameters();
    for (const [, p] of params) p.requiresGrad = true;
  }
  const trainable = params.reduce((s, [, p]) => s + p.size, 0);
  const total = baseParameters(model).reduce((s, [, p]) => s + p.size, 0);
  ctx.log(`finetune: ${cfg.method.kind}, ${trainable.toLocaleString('en-US')} trainable of ${total.toLocaleString('en-US')} parameters ` +
    `(${(100 * trainable / total).toFixed(2)}%), ${sequences.length} rows, ${cfg.steps} steps, backend ${ctx.backend.name} (${ctx.backend.threads} threads)`);
  const theta0 = cfg.l2sp > 0 ? params.map(([, p]) => p.data.slice()) : [];

  // 2. evaluation on the dev split: the base's numbers first (adapters off = the base, bit for bit)
  const evalOn = (items: readonly ProbeItem[]): EvalResult => {
    if (adapters) setLoraTraining(adapters, false);
    const r = evaluateProbes(model, tok, items);
    if (adapters) setLoraTraining(adapters, true);
    return r;
  };
  // the base on every dev item once, when the final report will need it too (the in-training
  // view is its likelihood items: generation is scored at the end only)
  const finalDev = cfg.finalEval && devItems.length > 0;
  const baseDevAll = monitored && finalDev ? evalOn(devItems) : null;
  const baseDev = baseDevAll ? subsetResult(baseDevAll, (i) => i.kind !== 'generate') : monitored ? evalOn(monitorItems) : null;
  const basePpl = baseDev ? headline(baseDev).control_ppl : undefined;
  const evals: EvalPoint[] = [];
  if (baseDev) evals.push({ step: 0, ...headline(baseDev), ...(basePpl !== undefined ? { drift: 0 } : {}) });
  // the gate's fallback is the starting point itself (step 0: drift 0, within any bound)
  let best: { step: number; task: number; data: Float32Array[] } | null = cfg.gate
    ? { step: 0, task: (baseDev && headline(baseDev).task_acc) ?? 0, data: params.map(([, p]) => p.data.slice() as Float32Array) } : null;
  let stoppedByGate = false;

  // 3. the loss: SFT (+ replay rows) + regularizers
  // padded positions are never scored: any id will do where the tokenizer has no pad token
  const padId = tok.addedTokens.find((t) => t.content === PAD)?.id ?? tok.pad ?? sequenceTokens(tok).end;
  const loader = new SftLoader(sequences, cfg.batch, padId, cfg.seed + 1, cfg.replay, replayTokens);
  const lossFn = (b: { ids: Int32Array; targets: Int32Array; B: number; T: number }) => {
    const per = cfg.replay > 0 ? new Float32Array(b.B * b.T) : undefined;
    let loss = lmLoss(model, b.ids, b.B, b.T, b.targets, per);
    const parts: Record<string, number> = {};
    if (per !== undefined) {
      const from = (b.B - loader.lastReplayRows) * b.T;
      let s = 0, n = 0, ss = 0, sn = 0;
      for (let i = 0; i < per.length; i++) {
        if (b.targets[i] === IGNORE_INDEX) continue;
        if (i >= from) { s += per[i]; n++; } else { ss += per[i]; sn++; }
      }
      if (n > 0) parts.replay_loss = s / n;
      if (sn > 0) parts.sft_loss = ss / sn;
    }
    if (adapters && cfg.loraL2 > 0) {
      const s = loraScaling(cfg.method as LoraConfig);
      let reg: Tensor | null = null;
      for (const a of adapters.values()) { const r = loraDeltaSqNorm(a.loraA, a.loraB, s); reg = reg ? add(reg, r) : r; }
      parts.reg = reg!.item();
      loss = add(loss, scale(reg!, cfg.loraL2));
    }
    if (cfg.l2sp > 0) {
      let reg: Tensor | null = null;
      params.forEach(([, p], i) => { const r = sqDistance(p, theta0[i]); reg = reg ? add(reg, r) : r; });
      parts.reg = reg!.item();
      loss = add(loss, scale(reg!, cfg.l2sp));
    }
    return { loss, parts, tokens: b.ids.length };
  };

  // 4. saving: adapter or full model, atomically; the adapter names the base as the user gave it
  // the full model keeps its tokenizer: tokenizer.json (+ tokenizer_config.json), the base's own side files over them
  const save = () => {
    if (adapters) saveAdapter(cfg.out, model, adapters, cfg.method as LoraConfig, cfg.base);
    else { saveModel(model, cfg.out); saveTokenizer(tok, cfg.out); copyTokenizerSideFiles(cfg.base, cfg.out); }
  };

  if (adapters) setLoraTraining(adapters, true);
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}%`;
  const trainer = new Trainer(params, loader, {
    steps: cfg.steps, maxLr: cfg.lr, minLr: cfg.lr * cfg.minLrRatio, warmup: cfg.warmup, clip: cfg.clip, gradAccum: cfg.gradAccum,
    adamw: cfg.adamw, logEvery: cfg.logEvery, evalEvery: monitored ? cfg.evalEvery : 0, checkpointEvery: cfg.saveEvery,
  }, {
    loss: lossFn,
    evaluate: !monitored ? undefined : (step) => {
      const ev = evalOn(monitorItems);
      const h = headline(ev);
      const d = basePpl !== undefined && h.control_ppl !== undefined ? driftOf(basePpl, h.control_ppl) : undefined;
      // the dev drift's paired bootstrap interval: a checkpoint is kept only when its upper end is within the bound
      const ci = d !== undefined ? driftInterval(baseDev!, ev, step) : undefined;
      const point: EvalPoint = { step, ...h, ...(d !== undefined ? { drift: d, drift_lo: ci![0], drift_hi: ci![1] } : {}) };
      evals.push(point);
      ctx.log(`eval step ${step} (dev):` + (h.task_acc !== undefined ? ` task acc ${h.task_acc.toFixed(3)} ± ${(h.task_se ?? NaN).toFixed(3)}` : '')
        + (d !== undefined ? `, drift ${pct(d)} [${pct(ci![0])}, ${pct(ci![1])}]` : '')
        + (h.adoption_acc !== undefined ? `, adoption ${h.adoption_acc.toFixed(3)}` : ''));
      const keep = ci === undefined || ci[1] <= cfg.driftBound;
      if (keep && (best === null || (h.task_acc ?? 0) > best.task)) {
        best = { step, task: h.task_acc ?? 0, data: params.map(([, p]) => p.data.slice() as Float32Array) };
      }
      const over = d !== undefined && d > cfg.driftBound;
      if (cfg.gate && over) stoppedByGate = true;
      return { split: 'dev', ...point, ...(cfg.gate && over ? { stop: 1 } : {}) };
    },
    onCheckpoint: save,
    extraState: {
      save: () => ({ dropout_rng: dropoutRng.state() }),
      restore: (st) => { dropoutRng.setState((st as { dropout_rng: RngState }).dropout_rng); },
    },
  }, cfg.out, `finetune ${cfg.method.kind}`, ctx.progress, ctx.stop);
  mkdirSync(cfg.out, { recursive: true });
  if (cfg.resume) { trainer.loadState(cfg.out, ctx.log); ctx.log(`resumed at step ${trainer.step}`); }
  const resolved = resolvedConfig(FINETUNE_SCHEMA, { ...values, steps: cfg.steps, epochs: undefined, backend: ctx.backend.name.startsWith('native') ? 'native' : 'js', threads: ctx.backend.threads }, {
    backend: ctx.backend.name, threads: ctx.backend.threads, matmul: ctx.backend.matmulMode.kernel,
    versions: versions(), created: new Date().toISOString(), model: model.config, trainable_params: trainable, total_params: total,
  });
  writeFileAtomic(join(cfg.out, 'config.resolved.json'), JSON.stringify(resolved, null, 2) + '\n');
  const r = await trainer.run({ resumed: cfg.resume, stopAt: cfg.stopAfter !== undefined ? trainer.step + cfg.stopAfter : undefined });
  if (trainer.step < cfg.steps && !stoppedByGate && !r.interrupted) trainer.saveState();   // stopped early: resumable
  if (adapters) setLoraTraining(adapters, false);

  // 5. the gate keeps the best dev checkpoint within the bound
  const kept = best as { step: number; task: number; data: Float32Array[] } | null;
  if (cfg.gate && kept !== null && (stoppedByGate || kept.step !== trainer.step)) {
    params.forEach(([, p], i) => p.data.set(kept.data[i]));
    ctx.log(`gate: kept the step-${kept.step} checkpoint (dev task acc ${kept.task.toFixed(3)}, the upper end of its dev drift interval within ${(100 * cfg.driftBound).toFixed(1)}%)`);
  }
  save();

  // 6. the final numbers: dev (what selection read), then test (opened only now)
  const result: FinetuneResult = {
    runDir: cfg.out, trainable, total, finalLoss: r.loss, steps: trainer.step, stoppedByGate,
    bestStep: kept?.step ?? null, evals, tokensPerSec: r.tokensPerSec, seconds: 0, truncated, interrupted: r.interrupted,
  };
  if (r.interrupted) { result.seconds = (performance.now() - t0) / 1000; return result; }
  if (cfg.finalEval && (trainer.step >= cfg.steps || stoppedByGate)) {
    const report = (items: ProbeItem[], base: EvalResult): SplitReport => {
      const tuned = evaluateProbes(model, tok, items);
      return { eval: withoutItems(tuned), base: withoutItems(base), verdict: verdict(base, tuned, { bound: cfg.driftBound }) };
    };
    const baseOf = (items: ProbeItem[]): EvalResult => {
      if (adapters) { setLoraDisabled(adapters, true); const b = evaluateProbes(model, tok, items); setLoraDisabled(adapters, false); return b; }
      const b = loadForInference(cfg.base, undefined, { ...ctx, log: () => {} });
      return evaluateProbes(b.model, b.tok, items);
    };
    // the base before training: LoRA's adapters start at B = 0 and full fine-tuning at the base's weights, so the step-0 evaluation is the base's
    if (devItems.length > 0) result.dev = report(devItems, baseDevAll ?? baseOf(devItems));
    if (hasAny(cfg.probes, 'test')) { const test = loadProbeSplit(cfg.probes, 'test'); result.test = report(test, baseOf(test)); }
    for (const [split, s] of [['dev', result.dev], ['test', result.test]] as const) {
      if (s === undefined) continue;
      const v = s.verdict;
      ctx.log(`final (${split}): ${v.verdict}` + (v.task_acc_after !== null ? `, task acc ${v.task_acc_before!.toFixed(3)} → ${v.task_acc_after.toFixed(3)} ± ${(v.task_acc_se ?? NaN).toFixed(3)}` : '')
        + (v.drift !== null ? `, drift ${pct(v.drift)} [${pct(v.drift_ci![0])}, ${pct(v.drift_ci![1])}]` : '') + (v.reasons.length ? ` — ${v.reasons.join('; ')}` : ''));
    }
  }
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}
