import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../util/rng.ts';
import { ConfigError } from '../errors.ts';
import { loadModel } from '../model/checkpoint.ts';
import type { GPT } from '../model/gpt.ts';
import type { Adapters } from './inject.ts';
import { loadAdapter } from './peft.ts';
import type { Tokenizer } from '../tokenizer/bpe.ts';
import { loadTokenizer } from '../tokenizer/hf-json.ts';
import type { RunContext } from '../backend/context.ts';

/**
 * A model directory (config.json, model.safetensors, tokenizer.json) and optionally a PEFT
 * adapter run applied on top. The adapter's own directory may also carry a tokenizer.json.
 */
export function loadForInference(modelDir: string, adapterDir: string | undefined, ctx: RunContext): { model: GPT; tok: Tokenizer; adapters: Adapters | null } {
  const model = loadModel(modelDir, ctx.backend);
  const tf = [modelDir, adapterDir].filter((d): d is string => d !== undefined).map((d) => join(d, 'tokenizer.json')).find((f) => existsSync(f));
  if (tf === undefined) throw new ConfigError('model directory has no tokenizer.json', { file: modelDir });
  const tok = loadTokenizer(tf);
  if (tok.vocabSize > model.config.vocabSize) {
    throw new ConfigError(`the tokenizer has ${tok.vocabSize} tokens, more than the model's vocabulary of ${model.config.vocabSize}`, { file: tf });
  }
  const adapters = adapterDir !== undefined ? loadAdapter(adapterDir, model, new Rng(0), ctx.log).adapters : null;
  return { model, tok, adapters };
}
