import type { Backend } from '../backend/backend.ts';
import { Embedding, LayerNorm, Linear, RMSNorm, type LinearLike } from '../nn/layers.ts';
import { Module, Slot } from '../nn/module.ts';
import { fillNormal } from '../nn/init.ts';
import { geluExact } from '../nn/gelu.ts';
import { ropeFrequencies, rotary, type Rotary } from '../tensor/ops/rope.ts';
import { gelu, silu } from '../tensor/ops/activation.ts';
import { causalSelfAttention, causalSelfAttentionPacked } from '../tensor/ops/attention.ts';
import { add, mul } from '../tensor/ops/elementwise.ts';
import { embedding, scatterRows } from '../tensor/ops/embedding.ts';
import { matmul } from '../tensor/ops/matmul.ts';
import { reshape, split } from '../tensor/ops/shape.ts';
import { assertShape, releasing, Tensor } from '../tensor/tensor.ts';
import { crossEntropy, IGNORE_INDEX } from '../tensor/ops/loss.ts';
import type { Buf } from '../backend/backend.ts';
import type { UniformSource } from '../tensor/ops/dropout.ts';
import { archSpec, validateConfig, type ArchSpec, type GPTConfig, type ModelType } from './config.ts';

/** An ordered list of submodules named 0, 1, … (HF's `h.0`, `layers.0`). */
class ModuleList<M extends Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items.map((m, i) => this.child(String(i), m));
  }
}

/* ---------- the key/value cache of incremental decoding ---------- */

/** One layer's keys and values so far: (B, nkv, maxT, hs) each. */
export interface LayerCache { k: Float32Array; v: Float32Array; maxT: number }
/** Every layer's cache and how many positions it holds. */
export interface KVCache { layers: LayerCache[]; B: number; len: number }

/**
 * Writes the T new positions t0 … t0+T−1 of every row into the cache, then attends each new
 * query over positions 0 … its own (causal). Rows of q at (b·T + i)·qStride + qOff (+ h·hs), of
 * k / v at (b·T + i)·kvStride + kOff / vOff (v from `vSrc` when given). Returns y (B, T, nh·hs).
 */
function attendCached(q: Buf, qStride: number, qOff: number, kSrc: Buf, kvStride: number, kOff: number, vOff: number,
  cache: LayerCache, t0: number, B: number, T: number, nh: number, nkv: number, hs: number, vSrc: Buf = kSrc): Float32Array {
  const { k: K, v: V, maxT } = cache;
  for (let b = 0; b < B; b++) for (let i = 0; i < T; i++) for (let h = 0; h < nkv; h++) {
    const dst = ((b * nkv + h) * maxT + t0 + i) * hs, src = (b * T + i) * kvStride + h * hs;
    for (let d = 0; d < hs; d++) { K[dst + d] = kSrc[src + kOff + d]; V[dst + d] = vSrc[src + vOff + d]; }
  }
  const y = new Float32Array(B * T * nh * hs), w = new Float64Array(t0 + T), scale = 1 / Math.sqrt(hs), group = nh / nkv;
  for (let b = 0; b < B; b++) for (let i = 0; i < T; i++) for (let h = 0; h < nh; h++) {
    const last = t0 + i;                                                 // attends 0 … last
    const qo = (b * T + i) * qStride + qOff + h * hs, base = (b * nkv + Math.floor(h / group)) * maxT * hs;
    let mx = -Infinity;
    for (let s = 0; s <= last; s++) {
      let dot = 0;
      for (let d = 0; d < hs; d++) dot += q[qo + d] * K[base + s * hs + d];
      w[s] = dot * scale;
      if (w[s] > mx) mx = w[s];
    }
    let z = 0;
    for (let s = 0; s <= last; s++) { w[s] = Math.exp(w[s] - mx); z += w[s]; }
    const yo = ((b * T + i) * nh + h) * hs;
    for (let s = 0; s <= last; s++) { const p = w[s] / z; for (let d = 0; d < hs; d++) y[yo + d] += p * V[base + s * hs + d]; }
  }
  return y;
}

/* ---------- attention, one kind per weight layout ---------- */

/** What a block needs of its attention: the full causal forward, and new positions over a cache. */
interface Attention extends Module {
  forward(x: Tensor): Tensor;
  /** New positions t0 … of each row, attending over the cache (which they extend). */
  step(x: Tensor, cache: LayerCache, t0: number): Tensor;
}

