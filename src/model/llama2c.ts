import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import type { Backend } from '../backend/backend.ts';
import { CheckpointError } from '../errors.ts';
import { loadStateDict } from './checkpoint.ts';
import { validateConfig, type GPTConfig } from './config.ts';
import { GPT } from './gpt.ts';

/**
 * karpathy/llama2.c legacy ("version 0") `.bin` checkpoints, read into our llama variant as an
 * HF-layout state dict.
 *
 * Layout (export.py `legacy_export`, run.c `memory_map_weights`), all little-endian:
 *   header: 7 × int32  dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len
 *           (vocab_size < 0: the classifier is NOT shared with the embedding; |vocab_size| is V)
 *   float32, every Linear weight as PyTorch nn.Linear (out, in):
 *     token_embedding (V, C) · rms_att (L, C) · wq (L, nh·hs, C) · wk (L, nkv·hs, C)
 *     · wv (L, nkv·hs, C) · wo (L, C, nh·hs) · rms_ffn (L, C) · w1 (L, H, C) · w2 (L, C, H)
 *     · w3 (L, H, C) · rms_final (C) · freq_cis_real (seq_len, hs/2) · freq_cis_imag (seq_len, hs/2)
 *     · wcls (V, C) only when not shared
 *
 * llama2.c rotates interleaved pairs (2i, 2i+1); HF (and our GPT) rotate (i, i + hs/2) with the
 * same frequency θ^(−2i/hs). Permuting the rows of wq and wk within each head, 2i → i and
 * 2i+1 → i + hs/2 (what HF's convert_llama_weights_to_hf.py does), makes q·k identical, so the
 * loaded model computes exactly llama2.c's function.
 */

const HEADER_BYTES = 7 * 4;

