import type { Backend } from '../backend/backend.ts';
import { Embedding, LayerNorm, Linear, RMSNorm, type LinearLike } from '../nn/layers.ts';
import { Module, Slot } from '../nn/module.ts';
import { fillNormal } from '../nn/init.ts';
import { gelu, silu } from '../tensor/ops/activation.ts';
import { causalSelfAttention, causalSelfAttentionPacked } from '../tensor/ops/attention.ts';
import { add, mul } from '../tensor/ops/elementwise.ts';
import { matmul } from '../tensor/ops/matmul.ts';
import { rope } from '../tensor/ops/rope.ts';
import { assertShape, Tensor } from '../tensor/tensor.ts';
import type { Buf } from '../backend/backend.ts';
import type { UniformSource } from '../tensor/ops/dropout.ts';
import { validateConfig, type GPTConfig } from './config.ts';

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

/* ---------- GPT-2 ---------- */

class Gpt2Attention extends Module {
  readonly cAttn: Slot<LinearLike>; readonly cProj: Slot<LinearLike>;
  constructor(be: Backend, c: GPTConfig) {
    super();
    this.cAttn = this.slot('c_attn', new Linear(be, c.nEmbd, 3 * c.nEmbd, true));
    this.cProj = this.slot('c_proj', new Linear(be, c.nEmbd, c.nEmbd, true));
  }
  forward(x: Tensor, nh: number): Tensor {
    const qkv = this.cAttn.layer.forward(x);                      // (B, T, 3C)
    const y = causalSelfAttentionPacked(qkv, nh);                 // (B, T, C)
    return this.cProj.layer.forward(y);                           // (B, T, C)
  }
  /** New positions t0 … of each row, attending over the cache (which they extend). */
  step(x: Tensor, nh: number, cache: LayerCache, t0: number): Tensor {
    const [B, T, C] = x.shape;
    const qkv = this.cAttn.layer.forward(x).data;                 // (B, T, 3C)
    const y = attendCached(qkv, 3 * C, 0, qkv, 3 * C, C, 2 * C, cache, t0, B, T, nh, nh, C / nh);   // (B, T, C)
    return this.cProj.layer.forward(new Tensor(x.backend, y, [B, T, C]));   // (B, T, C)
  }
}

class Gpt2Mlp extends Module {
  readonly cFc: Slot<LinearLike>; readonly cProj: Slot<LinearLike>;
  constructor(be: Backend, c: GPTConfig) {
    super();
    this.cFc = this.slot('c_fc', new Linear(be, c.nEmbd, c.intermediateSize, true));
    this.cProj = this.slot('c_proj', new Linear(be, c.intermediateSize, c.nEmbd, true));
  }
  forward(x: Tensor): Tensor {
    const h = gelu(this.cFc.layer.forward(x));                      // (B, T, 4C)
    return this.cProj.layer.forward(h);                             // (B, T, C)
  }
}

class Gpt2Block extends Module {
  ln1: LayerNorm; attn: Gpt2Attention; ln2: LayerNorm; mlp: Gpt2Mlp;
  constructor(be: Backend, readonly c: GPTConfig) {
    super();
    this.ln1 = this.child('ln_1', new LayerNorm(be, c.nEmbd, c.normEps));
    this.attn = this.child('attn', new Gpt2Attention(be, c));
    this.ln2 = this.child('ln_2', new LayerNorm(be, c.nEmbd, c.normEps));
    this.mlp = this.child('mlp', new Gpt2Mlp(be, c));
  }
  forward(x: Tensor): Tensor {
    x = add(x, this.attn.forward(this.ln1.forward(x), this.c.nHead));  // (B, T, C)
    return add(x, this.mlp.forward(this.ln2.forward(x)));              // (B, T, C)
  }
  step(x: Tensor, cache: LayerCache, t0: number): Tensor {
    x = add(x, this.attn.step(this.ln1.forward(x), this.c.nHead, cache, t0));  // (B, T, C)
    return add(x, this.mlp.forward(this.ln2.forward(x)));                      // (B, T, C)
  }
}

class Gpt2Body extends Module {
  wte: Embedding; wpe: Embedding; h: ModuleList<Gpt2Block>; lnF: LayerNorm;
  constructor(be: Backend, c: GPTConfig) {
    super();
    this.wte = this.child('wte', new Embedding(be, c.vocabSize, c.nEmbd));
    this.wpe = this.child('wpe', new Embedding(be, c.nCtx, c.nEmbd));
    this.h = this.child('h', new ModuleList(Array.from({ length: c.nLayer }, () => new Gpt2Block(be, c))));
    this.lnF = this.child('ln_f', new LayerNorm(be, c.nEmbd, c.normEps));
  }
}

/* ---------- Llama ---------- */

