import { ConfigError } from '../errors.ts';
import { show } from '../util/json.ts';

/** The architecture of a decoder-only transformer, in either of the two supported variants. */
export interface GPTConfig {
  /** `gpt2`: learned positions, LayerNorm, GELU MLP, biases, tied head. `llama`: RoPE, RMSNorm, SwiGLU, no biases, GQA, untied head. */
  modelType: 'gpt2' | 'llama';
  vocabSize: number;
  /** Longest sequence (GPT-2 n_positions, Llama max_position_embeddings). */
  nCtx: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  /** Key/value heads (grouped-query attention); = nHead for gpt2. */
  nKvHead: number;
  /** MLP hidden size (4·nEmbd for gpt2). */
  intermediateSize: number;
  normEps: number;
  /** RoPE base (llama). */
  ropeTheta: number;
  tieWordEmbeddings: boolean;
  /** Token ids of the special tokens, when the tokenizer has them. */
  bosTokenId?: number;
  eosTokenId?: number;
}

/** HF config.json for this architecture (the keys transformers reads). */
export function toHfConfig(c: GPTConfig): Record<string, unknown> {
  if (c.modelType === 'gpt2') {
    return {
      model_type: 'gpt2', architectures: ['GPT2LMHeadModel'],
      vocab_size: c.vocabSize, n_positions: c.nCtx, n_ctx: c.nCtx, n_embd: c.nEmbd, n_layer: c.nLayer,
      n_head: c.nHead, n_inner: c.intermediateSize, activation_function: 'gelu_new',
      layer_norm_epsilon: c.normEps, tie_word_embeddings: true,
      resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0,
      bos_token_id: c.bosTokenId, eos_token_id: c.eosTokenId, torch_dtype: 'float32',
    };
  }
  return {
    model_type: 'llama', architectures: ['LlamaForCausalLM'],
    vocab_size: c.vocabSize, max_position_embeddings: c.nCtx, hidden_size: c.nEmbd,
    num_hidden_layers: c.nLayer, num_attention_heads: c.nHead, num_key_value_heads: c.nKvHead,
    intermediate_size: c.intermediateSize, rms_norm_eps: c.normEps, rope_theta: c.ropeTheta,
    hidden_act: 'silu', tie_word_embeddings: c.tieWordEmbeddings, attention_bias: false, mlp_bias: false,
    bos_token_id: c.bosTokenId, eos_token_id: c.eosTokenId, torch_dtype: 'float32',
  };
}

/** Reads an HF config.json object; `file` names it in errors. */
export function fromHfConfig(j: Record<string, unknown>, file = 'config.json'): GPTConfig {
  const num = (key: string, def?: number): number => {
    const v = j[key] ?? def;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`must be a number, got ${show(v)}`, { file, field: key });
    return v;
  };
  const optId = (key: string): number | undefined => (typeof j[key] === 'number' ? (j[key] as number) : undefined);
  const type = j.model_type;
  if (type === 'gpt2') {
    const nEmbd = num('n_embd');
    return {
      modelType: 'gpt2', vocabSize: num('vocab_size'), nCtx: num('n_positions', num('n_ctx', 1024)), nEmbd,
      nLayer: num('n_layer'), nHead: num('n_head'), nKvHead: num('n_head'),
      intermediateSize: typeof j.n_inner === 'number' ? j.n_inner : 4 * nEmbd,
      normEps: num('layer_norm_epsilon', 1e-5), ropeTheta: 10000, tieWordEmbeddings: true,
      bosTokenId: optId('bos_token_id'), eosTokenId: optId('eos_token_id'),
    };
  }
  if (type === 'llama') {
    const nHead = num('num_attention_heads');
    return {
      modelType: 'llama', vocabSize: num('vocab_size'), nCtx: num('max_position_embeddings', 2048),
      nEmbd: num('hidden_size'), nLayer: num('num_hidden_layers'), nHead, nKvHead: num('num_key_value_heads', nHead),
      intermediateSize: num('intermediate_size'), normEps: num('rms_norm_eps', 1e-6), ropeTheta: num('rope_theta', 10000),
      tieWordEmbeddings: j.tie_word_embeddings === true,
      bosTokenId: optId('bos_token_id'), eosTokenId: optId('eos_token_id'),
    };
  }
  throw new ConfigError(`model_type must be "gpt2" or "llama", got ${show(type)}`, { file, field: 'model_type' });
}