/** GPT-2: one Conv1D c_attn → [q | k | v] per position, learned positions (no rotation). */
class Gpt2Attention extends Module implements Attention {
  readonly cAttn: Slot<LinearLike>; readonly cProj: Slot<LinearLike>;
  constructor(be: Backend, readonly c: GPTConfig) {
    super();
    this.cAttn = this.slot('c_attn', new Linear(be, c.nEmbd, 3 * c.nEmbd, true));
    this.cProj = this.slot('c_proj', new Linear(be, c.nEmbd, c.nEmbd, true));
  }
  forward(x: Tensor): Tensor {
    const qkv = this.cAttn.layer.forward(x);                      // (B, T, 3C)
    const y = causalSelfAttentionPacked(qkv, this.c.nHead);       // (B, T, C)
    return this.cProj.layer.forward(y);                           // (B, T, C)
  }
  step(x: Tensor, cache: LayerCache, t0: number): Tensor {
    const [B, T, C] = x.shape, nh = this.c.nHead;
    const qkv = this.cAttn.layer.forward(x).data;                 // (B, T, 3C)
    const y = attendCached(qkv, 3 * C, 0, qkv, 3 * C, C, 2 * C, cache, t0, B, T, nh, nh, C / nh);   // (B, T, C)
    return this.cProj.layer.forward(new Tensor(x.backend, y, [B, T, C]));   // (B, T, C)
  }
}

/** Llama / Qwen2: separate q / k / v / o projections, RoPE on q and k, grouped-query heads. */
class SplitAttention extends Module implements Attention {
  readonly qProj: Slot<LinearLike>; readonly kProj: Slot<LinearLike>; readonly vProj: Slot<LinearLike>; readonly oProj: Slot<LinearLike>;
  constructor(be: Backend, readonly c: GPTConfig, a: ArchSpec, readonly rot: Rotary) {
    super();
    const hs = c.nEmbd / c.nHead;
    this.qProj = this.slot('q_proj', new Linear(be, c.nEmbd, c.nHead * hs, a.qkvBias));
    this.kProj = this.slot('k_proj', new Linear(be, c.nEmbd, c.nKvHead * hs, a.qkvBias));
    this.vProj = this.slot('v_proj', new Linear(be, c.nEmbd, c.nKvHead * hs, a.qkvBias));
    this.oProj = this.slot('o_proj', new Linear(be, c.nHead * hs, c.nEmbd, a.oBias));
  }
  forward(x: Tensor): Tensor {
    const { nHead: nh, nKvHead: nkv } = this.c;
    const q = rotary(this.qProj.layer.forward(x), nh, this.rot);   // (B, T, nh·hs)
    const k = rotary(this.kProj.layer.forward(x), nkv, this.rot);  // (B, T, nkv·hs)
    const v = this.vProj.layer.forward(x);                         // (B, T, nkv·hs)
    return this.oProj.layer.forward(causalSelfAttention(q, k, v, nh, nkv));  // (B, T, C)
  }
  step(x: Tensor, cache: LayerCache, t0: number): Tensor {
    const { nHead: nh, nKvHead: nkv } = this.c;
    const [B, T] = x.shape, hs = this.c.nEmbd / nh;
    const q = rotary(this.qProj.layer.forward(x), nh, this.rot, t0).data;    // (B, T, nh·hs)
    const k = rotary(this.kProj.layer.forward(x), nkv, this.rot, t0).data;   // (B, T, nkv·hs)
    const v = this.vProj.layer.forward(x).data;                              // (B, T, nkv·hs)
    const y = attendCached(q, nh * hs, 0, k, nkv * hs, 0, 0, cache, t0, B, T, nh, nkv, hs, v);   // (B, T, nh·hs)
    return this.oProj.layer.forward(new Tensor(x.backend, y, [B, T, nh * hs]));   // (B, T, C)
  }
}

/**
 * GPT-NeoX: one fused query_key_value projection whose output is laid out per head,
 * [q_h | k_h | v_h] for h = 0 … nh−1 (the checkpoint's own order: LoRA on it is PEFT's), RoPE on
 * the first rotaryDim features of each head of q and k, then dense.
 */
