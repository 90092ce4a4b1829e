import { readText } from '../util/fs.ts';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { resolvedConfig, validateTyped, type Values } from '../config/schema.ts';
import { encodeDocuments, sequenceTokens, splitDocuments } from '../data/sft-format.ts';
import { Rng } from '../util/rng.ts';
import { ConfigError, DataError } from '../errors.ts';
import { saveModel } from '../model/checkpoint.ts';
import { GPT } from '../model/gpt.ts';
import { preset } from '../model/presets.ts';
import { writeFileAtomic } from '../util/fs.ts';
import { crossEntropy } from '../tensor/ops/loss.ts';
import { noGrad, releasing } from '../tensor/tensor.ts';
import type { Tokenizer } from '../tokenizer/bpe.ts';
import { loadTokenizer, toHfJson } from '../tokenizer/hf-json.ts';
import { DEFAULT_SPECIALS } from '../tokenizer/special.ts';
import { trainBpe } from '../tokenizer/train.ts';
import { heldOutBatches, PackedLoader, type Batch } from './batch.ts';
import { versions } from '../util/version.ts';
import type { RunContext } from '../backend/context.ts';
import { PRETRAIN_SCHEMA, type PretrainConfig } from './pretrain-config.ts';
import { usePrecision } from './precision.ts';
import { claimRunDir } from './run-dir.ts';
import { Trainer } from './trainer.ts';

export { PRETRAIN_RECIPE_DEFAULTS, PRETRAIN_SCHEMA, type PretrainConfig } from './pretrain-config.ts';

export interface PretrainResult {
  /** A stop request (a signal) ended training early; the state is saved and `--resume` continues it. */
  interrupted: boolean;
  modelDir: string;
  params: number;
  finalLoss: number;
  heldOutLoss: number;
  tokensPerSec: number;
  trainTokens: number;
  seconds: number;
}

/** Mean next-token loss over fixed held-out batches. */
export function heldOutLoss(model: GPT, batches: Batch[]): number {
  let total = 0, n = 0;
  noGrad(() => {
    for (const b of batches) {
      const per = new Float32Array(b.B * b.T);
      releasing(model.backend, () => { crossEntropy(model.forward(b.ids, b.B, b.T), b.targets, { perToken: per }); });
      for (let i = 0; i < per.length; i++) if (b.targets[i] >= 0) { total += per[i]; n++; }
    }
  });
  return n > 0 ? total / n : NaN;
}

/**
 * The held-out documents: every Nth; with fewer than 2N documents (a few whole files), the
 * last 1/N of each document's text instead, cut at a line end where there is one.
 */
export function holdOut(docs: readonly string[], every: number): { train: string[]; held: string[] } {
  if (docs.length >= 2 * every) {
    return { train: docs.filter((_, i) => (i + 1) % every !== 0), held: docs.filter((_, i) => (i + 1) % every === 0) };
  }
  const train: string[] = [], held: string[] = [];
  for (const d of docs) {
    let cut = Math.floor(d.length * (1 - 1 / every));
    const nl = d.lastIndexOf('\n', cut);
    if (nl > d.length / 2) cut = nl + 1;
    train.push(d.slice(0, cut));
    if (cut < d.length) held.push(d.slice(cut));
  }
  return { train, held };
}

/** The pretraining recipe: text → tokenizer → GPT from scratch → model directory. */
export async function pretrain(cfg: PretrainConfig, ctx: RunContext): Promise<PretrainResult> {
  const values = validateTyped(PRETRAIN_SCHEMA, cfg);
  const release = claimRunDir(cfg.out, { resume: cfg.resume, overwrite: cfg.overwrite }, ctx.log);
  const restore = usePrecision(ctx, cfg.precision);
  try { return await runPretrain(cfg, values, ctx); } finally { restore(); release(); }
}

