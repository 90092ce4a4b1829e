import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../backend/backend.ts';
import { CheckpointError, ConfigError } from '../errors.ts';
import { configParams, fromHfConfig, toHfConfig, validateConfig, type GPTConfig } from './config.ts';
import { GPT } from './gpt.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { readSafetensors, serializeSafetensors, type StTensor } from './safetensors.ts';
import { makeOutDir, readText, writeFileAtomic } from '../util/fs.ts';
import { parseJson } from '../util/json.ts';


/**
 * A model directory in the Hugging Face layout: config.json, model.safetensors and (when the
 * model has one) tokenizer.json.
 */

/** Llama's nn.Linear weights are stored (out, in); ours are (in, out). */
function isTransposedInHf(config: GPTConfig, name: string): boolean {
  return config.modelType === 'llama' && /(_proj|lm_head)\.weight$/.test(name);
}

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/**
 * The base model's parameters under their HF names: on a LoRA-wrapped model the wrapped
 * weights keep their own names (`….c_attn.base_layer.weight` → `….c_attn.weight`) and the
 * adapters (`lora_A`, `lora_B`) are not part of it.
 */
export function baseParameters(model: GPT): [string, Tensor][] {
  return model.namedParameters().filter(([n]) => !/\.lora_[AB]\./.test(n)).map(([n, t]) => [n.replace('.base_layer.', '.'), t]);
}

/**
 * The model's weights (or, with `which = 'grad'`, their gradients) as an HF state dict:
 * name → tensor in HF layout.
 */
export function stateDict(model: GPT, which: 'data' | 'grad' = 'data'): Map<string, { shape: number[]; data: Float32Array }> {
  const sd = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of baseParameters(model)) {
    const data = (which === 'data' ? t.data : (t.grad ?? new Float32Array(t.size))) as Float32Array;
    if (isTransposedInHf(model.config, name)) sd.set(name, { shape: [t.shape[1], t.shape[0]], data: transpose2d(data, t.shape[0], t.shape[1]) });
    else sd.set(name, { shape: t.shape.slice(), data });
  }
  return sd;
}

/** Copies an HF state dict into the model; every parameter must be present with its shape. */
export function loadStateDict(model: GPT, tensors: Map<string, StTensor | { shape: number[]; data: Float32Array }>, file = 'model.safetensors'): void {
  const byName = new Map(tensors);
  // GPT2Model checkpoints omit the `transformer.` prefix of GPT2LMHeadModel
  for (const [k, v] of tensors) if (model.config.modelType === 'gpt2' && !k.startsWith('transformer.') && !k.startsWith('lm_head.')) byName.set(`transformer.${k}`, v);
  for (const [name, t] of baseParameters(model)) {
    const src = byName.get(name);
    if (src === undefined) throw new CheckpointError('missing tensor', { file, field: name });
    const hfShape = isTransposedInHf(model.config, name) ? [t.shape[1], t.shape[0]] : t.shape;
    if (src.shape.join(',') !== hfShape.join(',')) {
      throw new CheckpointError(`shape [${src.shape}] does not fit the model's [${hfShape}]`, { file, field: name });
    }
    t.data.set(isTransposedInHf(model.config, name) ? transpose2d(src.data, hfShape[0], hfShape[1]) : src.data);
  }
}

export function saveModel(model: GPT, dir: string, opts: { tokenizerJson?: string; metadata?: Record<string, string> } = {}): void {
  makeOutDir(dir);
  writeFileAtomic(join(dir, 'model.safetensors'), serializeSafetensors(stateDict(model), { format: 'pt', ...opts.metadata }));
  writeFileAtomic(join(dir, 'config.json'), JSON.stringify(toHfConfig(model.config), null, 2) + '\n');
  if (opts.tokenizerJson !== undefined) writeFileAtomic(join(dir, 'tokenizer.json'), opts.tokenizerJson);
}

export function readModelConfig(dir: string): GPTConfig {
  const file = join(dir, 'config.json');
  if (!existsSync(file)) throw new ConfigError('not a model directory (no config.json)', { file: dir });
  const j = parseJson(readText(file), (msg, e) => { throw new CheckpointError(msg, { file }, e && { cause: e.cause }); });
  if (typeof j !== 'object' || j === null) throw new CheckpointError('config must be a JSON object', { file });
  return fromHfConfig(j as Record<string, unknown>, file);
}

/**
 * Loads config.json + model.safetensors from a model directory. The config is checked against
 * the weights file's size before the model is built: a config.json that describes more
 * parameters than the file can hold (at 2 bytes each, the smallest dtype read) is refused,
 * never allocated.
 */
export function loadModel(dir: string, backend: Backend): GPT {
  const config = validateConfig(readModelConfig(dir), join(dir, 'config.json'));
  const file = join(dir, 'model.safetensors');
  let size: number;
  try { size = statSync(file).size; } catch (e) { throw new CheckpointError(`cannot read: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, { file }, { cause: e }); }
  const n = configParams(config);
  if (2 * n > size) {
    throw new CheckpointError(`config.json describes ${n.toLocaleString('en-US')} parameters, more than the ${size.toLocaleString('en-US')}-byte weights file can hold`, { file: join(dir, 'config.json') });
  }
  const model = new GPT(backend, config);
  loadStateDict(model, readSafetensors(file).tensors, file);
  return model;
}