class FusedHeadAttention extends Module implements Attention {
  readonly queryKeyValue: Slot<LinearLike>; readonly dense: Slot<LinearLike>;
  constructor(be: Backend, readonly c: GPTConfig, a: ArchSpec, readonly rot: Rotary) {
    super();
    this.queryKeyValue = this.slot('query_key_value', new Linear(be, c.nEmbd, 3 * c.nEmbd, a.qkvBias));
    this.dense = this.slot('dense', new Linear(be, c.nEmbd, c.nEmbd, a.oBias));
  }
  /** (B, T, 3C) per-head packed → q, k, v (B, T, C) each, rotated. */
  #qkv(x: Tensor, t0: number): Tensor[] {
    const [B, T, C] = x.shape, nh = this.c.nHead, hs = C / nh;
    const packed = reshape(this.queryKeyValue.layer.forward(x), [B, T, nh, 3 * hs]);   // (B, T, nh, 3hs)
    const [q, k, v] = split(packed, 3, [hs, hs, hs]).map((t) => reshape(t, [B, T, C]));  // (B, T, C) each
    return [rotary(q, nh, this.rot, t0), rotary(k, nh, this.rot, t0), v];
  }
  forward(x: Tensor): Tensor {
    const [q, k, v] = this.#qkv(x, 0);
    return this.dense.layer.forward(causalSelfAttention(q, k, v, this.c.nHead, this.c.nHead));   // (B, T, C)
  }
  step(x: Tensor, cache: LayerCache, t0: number): Tensor {
    const [B, T, C] = x.shape, nh = this.c.nHead;
    const [q, k, v] = this.#qkv(x, t0);
    const y = attendCached(q.data, C, 0, k.data, C, 0, 0, cache, t0, B, T, nh, nh, C / nh, v.data);   // (B, T, C)
    return this.dense.layer.forward(new Tensor(x.backend, y, [B, T, C]));   // (B, T, C)
  }
}

/* ---------- MLPs ---------- */

/** fc → GELU → proj (GPT-2's c_fc / c_proj, NeoX's dense_h_to_4h / dense_4h_to_h). */
class GeluMlp extends Module {
  readonly fc: Slot<LinearLike>; readonly proj: Slot<LinearLike>;
  constructor(be: Backend, c: GPTConfig, names: readonly [string, string], bias: boolean, readonly exact: boolean) {
    super();
    this.fc = this.slot(names[0], new Linear(be, c.nEmbd, c.intermediateSize, bias));
    this.proj = this.slot(names[1], new Linear(be, c.intermediateSize, c.nEmbd, bias));
  }
  forward(x: Tensor): Tensor {
    const h = this.fc.layer.forward(x);                             // (B, T, I)
    return this.proj.layer.forward(this.exact ? geluExact(h) : gelu(h));   // (B, T, C)
  }
}

/** SwiGLU: down(silu(gate x) ⊙ up x) (Llama, Qwen2). */
class GatedMlp extends Module {
  readonly gateProj: Slot<LinearLike>; readonly upProj: Slot<LinearLike>; readonly downProj: Slot<LinearLike>;
  constructor(be: Backend, c: GPTConfig, bias: boolean) {
    super();
    this.gateProj = this.slot('gate_proj', new Linear(be, c.nEmbd, c.intermediateSize, bias));
    this.upProj = this.slot('up_proj', new Linear(be, c.nEmbd, c.intermediateSize, bias));
    this.downProj = this.slot('down_proj', new Linear(be, c.intermediateSize, c.nEmbd, bias));
  }
  forward(x: Tensor): Tensor {
    const h = mul(silu(this.gateProj.layer.forward(x)), this.upProj.layer.forward(x));  // (B, T, I) SwiGLU
    return this.downProj.layer.forward(h);                                              // (B, T, C)
  }
}

/* ---------- the block and the body, shared by every architecture ---------- */

type Norm = LayerNorm | RMSNorm;
type Mlp = GeluMlp | GatedMlp;

