import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Rng } from '../util/rng.ts';
import { CheckpointError } from '../errors.ts';
import type { GPT } from '../model/gpt.ts';
import { readSafetensors, serializeSafetensors } from '../model/safetensors.ts';
import { readText, writeFileAtomic } from '../util/fs.ts';
import { type LoraConfig } from './config.ts';
import { adapterParameters, applyLora, type Adapters } from './inject.ts';
import { parseJson, show } from '../util/json.ts';



/**
 * Adapters in PEFT's format: adapter_config.json + adapter_model.safetensors with keys
 * `base_model.model.<module>.lora_A.weight` (r, in) and `.lora_B.weight` (out, r).
 * `fan_in_fan_out` is true for GPT-2, whose Conv1D base weights are stored (in, out), and false
 * for every nn.Linear model (llama, qwen2, gpt_neox: weights stored (out, in)). It describes the
 * base weight only: A and B have the same shapes either way, so it never changes the math here.
 */
const PREFIX = 'base_model.model.';

const KNOWN_KEYS = new Set(['peft_type', 'task_type', 'r', 'lora_alpha', 'lora_dropout', 'target_modules', 'fan_in_fan_out',
  'bias', 'use_rslora', 'init_lora_weights', 'base_model_name_or_path', 'modules_to_save', 'inference_mode', 'revision',
  'layers_to_transform', 'layers_pattern', 'rank_pattern', 'alpha_pattern', 'use_dora', 'auto_mapping', 'megatron_config',
  'megatron_core', 'loftq_config', 'layer_replication', 'runtime_config', 'lora_bias', 'exclude_modules', 'eva_config',
  'corda_config', 'trainable_token_indices', 'target_parameters', 'qalora_group_size', 'use_qalora', 'peft_version']);

export function peftConfig(model: GPT, cfg: LoraConfig, targets: string[], baseModel: string): Record<string, unknown> {
  return {
    peft_type: 'LORA', task_type: 'CAUSAL_LM', r: cfg.rank, lora_alpha: cfg.alpha, lora_dropout: cfg.dropout,
    target_modules: targets, fan_in_fan_out: model.config.modelType === 'gpt2', bias: 'none',
    use_rslora: cfg.rslora, init_lora_weights: cfg.init === 'gaussian' ? 'gaussian' : true,
    base_model_name_or_path: baseModel, modules_to_save: null, inference_mode: true,
    layers_to_transform: null, rank_pattern: {}, alpha_pattern: {}, use_dora: false,
  };
}

export function saveAdapter(dir: string, model: GPT, adapters: Adapters, cfg: LoraConfig, baseModel: string): void {
  mkdirSync(dir, { recursive: true });
  const targets = [...new Set([...adapters.keys()].map((p) => p.split('.').pop()!))];
  const t = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, p] of adapterParameters(adapters)) t.set(PREFIX + name, { shape: p.shape, data: p.data as Float32Array });
  writeFileAtomic(join(dir, 'adapter_model.safetensors'), serializeSafetensors(t, { format: 'pt' }));
  writeFileAtomic(join(dir, 'adapter_config.json'), JSON.stringify(peftConfig(model, cfg, targets, baseModel), null, 2) + '\n');
}

/** Reads adapter_config.json into a LoraConfig; unknown keys are reported through `warn`. */
export function readAdapterConfig(dir: string, warn: (msg: string) => void = (m) => process.stderr.write(m + '\n')): LoraConfig & { baseModel: string; fanInFanOut?: boolean } {
  const file = join(dir, 'adapter_config.json');
  if (!existsSync(file)) throw new CheckpointError('not an adapter directory (no adapter_config.json)', { file: dir });
  const j = parseJson(readText(file), (msg, e) => { throw new CheckpointError(msg, { file }, e && { cause: e.cause }); }) as Record<string, unknown>;
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new CheckpointError('must be a JSON object', { file });
  for (const k of Object.keys(j)) if (!KNOWN_KEYS.has(k)) warn(`${file}: warning: unknown key "${k}" ignored`);
  if (j.peft_type !== undefined && j.peft_type !== 'LORA') throw new CheckpointError(`only LORA adapters are supported, got ${show(j.peft_type)}`, { file, field: 'peft_type' });
  const num = (k: string, def?: number): number => {
    const v = j[k] === undefined ? def : j[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new CheckpointError(`must be a number, got ${show(v)}`, { file, field: k });
    return v;
  };
  const r = num('r');
  if (!Number.isInteger(r) || r < 1) throw new CheckpointError(`must be a positive integer, got ${r}`, { file, field: 'r' });
  const targets = j.target_modules;
  if (!Array.isArray(targets) || !targets.every((x) => typeof x === 'string')) {
    throw new CheckpointError('must be a list of module names', { file, field: 'target_modules' });
  }
  if (j.use_dora === true) throw new CheckpointError('DoRA adapters are not supported', { file, field: 'use_dora' });
  for (const k of ['rank_pattern', 'alpha_pattern'] as const) {
    if (j[k] && typeof j[k] === 'object' && Object.keys(j[k] as object).length > 0) throw new CheckpointError('per-module ranks/alphas are not supported', { file, field: k });
  }
  return {
    rank: r, alpha: num('lora_alpha', r), dropout: num('lora_dropout', 0), targets: targets as string[],
    rslora: j.use_rslora === true, init: j.init_lora_weights === 'gaussian' ? 'gaussian' : 'kaiming',
    baseModel: typeof j.base_model_name_or_path === 'string' ? j.base_model_name_or_path : '',
    ...(typeof j.fan_in_fan_out === 'boolean' ? { fanInFanOut: j.fan_in_fan_out } : {}),
  };
}

/** Applies the adapter in `dir` to `model` (wrapping its layers) and loads A and B. */
export function loadAdapter(dir: string, model: GPT, rng: Rng, warn?: (msg: string) => void): { adapters: Adapters; config: LoraConfig } {
  const { fanInFanOut, ...config } = readAdapterConfig(dir, warn);
  const conv1d = model.config.modelType === 'gpt2';
  if (fanInFanOut !== undefined && fanInFanOut !== conv1d) {
    (warn ?? ((m: string) => process.stderr.write(m + '\n')))(`${join(dir, 'adapter_config.json')}: warning: fan_in_fan_out ${fanInFanOut} does not fit ${model.config.modelType}'s ${conv1d ? 'Conv1D (in, out)' : 'nn.Linear (out, in)'} weights; set to ${conv1d} (as PEFT does)`);
  }
  const adapters = applyLora(model, config, rng);
  const file = join(dir, 'adapter_model.safetensors');
  const st = readSafetensors(file).tensors;
  for (const [name, p] of adapterParameters(adapters)) {
    const src = st.get(PREFIX + name);
    if (!src) throw new CheckpointError('missing tensor', { file, field: PREFIX + name });
    if (src.shape.join() !== p.shape.join()) throw new CheckpointError(`shape [${src.shape}] does not fit [${p.shape}]`, { file, field: PREFIX + name });
    p.data.set(src.data);
  }
  return { adapters, config };
}
