import { ConfigError } from '../errors.ts';
import type { GPTConfig } from './config.ts';

/**
 * Named model sizes, every number spelled out. The vocabulary size comes from the tokenizer
 * and is filled in by the caller.
 */

/** The lab's pretrained model: ~0.9M parameters at V = 512; pretrains in minutes on 2 cores. */
export function nano(vocabSize: number): GPTConfig {
  return {
    modelType: 'gpt2', vocabSize, nCtx: 256, nEmbd: 128, nLayer: 4, nHead: 4, nKvHead: 4,
    intermediateSize: 512, normEps: 1e-5, ropeTheta: 10000, tieWordEmbeddings: true,
  };
}

/** A test-sized model: seconds to train. */
export function micro(vocabSize: number): GPTConfig {
  return {
    modelType: 'gpt2', vocabSize, nCtx: 256, nEmbd: 48, nLayer: 2, nHead: 2, nKvHead: 2,
    intermediateSize: 192, normEps: 1e-5, ropeTheta: 10000, tieWordEmbeddings: true,
  };
}

/** The peer benchmark's `small`: ~5M parameters. */
export function small(vocabSize: number): GPTConfig {
  return {
    modelType: 'gpt2', vocabSize, nCtx: 256, nEmbd: 256, nLayer: 6, nHead: 8, nKvHead: 8,
    intermediateSize: 1024, normEps: 1e-5, ropeTheta: 10000, tieWordEmbeddings: true,
  };
}

/** A Llama-variant nano (RoPE, RMSNorm, SwiGLU, grouped-query attention). */
export function nanoLlama(vocabSize: number): GPTConfig {
  return {
    modelType: 'llama', vocabSize, nCtx: 128, nEmbd: 128, nLayer: 4, nHead: 4, nKvHead: 2,
    intermediateSize: 344, normEps: 1e-5, ropeTheta: 10000, tieWordEmbeddings: false,
  };
}

/** GPT-2 small's shape (124M parameters at V 50257): for parameter counts, and patient pretraining. */
export function gpt2(vocabSize: number): GPTConfig {
  return {
    modelType: 'gpt2', vocabSize, nCtx: 1024, nEmbd: 768, nLayer: 12, nHead: 12, nKvHead: 12,
    intermediateSize: 3072, normEps: 1e-5, ropeTheta: 10000, tieWordEmbeddings: true,
  };
}

export const PRESETS: Record<string, (vocabSize: number) => GPTConfig> = { nano, micro, small, 'nano-llama': nanoLlama, gpt2 };

export function preset(name: string, vocabSize: number): GPTConfig {
  const f = PRESETS[name];
  if (!f) throw new ConfigError(`unknown preset "${name}" (one of ${Object.keys(PRESETS).join(', ')})`, { field: '--preset' });
  return f(vocabSize);
}