export interface Llama2cCheckpoint {
  config: GPTConfig;
  /** HF names and layout (Linear weights (out, in)); no lm_head when the classifier is shared. */
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

interface Llama2cHeader { C: number; H: number; L: number; nh: number; nkv: number; V: number; nCtx: number; shared: boolean }

function readHeader(buf: Buffer, file: string): Llama2cHeader {
  if (buf.length < HEADER_BYTES) throw new CheckpointError(`truncated: ${buf.length} bytes, shorter than the 28-byte llama2.c header`, { file });
  const h = (i: number) => buf.readInt32LE(4 * i);
  const [C, H, L, nh, nkv, vRaw, nCtx] = [0, 1, 2, 3, 4, 5, 6].map(h);
  const dims = { dim: C, hidden_dim: H, n_layers: L, n_heads: nh, n_kv_heads: nkv, vocab_size: Math.abs(vRaw), seq_len: nCtx };
  for (const [field, v] of Object.entries(dims)) {
    if (v <= 0) throw new CheckpointError(`header ${field} must be positive, got ${v} (not a llama2.c legacy checkpoint?)`, { file, field });
  }
  if (C % nh !== 0) throw new CheckpointError(`dim ${C} is not a multiple of n_heads ${nh}`, { file, field: 'n_heads' });
  if (nh % nkv !== 0) throw new CheckpointError(`n_heads ${nh} is not a multiple of n_kv_heads ${nkv}`, { file, field: 'n_kv_heads' });
  if ((C / nh) % 2 !== 0) throw new CheckpointError(`head size ${C / nh} is odd; RoPE needs it even`, { file, field: 'n_heads' });
  return { C, H, L, nh, nkv, V: Math.abs(vRaw), nCtx, shared: vRaw > 0 };
}

/** Float32 count after the header that the header promises. */
function expectedFloats(p: Llama2cHeader): number {
  const { C, H, L, nh, nkv, V, nCtx } = p;
  const hs = C / nh;
  return V * C                                   // token_embedding
    + L * C                                      // rms_att
    + L * C * (nh * hs) + 2 * L * C * (nkv * hs) // wq, wk, wv
    + L * (nh * hs) * C                          // wo
    + L * C                                      // rms_ffn
    + 3 * L * C * H                              // w1, w2, w3
    + C                                          // rms_final
    + 2 * nCtx * (hs / 2)                        // freq_cis_real, freq_cis_imag (skipped)
    + (p.shared ? 0 : V * C);                    // wcls
}

/**
 * Per head, rows (2i, 2i+1) → (i, i + hs/2): interleaved-pair RoPE weights → rotate_half ones.
 * w: (n·hs, cols), rows grouped by head.
 */
export function interleavedToHalf(w: Float32Array, n: number, hs: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  const half = hs / 2;
  for (let h = 0; h < n; h++) {
    for (let i = 0; i < half; i++) {
      for (const a of [0, 1]) {
        const src = (h * hs + 2 * i + a) * cols;   // llama2.c row
        const dst = (h * hs + a * half + i) * cols; // HF row
        out.set(w.subarray(src, src + cols), dst);
      }
    }
  }
  return out;
}

/** Reads a llama2.c legacy `.bin` into a config and an HF-layout state dict. */
export function readLlama2c(file: string): Llama2cCheckpoint {
  let buf: Buffer;
  try { buf = readFileSync(file); } catch (e) {
    throw new CheckpointError(`cannot read: ${(e as Error).message}`, { file }, { cause: e });
  }
  const p = readHeader(buf, file);
  const { C, H, L, nh, nkv, V, nCtx } = p;
  const hs = C / nh;

  // the file size must match the header exactly, before any weight is read
  const want = HEADER_BYTES + 4 * expectedFloats(p);
  if (buf.length < want) throw new CheckpointError(`truncated: ${buf.length} bytes, the header promises ${want}`, { file });
  if (buf.length > want) {
    throw new CheckpointError(`${buf.length - want} trailing bytes: ${buf.length} bytes, the header promises ${want} (not a legacy version-0 file, or a wrong vocab_size sign?)`, { file });
  }

  // copy the floats out so alignment does not matter (the header is 28 bytes)
  const floats = new Float32Array(expectedFloats(p));
  new Uint8Array(floats.buffer).set(buf.subarray(HEADER_BYTES));
  let off = 0;
  const take = (n: number): Float32Array => { const t = floats.subarray(off, off + n); off += n; return t; };
  /** L consecutive tensors of `per` floats each. */
  const takeLayers = (per: number): Float32Array[] => { const all = take(L * per); return Array.from({ length: L }, (_, l) => all.subarray(l * per, (l + 1) * per)); };

  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const layer = (l: number, name: string) => `model.layers.${l}.${name}.weight`;
  tensors.set('model.embed_tokens.weight', { shape: [V, C], data: take(V * C) });
  takeLayers(C).forEach((d, l) => tensors.set(layer(l, 'input_layernorm'), { shape: [C], data: d }));
  takeLayers(nh * hs * C).forEach((d, l) => tensors.set(layer(l, 'self_attn.q_proj'), { shape: [nh * hs, C], data: interleavedToHalf(d, nh, hs, C) }));
  takeLayers(nkv * hs * C).forEach((d, l) => tensors.set(layer(l, 'self_attn.k_proj'), { shape: [nkv * hs, C], data: interleavedToHalf(d, nkv, hs, C) }));
  takeLayers(nkv * hs * C).forEach((d, l) => tensors.set(layer(l, 'self_attn.v_proj'), { shape: [nkv * hs, C], data: d }));
  takeLayers(C * nh * hs).forEach((d, l) => tensors.set(layer(l, 'self_attn.o_proj'), { shape: [C, nh * hs], data: d }));
  takeLayers(C).forEach((d, l) => tensors.set(layer(l, 'post_attention_layernorm'), { shape: [C], data: d }));
  takeLayers(H * C).forEach((d, l) => tensors.set(layer(l, 'mlp.gate_proj'), { shape: [H, C], data: d }));  // w1
  takeLayers(C * H).forEach((d, l) => tensors.set(layer(l, 'mlp.down_proj'), { shape: [C, H], data: d }));  // w2
  takeLayers(H * C).forEach((d, l) => tensors.set(layer(l, 'mlp.up_proj'), { shape: [H, C], data: d }));    // w3
  tensors.set('model.norm.weight', { shape: [C], data: take(C) });
  take(2 * nCtx * (hs / 2));   // freq_cis_real, freq_cis_imag: recomputed by our RoPE (θ = 10000)
  if (!p.shared) tensors.set('lm_head.weight', { shape: [V, C], data: take(V * C) });

  return { config: configOf(p, file), tensors };
}

/** The model a header describes, as our config. */
function configOf(p: Llama2cHeader, file: string): GPTConfig {
  const config: GPTConfig = {
    modelType: 'llama', vocabSize: p.V, nCtx: p.nCtx, nEmbd: p.C, nLayer: p.L, nHead: p.nh, nKvHead: p.nkv,
    intermediateSize: p.H,
    normEps: 1e-5,       // run.c rmsnorm, model.py ModelArgs.norm_eps
    ropeTheta: 10000,    // model.py precompute_freqs_cis
    tieWordEmbeddings: p.shared,
    bosTokenId: 1, eosTokenId: 2,   // llama2.c (sentencepiece) convention
  };
  return validateConfig(config, file);
}

/** The config of a llama2.c `.bin` from its 28-byte header alone (the file's size checked against it; no weight read). */
export function readLlama2cConfig(file: string): GPTConfig {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(HEADER_BYTES);
    const n = readSync(fd, head, 0, HEADER_BYTES, 0);
    const p = readHeader(head.subarray(0, n), file);
    const want = HEADER_BYTES + 4 * expectedFloats(p), size = fstatSync(fd).size;
    if (size !== want) throw new CheckpointError(`${size} bytes, the header promises ${want}`, { file });
    return configOf(p, file);
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`cannot read: ${(e as Error).message}`, { file }, { cause: e });
  } finally { if (fd !== undefined) closeSync(fd); }
}

/** Loads a llama2.c legacy `.bin` as a GPT (llama variant). */
export function loadLlama2c(file: string, backend: Backend): GPT {
  const { config, tensors } = readLlama2c(file);
  const model = new GPT(backend, config);
  loadStateDict(model, tensors, file);
  return model;
}