/** The config.json key of each field, per architecture (errors name what the user wrote). */
const HF_KEY: Record<'gpt2' | 'llama', Record<string, string>> = {
  gpt2: { vocabSize: 'vocab_size', nCtx: 'n_positions', nEmbd: 'n_embd', nLayer: 'n_layer', nHead: 'n_head', nKvHead: 'n_head', intermediateSize: 'n_inner' },
  llama: { vocabSize: 'vocab_size', nCtx: 'max_position_embeddings', nEmbd: 'hidden_size', nLayer: 'num_hidden_layers', nHead: 'num_attention_heads', nKvHead: 'num_key_value_heads', intermediateSize: 'intermediate_size' },
};

/** Largest model this toolkit builds: 2^33 parameters (32 GiB of float32), far past what fits a CPU here. */
export const MAX_PARAMS = 2 ** 33;

/** Checks the numbers fit together (head sizes, GQA groups, even head size for RoPE) and are not absurd. */
export function validateConfig(c: GPTConfig, file?: string): GPTConfig {
  const key = (k: string) => HF_KEY[c.modelType]?.[k] ?? k;
  const fail = (field: string, msg: string) => { throw new ConfigError(msg, { file, field: key(field) }); };
  for (const k of ['vocabSize', 'nCtx', 'nEmbd', 'nLayer', 'nHead', 'nKvHead', 'intermediateSize'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1 || c[k] > 2 ** 31) fail(k, `must be a positive integer, got ${c[k]}`);
  }
  if (c.nEmbd % c.nHead !== 0) fail('nHead', `${key('nEmbd')} ${c.nEmbd} is not a multiple of ${key('nHead')} ${c.nHead}`);
  if (c.nHead % c.nKvHead !== 0) fail('nKvHead', `${key('nHead')} ${c.nHead} is not a multiple of ${key('nKvHead')} ${c.nKvHead}`);
  if (c.modelType === 'llama' && (c.nEmbd / c.nHead) % 2 !== 0) fail('nHead', 'RoPE needs an even head size');
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
  const kv = (C / c.nHead) * c.nKvHead;
  const block = 2 * C + C * C + 2 * C * kv + C * C + 3 * C * I;
  return V * C + L * block + C + (c.tieWordEmbeddings ? 0 : V * C);
}

/**
 * The replaceable Linear layers of a model of this config (what LoRA may wrap), by path, with
 * their (in, out) — read off the config, without building the model. A test checks it against
 * the built model's layers for every preset.
 */
export function linearShapes(c: GPTConfig): { path: string; in: number; out: number }[] {
  const C = c.nEmbd, I = c.intermediateSize, out: { path: string; in: number; out: number }[] = [];
  for (let l = 0; l < c.nLayer; l++) {
    if (c.modelType === 'gpt2') {
      const p = `transformer.h.${l}`;
      out.push({ path: `${p}.attn.c_attn`, in: C, out: 3 * C }, { path: `${p}.attn.c_proj`, in: C, out: C },
        { path: `${p}.mlp.c_fc`, in: C, out: I }, { path: `${p}.mlp.c_proj`, in: I, out: C });
    } else {
      const p = `model.layers.${l}`, kv = (C / c.nHead) * c.nKvHead;
      out.push({ path: `${p}.self_attn.q_proj`, in: C, out: C }, { path: `${p}.self_attn.k_proj`, in: C, out: kv }, { path: `${p}.self_attn.v_proj`, in: C, out: kv },
        { path: `${p}.self_attn.o_proj`, in: C, out: C }, { path: `${p}.mlp.gate_proj`, in: C, out: I }, { path: `${p}.mlp.up_proj`, in: C, out: I }, { path: `${p}.mlp.down_proj`, in: I, out: C });
    }
  }
  return out;
}