async function runPretrain(cfg: PretrainConfig, values: Values, ctx: RunContext): Promise<PretrainResult> {
  const t0 = performance.now();
  const docs: string[] = [];
  for (const f of cfg.text) {
    docs.push(...splitDocuments(readText(f, 'text'), cfg.documents));
  }
  if (docs.length === 0) throw new DataError('no text', { file: cfg.text.join(', '), field: 'text' });
  const { train, held } = holdOut(docs, cfg.heldOutEvery);

  let tok: Tokenizer;
  if (cfg.tokenizer !== undefined) tok = loadTokenizer(cfg.tokenizer);
  else {
    ctx.log(`tokenizer: training byte-level BPE, vocab ${cfg.vocab}`);
    tok = trainBpe(train, { vocabSize: cfg.vocab, specials: DEFAULT_SPECIALS });
  }
  const trainIds = Int32Array.from(encodeDocuments(tok, train));
  const heldIds = Int32Array.from(encodeDocuments(tok, held));

  const config = preset(cfg.preset, tok.vocabSize);
  const T = cfg.seqLen ?? config.nCtx;
  if (T > config.nCtx) throw new ConfigError(`sequence length ${T} exceeds the preset's n_ctx ${config.nCtx}`, { field: 'seq_len' });
  if (trainIds.length < T + 2) throw new DataError(`only ${trainIds.length} tokens of text, fewer than one sequence of ${T + 1}`, { file: cfg.text.join(', ') });
  config.eosTokenId = sequenceTokens(tok).end;
  config.bosTokenId = config.eosTokenId;
  const model = new GPT(ctx.backend, config);
  model.initWeights(new Rng(cfg.seed));
  ctx.log(`model: ${config.modelType} preset ${cfg.preset}, ${model.numParams().toLocaleString('en-US')} parameters, V ${config.vocabSize}, T ${T}; ` +
    `${trainIds.length.toLocaleString('en-US')} training tokens, backend ${ctx.backend.name} (${ctx.backend.threads} threads)`);

  const tail = cfg.tailSteps > 0 && cfg.tailText > 0
    ? { fromBatch: Math.floor(cfg.steps * (1 - cfg.tailSteps)), fromToken: Math.floor(trainIds.length * (1 - cfg.tailText)) } : null;
  const loader = new PackedLoader(trainIds, cfg.batch, T, cfg.seed + 1, tail);
  // at most 4 held-out batches: a validation pass stays a small share of training time
  const evalBatches = heldIds.length < T + 2 ? [] : heldOutBatches(heldIds, cfg.batch, T, 4);
  const trainer = new Trainer(model.namedParameters(), loader, {
    steps: cfg.steps, maxLr: cfg.lr, minLr: cfg.lr * cfg.minLrRatio, warmup: cfg.warmup, clip: cfg.clip, gradAccum: 1,
    adamw: cfg.adamw, logEvery: cfg.logEvery, evalEvery: cfg.evalEvery, checkpointEvery: cfg.saveEvery,
  }, {
    loss: (b) => ({ loss: crossEntropy(model.forward(b.ids, b.B, b.T), b.targets), tokens: b.ids.length }),
    evaluate: () => ({ val_loss: heldOutLoss(model, evalBatches) }),
    onCheckpoint: () => saveModel(model, cfg.out, { tokenizerJson: JSON.stringify(toHfJson(tok), null, 2) + '\n' }),
  }, cfg.out, 'pretrain', ctx.progress, ctx.stop);
  if (cfg.resume) {
    trainer.loadState(cfg.out, ctx.log);
    ctx.log(`resumed at step ${trainer.step}`);
  }
  mkdirSync(cfg.out, { recursive: true });
  const resolved = resolvedConfig(PRETRAIN_SCHEMA, { ...values, backend: ctx.backend.name.startsWith('native') ? 'native' : 'js', threads: ctx.backend.threads }, {
    backend: ctx.backend.name, threads: ctx.backend.threads, matmul: ctx.backend.matmulMode.kernel,
    versions: versions(), created: new Date().toISOString(), model: config,
  });
  writeFileAtomic(join(cfg.out, 'config.resolved.json'), JSON.stringify(resolved, null, 2) + '\n');
  const r = await trainer.run({ resumed: cfg.resume });
  const val = heldOutLoss(model, evalBatches);
  return {
    modelDir: cfg.out, params: model.numParams(), finalLoss: r.loss, heldOutLoss: val, tokensPerSec: r.tokensPerSec,
    trainTokens: trainIds.length, seconds: (performance.now() - t0) / 1000, interrupted: r.interrupted,
  };
}
