import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeDocuments } from '../data/sft-format.ts';
import { Rng } from '../data/rng.ts';
import { ConfigError, DataError } from '../errors.ts';
import { saveModel } from '../model/checkpoint.ts';
import { GPT } from '../model/gpt.ts';
import { preset } from '../model/presets.ts';
import { writeFileAtomic } from '../model/safetensors.ts';
import { crossEntropy } from '../tensor/ops/loss.ts';
import { noGrad } from '../tensor/tensor.ts';
import type { Tokenizer } from '../tokenizer/bpe.ts';
import { loadTokenizer, toHfJson } from '../tokenizer/hf-json.ts';
import { DEFAULT_SPECIALS } from '../tokenizer/special.ts';
import { trainBpe } from '../tokenizer/train.ts';
import { heldOutBatches, PackedLoader, type Batch } from './batch.ts';
import type { RunContext } from './context.ts';
import { Trainer } from './trainer.ts';

export interface PretrainConfig {
  /** Plain-text files; each non-empty line is one document. */
  text: string[];
  /** A tokenizer.json (or a directory holding one); else one is trained with `vocab`. */
  tokenizer?: string;
  vocab: number;
  out: string;
  preset: string;
  steps: number;
  batch: number;
  /** Sequence length (default: the preset's n_ctx). */
  seqLen?: number;
  lr: number;
  /** Final LR as a fraction of lr. */
  minLrRatio: number;
  warmup: number;
  weightDecay: number;
  clip: number;
  seed: number;
  evalEvery: number;
  /** Every Nth line is held out for the validation loss. */
  heldOutEvery: number;
  resume: boolean;
  /**
   * Annealing on the text's tail: for the last `tailSteps` share of the steps, windows come
   * only from the last `tailText` share of the training text (0 = off). The lab's corpus puts
   * its echo items there, so the model ends pretraining able to copy across the delimiter.
   */
  tailSteps: number;
  tailText: number;
}

export const PRETRAIN_RECIPE_DEFAULTS: Omit<PretrainConfig, 'text' | 'out'> = {
  vocab: 512, preset: 'nano', steps: 2000, batch: 16, lr: 2e-3, minLrRatio: 0.1, warmup: 100,
  weightDecay: 0.1, clip: 1, seed: 1337, evalEvery: 250, heldOutEvery: 50, resume: false, tailSteps: 0, tailText: 0,
};

export interface PretrainResult {
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
      crossEntropy(model.forward(b.ids, b.B, b.T), b.targets, { perToken: per });
      for (let i = 0; i < per.length; i++) if (b.targets[i] >= 0) { total += per[i]; n++; }
    }
  });
  return n > 0 ? total / n : NaN;
}

/** The pretraining recipe: text → tokenizer → GPT from scratch → model directory. */
export function pretrain(cfg: PretrainConfig, ctx: RunContext): PretrainResult {
  const t0 = performance.now();
  const lines: string[] = [];
  for (const f of cfg.text) {
    if (!existsSync(f)) throw new DataError('no such file', { file: f });
    for (const l of readFileSync(f, 'utf8').split('\n')) if (l.trim() !== '') lines.push(l);
  }
  if (lines.length < 2) throw new DataError('needs at least 2 non-empty lines of text', { file: cfg.text.join(', ') });
  const train = lines.filter((_, i) => (i + 1) % cfg.heldOutEvery !== 0);
  const held = lines.filter((_, i) => (i + 1) % cfg.heldOutEvery === 0);

  let tok: Tokenizer;
  if (cfg.tokenizer !== undefined) tok = loadTokenizer(cfg.tokenizer);
  else {
    ctx.log(`tokenizer: training byte-level BPE, vocab ${cfg.vocab}`);
    tok = trainBpe(train, { vocabSize: cfg.vocab, specials: DEFAULT_SPECIALS });
  }
  const trainIds = Int32Array.from(encodeDocuments(tok, train.join('\n')));
  const heldIds = Int32Array.from(encodeDocuments(tok, held.join('\n')));

  const config = preset(cfg.preset, tok.vocabSize);
  const T = cfg.seqLen ?? config.nCtx;
  if (T > config.nCtx) throw new ConfigError(`sequence length ${T} exceeds the preset's n_ctx ${config.nCtx}`, { field: 'seqLen' });
  if (trainIds.length < T + 2) throw new DataError(`only ${trainIds.length} tokens of text, fewer than one sequence of ${T + 1}`, { file: cfg.text.join(', ') });
  config.eosTokenId = tok.specialId('<|endoftext|>');
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
    adamw: { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: cfg.weightDecay },
    logEvery: 10, evalEvery: cfg.evalEvery, checkpointEvery: cfg.evalEvery,
  }, {
    loss: (b) => ({ loss: crossEntropy(model.forward(b.ids, b.B, b.T), b.targets), tokens: b.ids.length }),
    evaluate: () => ({ val_loss: heldOutLoss(model, evalBatches) }),
    onCheckpoint: () => saveModel(model, cfg.out, { tokenizerJson: JSON.stringify(toHfJson(tok), null, 2) + '\n' }),
  }, cfg.out, 'pretrain');
  if (cfg.resume) {
    trainer.loadState(cfg.out);
    ctx.log(`resumed at step ${trainer.step}`);
  }
  mkdirSync(cfg.out, { recursive: true });
  writeFileAtomic(join(cfg.out, 'config.resolved.json'), JSON.stringify({
    command: 'pretrain', ...cfg, backend: ctx.backend.name, threads: ctx.backend.threads, model: config,
    versions: { forgetmenot: '0.1.0', node: process.version },
  }, null, 2) + '\n');
  const r = trainer.run({ resumed: cfg.resume });
  const val = heldOutLoss(model, evalBatches);
  return {
    modelDir: cfg.out, params: model.numParams(), finalLoss: r.loss, heldOutLoss: val, tokensPerSec: r.tokensPerSec,
    trainTokens: trainIds.length, seconds: (performance.now() - t0) / 1000,
  };
}
