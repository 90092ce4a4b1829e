import { existsSync } from 'node:fs';
import { isFile } from '../util/fs.ts';
import { basename, dirname, join } from 'node:path';
import { Rng } from '../util/rng.ts';
import { ConfigError } from '../errors.ts';
import { loadModel } from '../model/checkpoint.ts';
import type { GPT } from '../model/gpt.ts';
import { loadLlama2c } from '../model/llama2c.ts';
import type { Adapters } from './inject.ts';
import { loadAdapter } from './peft.ts';
import type { Tokenizer } from '../tokenizer/bpe.ts';
import { loadTokenizer } from '../tokenizer/hf-json.ts';
import { loadLlama2cTokenizer } from '../tokenizer/llama2c.ts';
import type { RunContext } from '../backend/context.ts';

/**
 * Where the tokenizer of a llama2.c checkpoint FILE.bin is looked for, in order: the adapter
 * run's tokenizer.json, then beside the file tokenizer.json, tokenizer.bin (llama2.c's format)
 * and tok<V>.bin (llama2.c's name for a custom V-token one, e.g. tok512.bin for stories260K).
 */
export function llama2cTokenizerCandidates(binFile: string, vocabSize: number): string[] {
  const dir = dirname(binFile);
  return [join(dir, 'tokenizer.json'), join(dir, 'tokenizer.bin'), join(dir, `tok${vocabSize}.bin`)];
}

/**
 * A model — a directory (config.json, model.safetensors, tokenizer.json) or a llama2.c `.bin`
 * file (its tokenizer found by llama2cTokenizerCandidates) — and optionally a PEFT adapter run
 * applied on top. The adapter's own directory may also carry a tokenizer.json.
 */
export function loadForInference(modelPath: string, adapterDir: string | undefined, ctx: RunContext): { model: GPT; tok: Tokenizer; adapters: Adapters | null } {
  const bin = isFile(modelPath);
  const model = bin ? loadLlama2c(modelPath, ctx.backend) : loadModel(modelPath, ctx.backend);
  const candidates = bin
    ? [...(adapterDir !== undefined ? [join(adapterDir, 'tokenizer.json')] : []), ...llama2cTokenizerCandidates(modelPath, model.config.vocabSize)]
    : [modelPath, adapterDir].filter((d): d is string => d !== undefined).map((d) => join(d, 'tokenizer.json'));
  const tf = candidates.find((f) => existsSync(f));
  if (tf === undefined) {
    throw new ConfigError(bin
      ? `no tokenizer for this llama2.c checkpoint: put its tokenizer (${candidates.map((c) => basename(c)).join(', ')}) beside it`
      : 'model directory has no tokenizer.json', { file: modelPath });
  }
  const tok = tf.endsWith('.bin') ? loadLlama2cTokenizer(tf) : loadTokenizer(tf);
  if (tok.vocabSize > model.config.vocabSize) {
    throw new ConfigError(`the tokenizer has ${tok.vocabSize} tokens, more than the model's vocabulary of ${model.config.vocabSize}`, { file: tf });
  }
  const adapters = adapterDir !== undefined ? loadAdapter(adapterDir, model, new Rng(0), ctx.log).adapters : null;
  return { model, tok, adapters };
}
