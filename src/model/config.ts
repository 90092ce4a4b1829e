import { ConfigError } from '../errors.ts';
import { show } from '../util/json.ts';

/**
 * The architectures, by config.json `model_type`:
 * - `gpt2`: learned positions, LayerNorm, GELU (tanh) MLP, biases, tied head, Conv1D weights.
 * - `llama`: RoPE (optionally Llama-3 rescaled), RMSNorm, SwiGLU, GQA, no biases unless
 *   attention_bias / mlp_bias, tied or untied head.
 * - `qwen2`: llama with biases on the q / k / v projections (none on o_proj).
 * - `gpt_neox` (Pythia): partial RoPE (rotary_pct), LayerNorm with bias, GELU MLP, a fused
 *   query_key_value projection (per head [q | k | v]), parallel residual, untied `embed_out`.
 */
export type ModelType = 'gpt2' | 'llama' | 'qwen2' | 'gpt_neox';
export const MODEL_TYPES: readonly ModelType[] = ['gpt2', 'llama', 'qwen2', 'gpt_neox'];

/** Llama-3 RoPE frequency rescaling (config.json `rope_scaling` with `rope_type: "llama3"`). */
export interface RopeScaling {
  type: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

/** MLP activation: exact GELU (erf), GELU's tanh approximation (GPT-2's gelu_new), SiLU gating (SwiGLU). */
export type HiddenAct = 'gelu' | 'gelu_tanh' | 'silu';

/**
 * The architecture of a decoder-only transformer. The optional fields, when absent, take the
 * Hugging Face default of the model type (fromHfConfig sets them only when a config.json
 * differs from it).
 */
export interface GPTConfig {
  modelType: ModelType;
  vocabSize: number;
  /** Longest sequence (GPT-2 n_positions, else max_position_embeddings). */
  nCtx: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  /** Key/value heads (grouped-query attention); = nHead for gpt2 and gpt_neox. */
  nKvHead: number;
  /** MLP hidden size (4·nEmbd for gpt2). */
  intermediateSize: number;
  normEps: number;
  /** RoPE base (llama, qwen2, gpt_neox's rotary_emb_base). */
  ropeTheta: number;
  tieWordEmbeddings: boolean;
  /** Token ids of the special tokens, when the tokenizer has them. */
  bosTokenId?: number;
  eosTokenId?: number;
  /** Default: gelu_tanh for gpt2, silu for llama / qwen2, gelu for gpt_neox. */
  hiddenAct?: HiddenAct;
  /** Rescaled RoPE frequencies (llama, qwen2, gpt_neox); default none. */
  ropeScaling?: RopeScaling;
  /** Share of each head's features that rotate (gpt_neox rotary_pct; default 0.25 there, 1 elsewhere). */
  rotaryPct?: number;
  /** Attention projection biases: llama attention_bias (q, k, v, o; default false), gpt_neox attention_bias (query_key_value, dense; default true). qwen2 always has q / k / v biases and none on o_proj. */
  attentionBias?: boolean;
  /** MLP projection biases (llama mlp_bias; default false). */
  mlpBias?: boolean;
  /** x + attn(ln₁ x) + mlp(ln₂ x) in one step (gpt_neox use_parallel_residual; default true there). */
  parallelResidual?: boolean;
}

/** What a config resolves to, architecture defaults applied: the pieces the model is built from. */
export interface ArchSpec {
  norm: 'layernorm' | 'rmsnorm';
  act: HiddenAct;
  /** Biases on q, k, v (or the fused query_key_value), on the attention output, on the MLP. */
  qkvBias: boolean;
  oBias: boolean;
  mlpBias: boolean;
  /** Features of each head that rotate; 0 for learned positions (gpt2). */
  rotaryDim: number;
  parallelResidual: boolean;
}

export function archSpec(c: GPTConfig): ArchSpec {
  const hs = c.nEmbd / c.nHead;
  switch (c.modelType) {
    case 'gpt2':
      return { norm: 'layernorm', act: c.hiddenAct ?? 'gelu_tanh', qkvBias: true, oBias: true, mlpBias: true, rotaryDim: 0, parallelResidual: false };
    case 'gpt_neox': {
      const bias = c.attentionBias ?? true;
      return { norm: 'layernorm', act: c.hiddenAct ?? 'gelu', qkvBias: bias, oBias: bias, mlpBias: true,
        rotaryDim: Math.floor(hs * (c.rotaryPct ?? 0.25)), parallelResidual: c.parallelResidual ?? true };
    }
    case 'qwen2':
      return { norm: 'rmsnorm', act: 'silu', qkvBias: true, oBias: false, mlpBias: false, rotaryDim: hs, parallelResidual: false };
    default: {
      const bias = c.attentionBias ?? false;
      return { norm: 'rmsnorm', act: 'silu', qkvBias: bias, oBias: bias, mlpBias: c.mlpBias ?? false, rotaryDim: hs, parallelResidual: false };
    }
  }
}

const LLAMA_ARCH: Record<string, string> = { llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM' };
const TORCH_DTYPE = { f32: 'float32', bf16: 'bfloat16', f16: 'float16' } as const;

/** HF config.json for this architecture (the keys transformers reads); `dtype` is what the weights are stored as. */
export function toHfConfig(c: GPTConfig, dtype: 'f32' | 'bf16' | 'f16' = 'f32'): Record<string, unknown> {
  const torchDtype = TORCH_DTYPE[dtype];
  const scaling = c.ropeScaling === undefined ? {} : {
    rope_scaling: { rope_type: 'llama3', factor: c.ropeScaling.factor, low_freq_factor: c.ropeScaling.lowFreqFactor,
      high_freq_factor: c.ropeScaling.highFreqFactor, original_max_position_embeddings: c.ropeScaling.originalMaxPositionEmbeddings },
  };
  if (c.modelType === 'gpt2') {
    return {
      model_type: 'gpt2', architectures: ['GPT2LMHeadModel'],
      vocab_size: c.vocabSize, n_positions: c.nCtx, n_ctx: c.nCtx, n_embd: c.nEmbd, n_layer: c.nLayer,
      n_head: c.nHead, n_inner: c.intermediateSize, activation_function: c.hiddenAct === 'gelu' ? 'gelu' : 'gelu_new',
      layer_norm_epsilon: c.normEps, tie_word_embeddings: true,
      resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0,
      bos_token_id: c.bosTokenId, eos_token_id: c.eosTokenId, torch_dtype: torchDtype,
    };
  }
  if (c.modelType === 'gpt_neox') {
    const a = archSpec(c);
    return {
      model_type: 'gpt_neox', architectures: ['GPTNeoXForCausalLM'],
      vocab_size: c.vocabSize, max_position_embeddings: c.nCtx, hidden_size: c.nEmbd, num_hidden_layers: c.nLayer,
      num_attention_heads: c.nHead, intermediate_size: c.intermediateSize, layer_norm_eps: c.normEps,
      rotary_pct: c.rotaryPct ?? 0.25, rotary_emb_base: c.ropeTheta, ...scaling,
      use_parallel_residual: a.parallelResidual, hidden_act: a.act === 'gelu_tanh' ? 'gelu_new' : 'gelu',
      tie_word_embeddings: c.tieWordEmbeddings, attention_bias: a.qkvBias,
      attention_dropout: 0, hidden_dropout: 0,
      bos_token_id: c.bosTokenId, eos_token_id: c.eosTokenId, torch_dtype: torchDtype,
    };
  }
  return {
    model_type: c.modelType, architectures: [LLAMA_ARCH[c.modelType]],
    vocab_size: c.vocabSize, max_position_embeddings: c.nCtx, hidden_size: c.nEmbd,
    num_hidden_layers: c.nLayer, num_attention_heads: c.nHead, num_key_value_heads: c.nKvHead,
    intermediate_size: c.intermediateSize, rms_norm_eps: c.normEps, rope_theta: c.ropeTheta, ...scaling,
    hidden_act: 'silu', tie_word_embeddings: c.tieWordEmbeddings,
    ...(c.modelType === 'llama' ? { attention_bias: c.attentionBias ?? false, mlp_bias: c.mlpBias ?? false } : { use_sliding_window: false }),
    bos_token_id: c.bosTokenId, eos_token_id: c.eosTokenId, torch_dtype: torchDtype,
  };
}

/** Reads an HF config.json object; `file` names it in errors. Unsupported architectures and option values are ConfigErrors naming the key. */
export function fromHfConfig(j: Record<string, unknown>, file = 'config.json'): GPTConfig {
  const fail = (field: string, msg: string): never => { throw new ConfigError(msg, { file, field }); };
  const num = (key: string, def?: number): number => {
    const v = j[key] ?? def;
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(key, `must be a number, got ${show(v)}`);
    return v as number;
  };
  const bool = (key: string, def: boolean): boolean => {
    const v = j[key] ?? def;
    if (typeof v !== 'boolean') fail(key, `must be true or false, got ${show(v)}`);
    return v as boolean;
  };
  /** An activation name mapped onto what the model computes; anything else is refused. */
  const act = (key: string, def: string, allowed: Record<string, HiddenAct>): HiddenAct => {
    const v = j[key] ?? def;
    if (typeof v !== 'string' || !Object.hasOwn(allowed, v)) fail(key, `unsupported activation ${show(v)} (supported: ${Object.keys(allowed).join(', ')})`);
    return allowed[v as string];
  };
  const optId = (key: string): number | undefined => (typeof j[key] === 'number' ? (j[key] as number) : undefined);
  const ids = { bosTokenId: optId('bos_token_id'), eosTokenId: optId('eos_token_id') };
  const type = j.model_type;
  if (j.quantization_config !== undefined && j.quantization_config !== null) fail('quantization_config', 'quantized checkpoints are not supported (F32, F16 and BF16 weights are)');
  const GELU = { gelu: 'gelu', gelu_new: 'gelu_tanh', gelu_pytorch_tanh: 'gelu_tanh', gelu_fast: 'gelu_tanh' } as const;
  if (type === 'gpt2') {
    const nEmbd = num('n_embd');
    const hiddenAct = act('activation_function', 'gelu_new', GELU);
    return {
      modelType: 'gpt2', vocabSize: num('vocab_size'), nCtx: num('n_positions', num('n_ctx', 1024)), nEmbd,
      nLayer: num('n_layer'), nHead: num('n_head'), nKvHead: num('n_head'),
      intermediateSize: typeof j.n_inner === 'number' ? j.n_inner : 4 * nEmbd,
      normEps: num('layer_norm_epsilon', 1e-5), ropeTheta: 10000, tieWordEmbeddings: true,
      ...ids, ...(hiddenAct === 'gelu' ? { hiddenAct } : {}),
    };
  }
  if (type === 'llama' || type === 'qwen2') {
    const nHead = num('num_attention_heads'), nEmbd = num('hidden_size'), nCtx = num('max_position_embeddings', type === 'llama' ? 2048 : 32768);
    act('hidden_act', 'silu', { silu: 'silu', swish: 'silu' });
    if (j.head_dim !== undefined && j.head_dim !== null && j.head_dim !== nEmbd / nHead) {
      fail('head_dim', `${show(j.head_dim)} differs from hidden_size / num_attention_heads = ${nEmbd / nHead}: not supported`);
    }
    const c: GPTConfig = {
      modelType: type, vocabSize: num('vocab_size'), nCtx, nEmbd, nLayer: num('num_hidden_layers'), nHead,
      nKvHead: num('num_key_value_heads', nHead), intermediateSize: num('intermediate_size'),
      normEps: num('rms_norm_eps', 1e-6), ropeTheta: num('rope_theta', 10000),
      tieWordEmbeddings: bool('tie_word_embeddings', false), ...ids,
    };
    const scaling = ropeScaling(j.rope_scaling, file);
    if (scaling !== undefined) c.ropeScaling = scaling;
    if (type === 'llama') {
      if (bool('attention_bias', false)) c.attentionBias = true;
      if (bool('mlp_bias', false)) c.mlpBias = true;
    } else if (bool('use_sliding_window', false)) {
      // Qwen2 slides the window on layers max_window_layers … L−1, and only past sliding_window positions
      const window = j.sliding_window ?? null, from = num('max_window_layers', 28);
      if (window !== null && (typeof window !== 'number' || window < nCtx) && from < c.nLayer) {
        fail('use_sliding_window', `sliding-window attention (sliding_window ${show(window)} on layers from max_window_layers ${from}) is not supported`);
      }
    }
    return c;
  }
  if (type === 'gpt_neox') {
    const nHead = num('num_attention_heads');
    const c: GPTConfig = {
      modelType: 'gpt_neox', vocabSize: num('vocab_size'), nCtx: num('max_position_embeddings', 2048), nEmbd: num('hidden_size'),
      nLayer: num('num_hidden_layers'), nHead, nKvHead: nHead, intermediateSize: num('intermediate_size'),
      normEps: num('layer_norm_eps', 1e-5), ropeTheta: j.rotary_emb_base !== undefined ? num('rotary_emb_base') : num('rope_theta', 10000),
      tieWordEmbeddings: bool('tie_word_embeddings', false), ...ids,
    };
    const pct = j.rotary_pct !== undefined ? num('rotary_pct') : num('partial_rotary_factor', 0.25);
    if (pct !== 0.25) c.rotaryPct = pct;
    const hiddenAct = act('hidden_act', 'gelu', GELU);
    if (hiddenAct !== 'gelu') c.hiddenAct = hiddenAct;
    if (!bool('use_parallel_residual', true)) c.parallelResidual = false;
    if (!bool('attention_bias', true)) c.attentionBias = false;
    const scaling = ropeScaling(j.rope_scaling, file);
    if (scaling !== undefined) c.ropeScaling = scaling;
    return c;
  }
  return fail('model_type', `unsupported model_type ${show(type)} (supported: ${MODEL_TYPES.join(', ')})`);
}

/** config.json `rope_scaling`: absent, null or the default type → none; Llama-3's → its four numbers; any other type is refused. */
function ropeScaling(v: unknown, file: string): RopeScaling | undefined {
  if (v === undefined || v === null) return undefined;
  const fail = (field: string, msg: string): never => { throw new ConfigError(msg, { file, field: `rope_scaling${field}` }); };
  if (typeof v !== 'object' || Array.isArray(v)) return fail('', `must be an object or null, got ${show(v)}`);
  const o = v as Record<string, unknown>;
  const key = o.rope_type !== undefined ? 'rope_type' : 'type';
  const type = o[key];
  if (type === 'default') return undefined;
  if (type !== 'llama3') return fail(`.${key}`, `unsupported RoPE scaling ${show(type)} (supported: llama3, default)`);
  const num = (k: string, min: number, strict: boolean): number => {
    const x = o[k];
    if (typeof x !== 'number' || !Number.isFinite(x) || (strict ? x <= min : x < min)) fail(`.${k}`, `must be a number ${strict ? '>' : '≥'} ${min}, got ${show(x)}`);
    return x as number;
  };
  const s: RopeScaling = {
    type: 'llama3', factor: num('factor', 0, true), lowFreqFactor: num('low_freq_factor', 0, true),
    highFreqFactor: num('high_freq_factor', 0, true), originalMaxPositionEmbeddings: num('original_max_position_embeddings', 1, false),
  };
  if (s.highFreqFactor <= s.lowFreqFactor) fail('.high_freq_factor', `must be greater than low_freq_factor ${s.lowFreqFactor}, got ${s.highFreqFactor}`);
  if (!Number.isInteger(s.originalMaxPositionEmbeddings)) fail('.original_max_position_embeddings', `must be an integer, got ${s.originalMaxPositionEmbeddings}`);
  return s;
}

/** The config.json key of each field, per architecture (errors name what the user wrote). */
const LLAMA_KEYS = { vocabSize: 'vocab_size', nCtx: 'max_position_embeddings', nEmbd: 'hidden_size', nLayer: 'num_hidden_layers', nHead: 'num_attention_heads', nKvHead: 'num_key_value_heads', intermediateSize: 'intermediate_size', hiddenAct: 'hidden_act', ropeScaling: 'rope_scaling' };
const HF_KEY: Record<ModelType, Record<string, string>> = {
  gpt2: { vocabSize: 'vocab_size', nCtx: 'n_positions', nEmbd: 'n_embd', nLayer: 'n_layer', nHead: 'n_head', nKvHead: 'n_head', intermediateSize: 'n_inner', hiddenAct: 'activation_function' },
  llama: LLAMA_KEYS,
  qwen2: LLAMA_KEYS,
  gpt_neox: { ...LLAMA_KEYS, nKvHead: 'num_attention_heads', rotaryPct: 'rotary_pct' },
};

/** Largest model this toolkit builds: 2^33 parameters (32 GiB of float32), far past what fits a CPU here. */
export const MAX_PARAMS = 2 ** 33;

/** Checks the numbers fit together (head sizes, GQA groups, even rotary size) and are not absurd. */
export function validateConfig(c: GPTConfig, file?: string): GPTConfig {
  if (!MODEL_TYPES.includes(c.modelType)) throw new ConfigError(`unsupported model_type ${show(c.modelType)} (supported: ${MODEL_TYPES.join(', ')})`, { file, field: 'model_type' });
  const key = (k: string) => HF_KEY[c.modelType][k] ?? k;
  const fail = (field: string, msg: string) => { throw new ConfigError(msg, { file, field: key(field) }); };
  for (const k of ['vocabSize', 'nCtx', 'nEmbd', 'nLayer', 'nHead', 'nKvHead', 'intermediateSize'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1 || c[k] > 2 ** 31) fail(k, `must be a positive integer, got ${c[k]}`);
  }
  if (c.nEmbd % c.nHead !== 0) fail('nHead', `${key('nEmbd')} ${c.nEmbd} is not a multiple of ${key('nHead')} ${c.nHead}`);
  if (c.nHead % c.nKvHead !== 0) fail('nKvHead', `${key('nHead')} ${c.nHead} is not a multiple of ${key('nKvHead')} ${c.nKvHead}`);
  const gelu = c.modelType === 'gpt2' || c.modelType === 'gpt_neox';
  if (c.hiddenAct !== undefined && (gelu ? c.hiddenAct === 'silu' : c.hiddenAct !== 'silu')) fail('hiddenAct', `${c.modelType} does not use ${c.hiddenAct}`);
  if (c.modelType === 'gpt2' && c.ropeScaling !== undefined) fail('ropeScaling', 'gpt2 has no RoPE to scale');
  if (gelu && c.nKvHead !== c.nHead) fail('nKvHead', `${c.modelType} has no grouped-query attention (nKvHead must equal nHead)`);
  if (c.modelType === 'gpt_neox') {
    const pct = c.rotaryPct ?? 0.25;
    if (!(pct > 0 && pct <= 1)) fail('rotaryPct', `must be in (0, 1], got ${pct}`);
    const dim = archSpec(c).rotaryDim;
    if (dim < 2 || dim % 2 !== 0) fail('rotaryPct', `gives ${dim} rotary features of the head size ${c.nEmbd / c.nHead}: RoPE needs an even number ≥ 2`);
  } else if (c.modelType !== 'gpt2' && (c.nEmbd / c.nHead) % 2 !== 0) fail('nHead', 'RoPE needs an even head size');
  const n = configParams(c);
  if (n > MAX_PARAMS) fail('nLayer', `describes ${n.toExponential(2)} parameters, more than the ${MAX_PARAMS.toExponential(2)} this toolkit builds`);
  return c;
}

/** Parameters of a model of this config (tied embeddings counted once), computed without building it. */
export function configParams(c: GPTConfig): number {
  const C = c.nEmbd, I = c.intermediateSize, V = c.vocabSize, L = c.nLayer;
  if (c.modelType === 'gpt2') {
    const block = 2 * C + (C * 3 * C + 3 * C) + (C * C + C) + 2 * C + (C * I + I) + (I * C + C);
    return V * C + c.nCtx * C + L * block + 2 * C;
  }
  const a = archSpec(c), kv = (C / c.nHead) * c.nKvHead;
  const norm = a.norm === 'layernorm' ? 2 * C : C;
  const mlp = (a.act === 'silu' ? 3 * C * I : 2 * C * I) + (a.mlpBias ? (a.act === 'silu' ? 2 * I : I) + C : 0);
  const attn = 2 * C * C + 2 * C * kv + (a.qkvBias ? C + 2 * kv : 0) + (a.oBias ? C : 0);
  return V * C + L * (2 * norm + attn + mlp) + norm + (c.tieWordEmbeddings ? 0 : V * C);
}

/**
 * The replaceable Linear layers of a model of this config (what LoRA may wrap), by path, with
 * their (in, out) — read off the config, without building the model. A test checks it against
 * the built model's layers.
 */
export function linearShapes(c: GPTConfig): { path: string; in: number; out: number }[] {
  const C = c.nEmbd, I = c.intermediateSize, out: { path: string; in: number; out: number }[] = [];
  for (let l = 0; l < c.nLayer; l++) {
    if (c.modelType === 'gpt2') {
      const p = `transformer.h.${l}`;
      out.push({ path: `${p}.attn.c_attn`, in: C, out: 3 * C }, { path: `${p}.attn.c_proj`, in: C, out: C },
        { path: `${p}.mlp.c_fc`, in: C, out: I }, { path: `${p}.mlp.c_proj`, in: I, out: C });
    } else if (c.modelType === 'gpt_neox') {
      const p = `gpt_neox.layers.${l}`;
      out.push({ path: `${p}.attention.query_key_value`, in: C, out: 3 * C }, { path: `${p}.attention.dense`, in: C, out: C },
        { path: `${p}.mlp.dense_h_to_4h`, in: C, out: I }, { path: `${p}.mlp.dense_4h_to_h`, in: I, out: C });
    } else {
      const p = `model.layers.${l}`, kv = (C / c.nHead) * c.nKvHead;
      out.push({ path: `${p}.self_attn.q_proj`, in: C, out: C }, { path: `${p}.self_attn.k_proj`, in: C, out: kv }, { path: `${p}.self_attn.v_proj`, in: C, out: kv },
        { path: `${p}.self_attn.o_proj`, in: C, out: C }, { path: `${p}.mlp.gate_proj`, in: C, out: I }, { path: `${p}.mlp.up_proj`, in: C, out: I }, { path: `${p}.mlp.down_proj`, in: I, out: C });
    }
  }
  return out;
}