/** HF names of each architecture's modules. */
interface Layout {
  body: string; embed: string; pos?: string; layers: string; norm: string; head: string;
  /** norm₁, attention, norm₂, MLP. */
  block: readonly [string, string, string, string];
  mlp?: readonly [string, string];
}
const LLAMA_LAYOUT: Layout = { body: 'model', embed: 'embed_tokens', layers: 'layers', norm: 'norm', head: 'lm_head', block: ['input_layernorm', 'self_attn', 'post_attention_layernorm', 'mlp'] };
const LAYOUT: Record<ModelType, Layout> = {
  gpt2: { body: 'transformer', embed: 'wte', pos: 'wpe', layers: 'h', norm: 'ln_f', head: 'lm_head', block: ['ln_1', 'attn', 'ln_2', 'mlp'], mlp: ['c_fc', 'c_proj'] },
  llama: LLAMA_LAYOUT,
  qwen2: LLAMA_LAYOUT,
  gpt_neox: { body: 'gpt_neox', embed: 'embed_in', layers: 'layers', norm: 'final_layer_norm', head: 'embed_out', block: ['input_layernorm', 'attention', 'post_attention_layernorm', 'mlp'], mlp: ['dense_h_to_4h', 'dense_4h_to_h'] },
};

function makeNorm(be: Backend, c: GPTConfig, a: ArchSpec): Norm {
  return a.norm === 'layernorm' ? new LayerNorm(be, c.nEmbd, c.normEps) : new RMSNorm(be, c.nEmbd, c.normEps);
}

/** Pre-norm residual block: x + attn(norm₁ x), then + mlp(norm₂ ·) — or both from x at once (parallel residual). */
class Block extends Module {
  readonly norm1: Norm; readonly attn: Attention; readonly norm2: Norm; readonly mlp: Mlp;
  readonly parallel: boolean;
  constructor(be: Backend, c: GPTConfig, a: ArchSpec, l: Layout, rot: Rotary | null) {
    super();
    this.parallel = a.parallelResidual;
    this.norm1 = this.child(l.block[0], makeNorm(be, c, a));
    const attn: Attention = c.modelType === 'gpt2' ? new Gpt2Attention(be, c)
      : c.modelType === 'gpt_neox' ? new FusedHeadAttention(be, c, a, rot!) : new SplitAttention(be, c, a, rot!);
    this.attn = this.child(l.block[1], attn);
    this.norm2 = this.child(l.block[2], makeNorm(be, c, a));
    this.mlp = this.child(l.block[3], a.act === 'silu' ? new GatedMlp(be, c, a.mlpBias) : new GeluMlp(be, c, l.mlp!, a.mlpBias, a.act === 'gelu'));
  }
  /**
   * With `rows` (ascending flat positions b·T + t), the MLP runs on those rows alone and adds
   * zeros elsewhere: for the last block, when only those positions' logits are wanted (their
   * values there reach nothing else). The kept rows' numbers are the same bits either way in
   * fp32; with bf16 products (which sum k two at a time) the MLP's weight gradients pair their
   * rows differently, to the last bits.
   */
  forward(x: Tensor, rows?: Int32Array): Tensor {
    if (this.parallel) return add(add(x, this.attn.forward(this.norm1.forward(x))), this.#mlp(this.norm2.forward(x), rows));   // (B, T, C)
    x = add(x, this.attn.forward(this.norm1.forward(x)));        // (B, T, C)
    return add(x, this.#mlp(this.norm2.forward(x), rows));       // (B, T, C)
  }
  #mlp(h: Tensor, rows?: Int32Array): Tensor {
    if (rows === undefined) return this.mlp.forward(h);          // (B, T, C)
    const [B, T, C] = h.shape;
    const kept = this.mlp.forward(embedding(reshape(h, [B * T, C]), rows, [rows.length]));   // (n, C)
    return reshape(scatterRows(kept, rows, B * T), [B, T, C]);  // (B, T, C), zeros off `rows`
  }
  step(x: Tensor, cache: LayerCache, t0: number): Tensor {
    if (this.parallel) return add(add(x, this.attn.step(this.norm1.forward(x), cache, t0)), this.mlp.forward(this.norm2.forward(x)));
    x = add(x, this.attn.step(this.norm1.forward(x), cache, t0));  // (B, T, C)
    return add(x, this.mlp.forward(this.norm2.forward(x)));        // (B, T, C)
  }
}

/** Token embedding (+ learned positions for gpt2), the blocks, the final norm. */
class Body extends Module {
  readonly embed: Embedding; readonly pos: Embedding | null = null; readonly layers: ModuleList<Block>; readonly norm: Norm;
  constructor(be: Backend, c: GPTConfig, a: ArchSpec, l: Layout, rot: Rotary | null) {
    super();
    this.embed = this.child(l.embed, new Embedding(be, c.vocabSize, c.nEmbd));
    if (l.pos !== undefined) this.pos = this.child(l.pos, new Embedding(be, c.nCtx, c.nEmbd));
    this.layers = this.child(l.layers, new ModuleList(Array.from({ length: c.nLayer }, () => new Block(be, c, a, l, rot))));
    this.norm = this.child(l.norm, makeNorm(be, c, a));
  }
}

/**
 * The RoPE frequencies of a config: θ^(−2d/dim) over the rotating features, with Llama-3's
 * rescaling when `ropeScaling` is set — wavelengths 2π/f shorter than original/high_freq_factor
 * kept, longer than original/low_freq_factor divided by `factor`, and in between interpolated:
 * s = (original/wavelength − low) / (high − low), f ← (1 − s)·f/factor + s·f.
 */
export function rotaryOf(c: GPTConfig): Rotary {
  const dim = archSpec(c).rotaryDim;
  const f = ropeFrequencies(c.ropeTheta, dim);
  const s = c.ropeScaling;
  if (s !== undefined) {
    const lowWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor, highWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
    for (let d = 0; d < f.length; d++) {
      const wavelen = (2 * Math.PI) / f[d];
      if (wavelen < highWavelen) continue;
      if (wavelen > lowWavelen) { f[d] /= s.factor; continue; }
      const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      f[d] = ((1 - smooth) * f[d]) / s.factor + smooth * f[d];
    }
  }
  return { dim, invFreq: f };
}

/* ---------- the model ---------- */

/** A decoder-only language model of any supported architecture; parameter names are Hugging Face's. */
export class GPT extends Module {
  readonly config: GPTConfig;
  readonly backend: Backend;
  readonly #body: Body;
  /** The untied output head (lm_head, NeoX's embed_out): a plain Linear, LoRA never wraps it. */
  readonly #head: Linear | null = null;

