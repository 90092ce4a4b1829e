import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../backend/backend.ts';
import { CheckpointError, ConfigError } from '../errors.ts';
import { configParams, fromHfConfig, toHfConfig, validateConfig, type GPTConfig } from './config.ts';
import { GPT } from './gpt.ts';
import { Linear } from '../nn/layers.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { SAVE_BYTES, SafetensorsReader, writeSafetensors, type SaveDType, type StEntry, type StTensor, type TensorSource, type Transpose } from './safetensors.ts';
import { makeOutDir, readText, writeFileAtomic } from '../util/fs.ts';
import { parseJson, show } from '../util/json.ts';

/**
 * A model directory in the Hugging Face layout: config.json, the weights — model.safetensors,
 * or model.safetensors.index.json (`weight_map`: tensor → shard file) and its shards — and
 * (when the model has one) tokenizer.json.
 */

export const WEIGHTS = 'model.safetensors';
export const WEIGHTS_INDEX = 'model.safetensors.index.json';
const SHARD = /^model-\d{5}-of-\d{5}\.safetensors$/;

/**
 * The parameters that Hugging Face stores transposed: every nn.Linear weight, stored (out, in)
 * where ours are (in, out). GPT-2's Conv1D weights are stored (in, out) as ours.
 */
function transposedInHf(model: GPT): Set<string> {
  const out = new Set<string>();
  if (model.config.modelType === 'gpt2') return out;
  for (const [path, m] of model.namedModules()) if (m instanceof Linear) out.add(`${path}.weight`.replace('.base_layer.', '.'));
  return out;
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

/** The weights (or gradients) as HF tensors, made one at a time when written. */
function hfSources(model: GPT, which: 'data' | 'grad' = 'data'): TensorSource[] {
  const tr = transposedInHf(model);
  return baseParameters(model).map(([name, t]) => {
    const data = () => (which === 'data' ? t.data : (t.grad ?? new Float32Array(t.size))) as Float32Array;
    return tr.has(name)
      ? { name, shape: [t.shape[1], t.shape[0]], data: () => transpose2d(data(), t.shape[0], t.shape[1]) }
      : { name, shape: t.shape.slice(), data };
  });
}

/**
 * The model's weights (or, with `which = 'grad'`, their gradients) as an HF state dict:
 * name → tensor in HF layout.
 */
export function stateDict(model: GPT, which: 'data' | 'grad' = 'data'): Map<string, { shape: number[]; data: Float32Array }> {
  return new Map(hfSources(model, which).map((s) => [s.name, { shape: s.shape, data: s.data() }]));
}

/** Copies an HF state dict into the model; every parameter must be present with its shape. */
export function loadStateDict(model: GPT, tensors: Map<string, StTensor | { shape: number[]; data: Float32Array }>, file = WEIGHTS): void {
  const tr = transposedInHf(model);
  const gpt2 = model.config.modelType === 'gpt2';
  for (const [name, t] of baseParameters(model)) {
    // GPT2Model checkpoints omit the `transformer.` prefix of GPT2LMHeadModel
    const src = tensors.get(name) ?? (gpt2 && name.startsWith('transformer.') ? tensors.get(name.slice('transformer.'.length)) : undefined);
    if (src === undefined) throw new CheckpointError('missing tensor', { file, field: name });
    const hfShape = tr.has(name) ? [t.shape[1], t.shape[0]] : t.shape;
    if (src.shape.join(',') !== hfShape.join(',')) {
      throw new CheckpointError(`shape [${src.shape}] does not fit the model's [${hfShape}]`, { file, field: name });
    }
    t.data.set(tr.has(name) ? transpose2d(src.data, hfShape[0], hfShape[1]) : src.data);
  }
}

export interface SaveOptions {
  tokenizerJson?: string;
  metadata?: Record<string, string>;
  /** What the weights are stored as: f32 (default), bf16 or f16 (round to nearest even). */
  dtype?: SaveDType;
  /** Split the weights into shards of at most this many bytes (a larger tensor gets a shard of its own), with model.safetensors.index.json. One shard is written as model.safetensors. */
  maxShardBytes?: number;
}

/**
 * Writes config.json, the weights and tokenizer.json in the HF layout, one tensor at a time.
 * Weight files of an earlier save that the new one does not use (shards, index, or the single
 * file) are removed after the new ones are in place.
 */
export function saveModel(model: GPT, dir: string, opts: SaveOptions = {}): void {
  const dtype = opts.dtype ?? 'f32';
  if (!Object.hasOwn(SAVE_BYTES, dtype)) throw new ConfigError(`must be f32, bf16 or f16, got ${show(dtype)}`, { field: 'dtype' });
  const max = opts.maxShardBytes;
  if (max !== undefined && !(Number.isInteger(max) && max > 0)) throw new ConfigError(`must be a positive integer, got ${show(max)}`, { field: 'maxShardBytes' });
  makeOutDir(dir);
  const metadata = { format: 'pt', ...opts.metadata };
  const sources = hfSources(model);
  const shards = max === undefined ? [sources] : planShards(sources, SAVE_BYTES[dtype], max);
  const written = new Set<string>();
  if (shards.length === 1) {
    writeSafetensors(join(dir, WEIGHTS), shards[0], { dtype, metadata });
    written.add(WEIGHTS);
  } else {
    const weightMap: Record<string, string> = {};
    let total = 0;
    shards.forEach((shard, i) => {
      const name = `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
      total += writeSafetensors(join(dir, name), shard, { dtype, metadata });
      for (const t of shard) weightMap[t.name] = name;
      written.add(name);
    });
    const sorted = Object.fromEntries(Object.keys(weightMap).sort().map((k) => [k, weightMap[k]]));
    writeFileAtomic(join(dir, WEIGHTS_INDEX), JSON.stringify({ metadata: { total_size: total }, weight_map: sorted }, null, 2) + '\n');
    written.add(WEIGHTS_INDEX);
  }
  for (const f of readdirSync(dir)) {
    if ((f === WEIGHTS || f === WEIGHTS_INDEX || SHARD.test(f)) && !written.has(f)) rmSync(join(dir, f), { force: true });
  }
  writeFileAtomic(join(dir, 'config.json'), JSON.stringify(toHfConfig(model.config, dtype), null, 2) + '\n');
  if (opts.tokenizerJson !== undefined) writeFileAtomic(join(dir, 'tokenizer.json'), opts.tokenizerJson);
}

/** Greedy shards in parameter order: a tensor that would take a shard past `max` starts the next one. */
function planShards(sources: TensorSource[], bytesPer: number, max: number): TensorSource[][] {
  const shards: TensorSource[][] = [];
  let cur: TensorSource[] = [], size = 0;
  for (const s of sources) {
    const b = bytesPer * s.shape.reduce((a, x) => a * x, 1);
    if (cur.length > 0 && size + b > max) { shards.push(cur); cur = []; size = 0; }
    cur.push(s);
    size += b;
  }
  if (cur.length > 0) shards.push(cur);
  return shards;
}

/** Whether `dir` is a model directory (it holds config.json). */
export const isModelDir = (dir: string): boolean => existsSync(join(dir, 'config.json'));

export function readModelConfig(dir: string): GPTConfig {
  const file = join(dir, 'config.json');
  if (!isModelDir(dir)) throw new ConfigError('not a model directory (no config.json)', { file: dir });
  const j = parseJson(readText(file), (msg, e) => { throw new CheckpointError(msg, { file }, e && { cause: e.cause }); });
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new CheckpointError('config must be a JSON object', { file });
  return fromHfConfig(j as Record<string, unknown>, file);
}

/** The weight files of a model directory, headers validated, tensors not yet read. */
interface Weights {
  readers: SafetensorsReader[];
  /** The tensor under this name, and the file holding it. */
  find(name: string): { reader: SafetensorsReader; entry: StEntry } | undefined;
  /** Bytes of all weight files together. */
  bytes: number;
  /** What errors about a missing tensor name: the single file or the index. */
  file: string;
  close(): void;
}

/** Opens model.safetensors, or the shards model.safetensors.index.json lists (every header validated, every listed tensor present). */
function openWeights(dir: string): Weights {
  const single = join(dir, WEIGHTS), indexFile = join(dir, WEIGHTS_INDEX);
  const readers: SafetensorsReader[] = [];
  const close = () => { for (const r of readers) r.close(); };
  const sizeOf = (f: string) => statSync(f).size;
  try {
    if (existsSync(single) || !existsSync(indexFile)) {
      const r = SafetensorsReader.open(single);   // a missing file: "cannot read: no such file"
      readers.push(r);
      return { readers, file: single, bytes: sizeOf(single), close, find: (n) => { const entry = r.header.entries.get(n); return entry && { reader: r, entry }; } };
    }
    const j = parseJson(readText(indexFile), (msg, e) => { throw new CheckpointError(msg, { file: indexFile }, e && { cause: e.cause }); }) as Record<string, unknown>;
    if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new CheckpointError('must be a JSON object', { file: indexFile });
    const map = j.weight_map;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new CheckpointError(`must be an object of tensor name → shard file, got ${show(map)}`, { file: indexFile, field: 'weight_map' });
    const byShard = new Map<string, string[]>();
    for (const [name, shard] of Object.entries(map)) {
      if (typeof shard !== 'string' || !/^[^/\\]+$/.test(shard) || shard === '.' || shard === '..') {
        throw new CheckpointError(`must be the name of a file beside the index, got ${show(shard)}`, { file: indexFile, field: `weight_map.${name}` });
      }
      byShard.set(shard, [...(byShard.get(shard) ?? []), name]);
    }
    const where = new Map<string, SafetensorsReader>();
    let bytes = 0;
    for (const [shard, names] of [...byShard].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const r = SafetensorsReader.open(join(dir, shard));
      readers.push(r);
      bytes += sizeOf(join(dir, shard));
      for (const n of names) {
        if (!r.header.entries.has(n)) throw new CheckpointError(`listed in ${WEIGHTS_INDEX} but not in this shard`, { file: r.file, field: n });
        where.set(n, r);
      }
    }
    return {
      readers, file: indexFile, bytes, close,
      find: (n) => { const r = where.get(n); return r && { reader: r, entry: r.header.entries.get(n)! }; },
    };
  } catch (e) { close(); throw e; }
}

/**
 * Reads every parameter from the weight files, straight into the model's own buffers (one
 * chunk at a time, transposed where HF stores (out, in)): every name and shape is checked
 * before any tensor is read.
 */
function readWeights(model: GPT, w: Weights): void {
  const tr = transposedInHf(model);
  const gpt2 = model.config.modelType === 'gpt2';
  const plan: { t: Tensor; reader: SafetensorsReader; entry: StEntry; transpose: Transpose | null }[] = [];
  for (const [name, t] of baseParameters(model)) {
    const hit = w.find(name) ?? (gpt2 && name.startsWith('transformer.') ? w.find(name.slice('transformer.'.length)) : undefined);
    if (hit === undefined) throw new CheckpointError('missing tensor', { file: w.file, field: name });
    const hfShape = tr.has(name) ? [t.shape[1], t.shape[0]] : t.shape;
    if (hit.entry.shape.join(',') !== hfShape.join(',')) {
      throw new CheckpointError(`shape [${hit.entry.shape}] does not fit the model's [${hfShape}]`, { file: hit.reader.file, field: hit.entry.name });
    }
    plan.push({ t, ...hit, transpose: tr.has(name) ? { rows: hfShape[0], cols: hfShape[1] } : null });
  }
  const order = new Map(w.readers.map((r, i) => [r, i]));
  plan.sort((a, b) => order.get(a.reader)! - order.get(b.reader)! || a.entry.begin - b.entry.begin);
  for (const p of plan) p.reader.read(p.entry, p.t.data as Float32Array, p.transpose);
}

/**
 * Loads config.json and the weights (F32, F16 or BF16, single file or sharded) from a model
 * directory into float32. The config is checked against the weight files' size before the
 * model is built: a config.json that describes more parameters than the files can hold (at 2
 * bytes each, the smallest float dtype) is refused, never allocated. Peak memory is the float32
 * model plus one read chunk.
 */
export function loadModel(dir: string, backend: Backend): GPT {
  const config = validateConfig(readModelConfig(dir), join(dir, 'config.json'));
  const w = openWeights(dir);
  try {
    const n = configParams(config);
    if (2 * n > w.bytes) {
      throw new CheckpointError(`config.json describes ${n.toLocaleString('en-US')} parameters, more than the ${w.bytes.toLocaleString('en-US')}-byte weights ${w.readers.length > 1 ? 'files' : 'file'} can hold`, { file: join(dir, 'config.json') });
    }
    const model = new GPT(backend, config);
    readWeights(model, w);
    return model;
  } finally { w.close(); }
}