class LlamaAttention extends Module {
  readonly qProj: Slot<LinearLike>; readonly kProj: Slot<LinearLike>; readonly vProj: Slot<LinearLike>; readonly oProj: Slot<LinearLike>;
  constructor(be: Backend, readonly c: GPTConfig) {
    super();
    const hs = c.nEmbd / c.nHead;
    this.qProj = this.slot('q_proj', new Linear(be, c.nEmbd, c.nHead * hs, false));
    this.kProj = this.slot('k_proj', new Linear(be, c.nEmbd, c.nKvHead * hs, false));
    this.vProj = this.slot('v_proj', new Linear(be, c.nEmbd, c.nKvHead * hs, false));
    this.oProj = this.slot('o_proj', new Linear(be, c.nHead * hs, c.nEmbd, false));
  }
  forward(x: Tensor): Tensor {
    const { nHead: nh, nKvHead: nkv, ropeTheta } = this.c;
    const q = rope(this.qProj.layer.forward(x), nh, ropeTheta);   // (B, T, nh·hs)
    const k = rope(this.kProj.layer.forward(x), nkv, ropeTheta);  // (B, T, nkv·hs)
    const v = this.vProj.layer.forward(x);                        // (B, T, nkv·hs)
    return this.oProj.layer.forward(causalSelfAttention(q, k, v, nh, nkv));  // (B, T, C)
  }
  step(x: Tensor, cache: LayerCache, t0: number): Tensor {
    const { nHead: nh, nKvHead: nkv, ropeTheta } = this.c;
    const [B, T] = x.shape, hs = this.c.nEmbd / nh;
    const q = rope(this.qProj.layer.forward(x), nh, ropeTheta, t0).data;    // (B, T, nh·hs)
    const k = rope(this.kProj.layer.forward(x), nkv, ropeTheta, t0).data;   // (B, T, nkv·hs)
    const v = this.vProj.layer.forward(x).data;                             // (B, T, nkv·hs)
    const y = attendCached(q, nh * hs, 0, k, nkv * hs, 0, 0, cache, t0, B, T, nh, nkv, hs, v);   // (B, T, nh·hs)
    return this.oProj.layer.forward(new Tensor(x.backend, y, [B, T, nh * hs]));   // (B, T, C)
  }
}

class LlamaMlp extends Module {
  readonly gateProj: Slot<LinearLike>; readonly upProj: Slot<LinearLike>; readonly downProj: Slot<LinearLike>;
  constructor(be: Backend, c: GPTConfig) {
    super();
    this.gateProj = this.slot('gate_proj', new Linear(be, c.nEmbd, c.intermediateSize, false));
    this.upProj = this.slot('up_proj', new Linear(be, c.nEmbd, c.intermediateSize, false));
    this.downProj = this.slot('down_proj', new Linear(be, c.intermediateSize, c.nEmbd, false));
  }
  forward(x: Tensor): Tensor {
    const h = mul(silu(this.gateProj.layer.forward(x)), this.upProj.layer.forward(x));  // (B, T, I) SwiGLU
    return this.downProj.layer.forward(h);                                              // (B, T, C)
  }
}

class LlamaBlock extends Module {
  inputLayernorm: RMSNorm; selfAttn: LlamaAttention; postAttentionLayernorm: RMSNorm; mlp: LlamaMlp;
  constructor(be: Backend, c: GPTConfig) {
    super();
    this.inputLayernorm = this.child('input_layernorm', new RMSNorm(be, c.nEmbd, c.normEps));
    this.selfAttn = this.child('self_attn', new LlamaAttention(be, c));
    this.postAttentionLayernorm = this.child('post_attention_layernorm', new RMSNorm(be, c.nEmbd, c.normEps));
    this.mlp = this.child('mlp', new LlamaMlp(be, c));
  }
  forward(x: Tensor): Tensor {
    x = add(x, this.selfAttn.forward(this.inputLayernorm.forward(x)));      // (B, T, C)
    return add(x, this.mlp.forward(this.postAttentionLayernorm.forward(x))); // (B, T, C)
  }
  step(x: Tensor, cache: LayerCache, t0: number): Tensor {
    x = add(x, this.selfAttn.step(this.inputLayernorm.forward(x), cache, t0));  // (B, T, C)
    return add(x, this.mlp.forward(this.postAttentionLayernorm.forward(x)));    // (B, T, C)
  }
}

class LlamaBody extends Module {
  embedTokens: Embedding; layers: ModuleList<LlamaBlock>; norm: RMSNorm;
  constructor(be: Backend, c: GPTConfig) {
    super();
    this.embedTokens = this.child('embed_tokens', new Embedding(be, c.vocabSize, c.nEmbd));
    this.layers = this.child('layers', new ModuleList(Array.from({ length: c.nLayer }, () => new LlamaBlock(be, c))));
    this.norm = this.child('norm', new RMSNorm(be, c.nEmbd, c.normEps));
  }
}

/* ---------- the model ---------- */