  constructor(be: Backend, config: GPTConfig) {
    super();
    this.config = validateConfig(config);
    this.backend = be;
    const a = archSpec(config), l = LAYOUT[config.modelType];
    this.#body = this.child(l.body, new Body(be, config, a, l, a.rotaryDim > 0 ? rotaryOf(config) : null));
    if (config.modelType !== 'gpt2' && !config.tieWordEmbeddings) this.#head = this.child(l.head, new Linear(be, config.nEmbd, config.vocabSize, false));
  }

  /** The token embedding (V, C) (also the tied output head). */
  get tokenEmbedding(): Tensor { return this.#body.embed.weight; }

  /**
   * GPT-2 initialization (nanoGPT): N(0, 0.02) for weights and embeddings, residual
   * projections scaled by 1/√(2L), zero biases, unit norms.
   */
  initWeights(rng: UniformSource): void {
    const resid = 0.02 / Math.sqrt(2 * this.config.nLayer);
    for (const [name, t] of this.namedParameters()) {
      if (t.ndim < 2) continue;   // biases 0, norm weights 1 (set by the constructors)
      const isResid = /(attn\.c_proj|mlp\.c_proj|o_proj|down_proj|attention\.dense|dense_4h_to_h)\.weight$/.test(name);
      fillNormal(t.data as Float32Array, isResid ? resid : 0.02, rng);
    }
  }

  /** Token (+ position) embeddings of B rows of T ids at positions t0 … t0+T−1 → (B, T, C). */
  #embed(ids: Int32Array, B: number, T: number, t0: number): Tensor {
    const body = this.#body;
    const tok = body.embed.forward(ids, [B, T]);                       // (B, T, C)
    if (body.pos === null) return tok;
    const pos = new Int32Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) pos[b * T + t] = t0 + t;
    return add(tok, body.pos.forward(pos, [B, T]));                    // (B, T, C)
  }

