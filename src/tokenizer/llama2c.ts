import { readFileSync, statSync } from 'node:fs';
import { DataError } from '../errors.ts';
import { show } from '../util/json.ts';
import type { Tokenizer } from './bpe.ts';
import { fromHfJson } from './hf-json.ts';

/**
 * karpathy/llama2.c `tokenizer.bin` (tokenizer.py `export`, run.c `build_tokenizer`), read as the
 * Hugging Face Llama-2 tokenizer.json it stands for.
 *
 * Layout, little-endian: int32 max_token_length, then per token id 0, 1, …: float32 score,
 * int32 byte length, the piece's UTF-8 bytes. The file does not store the vocabulary size: the
 * entries run to the end of the file. The exporter wrote SentencePiece's `▁` as a space and the
 * control pieces `<s>` / `</s>` as `"\n<s>\n"` / `"\n</s>\n"`.
 *
 * run.c encodes as a SentencePiece BPE model: a leading space, each code point as its piece (or
 * its UTF-8 bytes as `<0xNN>` pieces, id byte + 3), then repeatedly the adjacent pair whose
 * concatenation is the piece with the highest score, leftmost first. A BPE model whose merges
 * are every split of a piece into two pieces, ordered by the piece's score (then its id, then its
 * parts' ids), computes the same — it is how transformers' LlamaConverter turns a SentencePiece
 * model into tokenizer.json. Control and byte pieces are never merge parts or results.
 */

const BYTE_PIECE = /^<0x[0-9A-F]{2}>$/;
const CONTROL: Record<string, string> = { '<unk>': '<unk>', '\n<s>\n': '<s>', '\n</s>\n': '</s>', '<s>': '<s>', '</s>': '</s>' };
/** A piece longer than this is not a tokenizer entry: the file is something else. */
const MAX_PIECE_BYTES = 4096;

export interface Llama2cTokenizerFiles {
  /** tokenizer.json */
  tokenizer: Record<string, unknown>;
  /** tokenizer_config.json */
  config: Record<string, unknown>;
  vocabSize: number;
}

/** Reads a llama2.c tokenizer.bin into the tokenizer.json and tokenizer_config.json it stands for. */
export function readLlama2cTokenizer(file: string): Llama2cTokenizerFiles {
  let size: number;
  try { size = statSync(file).size; } catch (e) { throw new DataError(`cannot read: ${(e as Error).message}`, { file }); }
  if (size > 64 * 2 ** 20) throw new DataError(`${size} bytes is too large for a llama2.c tokenizer.bin (at most 64 MiB)`, { file });
  const buf = readFileSync(file);
  if (buf.length < 4) throw new DataError(`truncated: ${buf.length} bytes, shorter than the 4-byte header`, { file });
  const maxLen = buf.readInt32LE(0);
  if (maxLen <= 0 || maxLen > MAX_PIECE_BYTES) throw new DataError(`max_token_length ${maxLen} is not a llama2.c tokenizer header (expected 1…${MAX_PIECE_BYTES})`, { file, field: 'max_token_length' });
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const pieces: string[] = [], scores: number[] = [];
  for (let off = 4; off < buf.length;) {
    const id = pieces.length;
    if (off + 8 > buf.length) throw new DataError(`truncated inside token ${id}'s header at byte ${off}`, { file, field: `token ${id}` });
    const score = buf.readFloatLE(off), len = buf.readInt32LE(off + 4);
    off += 8;
    if (len < 0 || len > maxLen || off + len > buf.length) {
      throw new DataError(`token ${id} has length ${len}: ${len < 0 || len > maxLen ? `outside 0…max_token_length ${maxLen}` : `past the end of the file (${buf.length} bytes)`}`, { file, field: `token ${id}` });
    }
    if (!Number.isFinite(score)) throw new DataError(`token ${id} has score ${score}`, { file, field: `token ${id}` });
    let piece: string;
    try { piece = utf8.decode(buf.subarray(off, off + len)); } catch { throw new DataError(`token ${id} is not valid UTF-8`, { file, field: `token ${id}` }); }
    off += len;
    pieces.push(piece); scores.push(score);
  }
  if (pieces.length < 3) throw new DataError(`${pieces.length} tokens: a llama2.c tokenizer has at least <unk>, <s>, </s>`, { file });

  const tokens = pieces.map((p) => CONTROL[p] ?? p.replaceAll(' ', '▁'));
  const vocab: Record<string, number> = {};
  tokens.forEach((t, id) => {
    if (Object.hasOwn(vocab, t)) throw new DataError(`token ${id} ${show(pieces[id])} repeats token ${vocab[t]}`, { file, field: `token ${id}` });
    vocab[t] = id;
  });
  const isControl = (id: number) => Object.hasOwn(CONTROL, pieces[id]!);
  const isByte = (id: number) => BYTE_PIECE.test(tokens[id]!);
  const mergeable = new Map<string, number>();
  tokens.forEach((t, id) => { if (!isControl(id) && !isByte(id) && t.length > 0) mergeable.set(t, id); });

  // every split of a piece into two pieces, ranked by the piece's score, then ids
  const merges: { l: string; r: string; key: [number, number, number, number] }[] = [];
  for (const [t, id] of mergeable) {
    const cps = [...t];
    for (let k = 1, at = cps[0]!.length; k < cps.length; at += cps[k]!.length, k++) {
      const l = t.slice(0, at), r = t.slice(at);
      const li = mergeable.get(l), ri = mergeable.get(r);
      if (li !== undefined && ri !== undefined) merges.push({ l, r, key: [-scores[id]!, id, li, ri] });
    }
  }
  merges.sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.key[2] - b.key[2] || a.key[3] - b.key[3]);

  const byteFallback = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`).every((t) => Object.hasOwn(vocab, t));
  const added = ['<unk>', '<s>', '</s>'].filter((t) => Object.hasOwn(vocab, t))
    .map((t) => ({ id: vocab[t], content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const hasBos = Object.hasOwn(vocab, '<s>');
  const tokenizer = {
    version: '1.0', truncation: null, padding: null, added_tokens: added,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
    post_processor: hasBos ? {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [vocab['<s>']], tokens: ['<s>'] } },
    } : null,
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
    model: {
      type: 'BPE', dropout: null, unk_token: Object.hasOwn(vocab, '<unk>') ? '<unk>' : null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: true, byte_fallback: byteFallback, vocab, merges: merges.map((m) => [m.l, m.r]),
    },
  };
  const config = {
    tokenizer_class: 'LlamaTokenizer', add_bos_token: hasBos, add_eos_token: false, legacy: true, clean_up_tokenization_spaces: false,
    ...(Object.hasOwn(vocab, '<unk>') && { unk_token: '<unk>' }), ...(hasBos && { bos_token: '<s>' }), ...(Object.hasOwn(vocab, '</s>') && { eos_token: '</s>' }),
    pad_token: null,
  };
  return { tokenizer, config, vocabSize: pieces.length };
}

/** A llama2.c tokenizer.bin as a Tokenizer (see readLlama2cTokenizer). */
export function loadLlama2cTokenizer(file: string): Tokenizer {
  const { tokenizer, config } = readLlama2cTokenizer(file);
  return fromHfJson(tokenizer, file, { json: config, file });
}