/** A decoder-only language model; parameter names are Hugging Face's. */
export class GPT extends Module {
  readonly config: GPTConfig;
  readonly backend: Backend;
  readonly #gpt2: Gpt2Body | null = null;
  readonly #llama: LlamaBody | null = null;
  /** Llama's untied output head (a plain Linear; LoRA never wraps it). */
  readonly #head: Linear | null = null;

  constructor(be: Backend, config: GPTConfig) {
    super();
    this.config = validateConfig(config);
    this.backend = be;
    if (config.modelType === 'gpt2') this.#gpt2 = this.child('transformer', new Gpt2Body(be, config));
    else {
      this.#llama = this.child('model', new LlamaBody(be, config));
      if (!config.tieWordEmbeddings) this.#head = this.child('lm_head', new Linear(be, config.nEmbd, config.vocabSize, false));
    }
  }

  /** The token embedding (V, C) (also the tied output head). */
  get tokenEmbedding(): Tensor { return this.#gpt2 ? this.#gpt2.wte.weight : this.#llama!.embedTokens.weight; }

  /**
   * GPT-2 initialization (nanoGPT): N(0, 0.02) for weights and embeddings, residual
   * projections scaled by 1/√(2L), zero biases, unit norms.
   */
  initWeights(rng: UniformSource): void {
    const resid = 0.02 / Math.sqrt(2 * this.config.nLayer);
    for (const [name, t] of this.namedParameters()) {
      if (t.ndim < 2) continue;   // biases 0, norm weights 1 (set by the constructors)
      const isResid = /(attn\.c_proj|mlp\.c_proj|o_proj|down_proj)\.weight$/.test(name);
      fillNormal(t.data as Float32Array, isResid ? resid : 0.02, rng);
    }
  }

  /** ids (B·T) → logits (B, T, V). */
  forward(ids: Int32Array, B: number, T: number): Tensor {
    const c = this.config;
    assertShape(ids.length === B * T && T <= c.nCtx, () => `forward: ${ids.length} ids for B=${B}, T=${T} (n_ctx ${c.nCtx})`);
    let x: Tensor;
    if (this.#gpt2) {
      const g = this.#gpt2;
      const pos = new Int32Array(B * T);
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) pos[b * T + t] = t;
      x = add(g.wte.forward(ids, [B, T]), g.wpe.forward(pos, [B, T]));   // (B, T, C)
      for (const block of g.h.items) x = block.forward(x);               // (B, T, C)
      x = g.lnF.forward(x);                                              // (B, T, C)
      return matmul(x, g.wte.weight, { transB: true });                  // (B, T, V) tied head
    }
    const l = this.#llama!;
    x = l.embedTokens.forward(ids, [B, T]);                              // (B, T, C)
    for (const block of l.layers.items) x = block.forward(x);            // (B, T, C)
    x = l.norm.forward(x);                                               // (B, T, C)
    return this.#head ? this.#head.forward(x) : matmul(x, l.embedTokens.weight, { transB: true });  // (B, T, V)
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
    const B = cache.B, t0 = cache.len, V = this.config.vocabSize;
    assertShape(ids.length === B * T && t0 + T <= cache.layers[0].maxT, () => `step: ${ids.length} ids for B=${B}, T=${T} at position ${t0} of ${cache.layers[0].maxT}`);
    let x: Tensor;
    let weight: Tensor;
    if (this.#gpt2) {
      const g = this.#gpt2;
      const pos = new Int32Array(B * T);
      for (let b = 0; b < B; b++) for (let i = 0; i < T; i++) pos[b * T + i] = t0 + i;
      x = add(g.wte.forward(ids, [B, T]), g.wpe.forward(pos, [B, T]));                     // (B, T, C)
      g.h.items.forEach((block, l) => { x = block.step(x, cache.layers[l], t0); });
      x = g.lnF.forward(x);
      weight = g.wte.weight;
    } else {
      const l = this.#llama!;
      x = l.embedTokens.forward(ids, [B, T]);                                               // (B, T, C)
      l.layers.items.forEach((block, i) => { x = block.step(x, cache.layers[i], t0); });
      x = l.norm.forward(x);
      weight = l.embedTokens.weight;
    }
    cache.len += T;
    // the head on each row's last position only
    const C = this.config.nEmbd, lastRows = new Float32Array(B * C);
    for (let b = 0; b < B; b++) lastRows.set(x.data.subarray((b * T + T - 1) * C, (b * T + T) * C), b * C);
    const h = new Tensor(this.backend, lastRows, [B, 1, C]);
    const logits = this.#head ? this.#head.forward(h) : matmul(h, weight, { transB: true });   // (B, 1, V)
    return logits.data.subarray(0, B * V) as Float32Array;
  }

  /** Parameter count (tied weights counted once). */
  numParams(): number { return this.parameters().reduce((s, t) => s + t.size, 0); }
}