  /**
   * ids (B·T) → logits (B, T, V); with `rows` (ascending flat positions b·T + t), the logits
   * of those positions only, (rows.length, V): the head, and the last block's MLP, skip the rest
   * (forward and backward); the kept rows' numbers are the same bits as the full pass's (in
   * fp32: see Block.forward).
   */
  forward(ids: Int32Array, B: number, T: number, rows?: Int32Array): Tensor {
    const c = this.config, body = this.#body, blocks = body.layers.items;
    assertShape(ids.length === B * T && T <= c.nCtx, () => `forward: ${ids.length} ids for B=${B}, T=${T} (n_ctx ${c.nCtx})`);
    let x = this.#embed(ids, B, T, 0);                                   // (B, T, C)
    blocks.forEach((block, l) => { x = block.forward(x, l === blocks.length - 1 ? rows : undefined); });   // (B, T, C)
    x = body.norm.forward(x);                                            // (B, T, C)
    if (rows) x = embedding(reshape(x, [B * T, c.nEmbd]), rows, [rows.length]);   // (n, C)
    return this.#head ? this.#head.forward(x) : matmul(x, body.embed.weight, { transB: true });  // (B, T, V) or (n, V)
  }

  /** An empty key/value cache for B rows of up to maxT positions (≤ n_ctx). */
  newCache(B: number, maxT = this.config.nCtx): KVCache {
    const c = this.config, kv = c.nKvHead * (c.nEmbd / c.nHead);
    const T = Math.min(maxT, c.nCtx);
    return { B, len: 0, layers: Array.from({ length: c.nLayer }, () => ({ k: new Float32Array(B * kv * T), v: new Float32Array(B * kv * T), maxT: T })) };
  }

  /**
   * Incremental decoding: the next T tokens of each of the B rows (ids (B·T), all rows at
   * position cache.len) → the logits (B, V) after the last of them; the cache grows by T. A
   * prompt goes in one call, then one token per call. Call under noGrad. The same numbers as
   * `forward` over the whole sequence, up to float rounding.
   */
  step(ids: Int32Array, cache: KVCache, T = 1): Float32Array {
    const B = cache.B, t0 = cache.len, V = this.config.vocabSize, body = this.#body;
    assertShape(ids.length === B * T && t0 + T <= cache.layers[0].maxT, () => `step: ${ids.length} ids for B=${B}, T=${T} at position ${t0} of ${cache.layers[0].maxT}`);
    // the step's intermediates go back to the pool (no graph records them); the logits are copied out
    return releasing(this.backend, () => {
      let x = this.#embed(ids, B, T, t0);                                                   // (B, T, C)
      body.layers.items.forEach((block, l) => { x = block.step(x, cache.layers[l], t0); });
      x = body.norm.forward(x);
      cache.len += T;
      // the head on each row's last position only
      const C = this.config.nEmbd, lastRows = new Float32Array(B * C);
      for (let b = 0; b < B; b++) lastRows.set(x.data.subarray((b * T + T - 1) * C, (b * T + T) * C), b * C);
      const h = new Tensor(this.backend, lastRows, [B, 1, C]);
      const logits = this.#head ? this.#head.forward(h) : matmul(h, body.embed.weight, { transB: true });   // (B, 1, V)
      return logits.data.slice(0, B * V) as Float32Array;
    });
  }

  /** Parameter count (tied weights counted once). */
  numParams(): number { return this.parameters().reduce((s, t) => s + t.size, 0); }
}

/**
 * The language-model loss of a batch: mean cross-entropy over the positions whose target is
 * not IGNORE_INDEX, the head and the last block's MLP run on those positions only (a prompt's
 * and a padding's logits are never formed). The same loss and gradients as crossEntropy over the
 * full logits, bit for bit in fp32: an ignored position contributes exact zeros there (bf16
 * products sum k two at a time, so there the weight gradients' last bits follow which rows are
 * kept). `perToken` (B·T) receives each position's loss, 0 where ignored.
 */
export function lmLoss(model: GPT, ids: Int32Array, B: number, T: number, targets: Int32Array, perToken?: Float32Array | Float64Array): Tensor {
  let n = 0;
  for (let i = 0; i < targets.length; i++) if (targets[i] !== IGNORE_INDEX) n++;
  if (n === targets.length || n === 0) return crossEntropy(model.forward(ids, B, T), targets, { perToken });
  const rows = new Int32Array(n), kept = new Int32Array(n);
  for (let i = 0, j = 0; i < targets.length; i++) if (targets[i] !== IGNORE_INDEX) { rows[j] = i; kept[j++] = targets[i]; }
  const per = perToken ? new Float64Array(n) : undefined;
  const loss = crossEntropy(model.forward(ids, B, T, rows), kept, { perToken: per });
  if (perToken) { perToken.fill(0); for (let j = 0; j < n; j++) perToken[rows[j]] = per![j]; }
  return loss;
}
