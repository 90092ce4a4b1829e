/**
 * Hugging Face `tokenizer.json` io for byte-level BPE.
 *
 * Writes: model type BPE (vocab, merges as "a b" strings), ByteLevel pre-tokenizer (GPT-2
 * regex) and decoder, added_tokens with special: true, no normalizer, no post-processor (no
 * BOS/EOS is ever added implicitly). `@huggingface/tokenizers` loads the file and encodes the
 * same ids (tokenizer.test.ts).
 *
 * Reads any byte-level BPE tokenizer.json: GPT-2 style (ByteLevel with use_regex) and
 * Llama-3 / GPT-4o style (Sequence[Split(Regex, Isolated), ByteLevel(use_regex: false)],
 * `ignore_merges`), merges as "a b" strings or [a, b] pairs, NFC/NFD/NFKC/NFKD normalizers.
 * Not supported (a DataError naming the field): SentencePiece-style Metaspace / byte_fallback,
 * subword prefixes and suffixes, BPE dropout. The post_processor is ignored: encode never adds
 * BOS/EOS by itself; the caller adds them.
 */
import { makeOutDir, readText, writeFileAtomic } from '../util/fs.ts';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.ts';
import { parseJson, show } from '../util/json.ts';
import { Tokenizer, type Normalization, type PreTokenizerConfig } from './bpe.ts';

type Json = Record<string, unknown>;

export function toHfJson(tok: Tokenizer): Json {
  const { config } = tok;
  const byteLevel = (useRegex: boolean) => ({ type: 'ByteLevel', add_prefix_space: config.preTokenizer.addPrefixSpace, trim_offsets: true, use_regex: useRegex });
  const pre = config.preTokenizer;
  const preTokenizer = pre.splits.length === 0
    ? byteLevel(pre.byteLevelRegex)
    : {
      type: 'Sequence',
      pretokenizers: [
        ...pre.splits.map((p) => ({ type: 'Split', pattern: { Regex: p }, behavior: 'Isolated', invert: false })),
        byteLevel(pre.byteLevelRegex),
      ],
    };
  const vocab: Record<string, number> = {};
  for (const [t, id] of [...config.vocab].sort((x, y) => x[1] - y[1])) vocab[t] = id;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: tok.addedTokens.map((t) => ({ id: t.id, content: t.content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: t.special })),
    normalizer: config.normalizer ? { type: config.normalizer } : null,
    pre_tokenizer: preTokenizer,
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: config.ignoreMerges,
      vocab, merges: config.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/** Writes DIR/tokenizer.json (creating DIR); returns the file path. */
export function saveTokenizer(tok: Tokenizer, dir: string): string {
  makeOutDir(dir);
  const file = join(dir, 'tokenizer.json');
  writeFileAtomic(file, JSON.stringify(toHfJson(tok), null, 2) + '\n');
  return file;
}

/** Loads a tokenizer.json, or DIR/tokenizer.json when given a directory. */
export function loadTokenizer(path: string): Tokenizer {
  let file = path;
  try { if (statSync(path).isDirectory()) file = join(path, 'tokenizer.json'); } catch { /* reported below */ }
  const text = readText(file);
  const json = parseJson(text, (msg, e) => {
    // V8 reports a position for most errors; without one, a one-line file is line 1
    const line = e?.position !== undefined ? text.slice(0, e.position).split('\n').length : e && !text.trimEnd().includes('\n') ? 1 : undefined;
    throw new DataError(msg, { file, line }, e && { cause: e.cause });
  }, 'malformed JSON');
  return fromHfJson(json, file);
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A JSON key as part of a field path, cut. */
const key = (k: string): string => (k.length > 60 ? `${k.slice(0, 60)}…` : k);

/** Builds a Tokenizer from a parsed tokenizer.json; every problem names its field. */
export function fromHfJson(json: unknown, file = '<tokenizer.json>'): Tokenizer {
  const fail = (field: string, msg: string): never => { throw new DataError(msg, { file, field }); };
  if (!isObj(json)) return fail('(root)', 'expected a JSON object');
  const model = json['model'];
  if (!isObj(model)) return fail('model', 'missing model object');
  if (model['type'] !== undefined && model['type'] !== 'BPE') fail('model.type', `only BPE models are supported, got ${show(model['type'])}`);
  for (const k of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
    if (model[k] !== undefined && model[k] !== null && model[k] !== '') fail(`model.${k}`, 'subword prefixes/suffixes are not supported');
  }
  if (model['byte_fallback'] === true) fail('model.byte_fallback', 'byte_fallback (SentencePiece-style BPE) is not supported');
  if (typeof model['dropout'] === 'number' && model['dropout'] > 0) fail('model.dropout', 'BPE dropout is not supported');

  const vocabJson = model['vocab'];
  if (!isObj(vocabJson)) return fail('model.vocab', 'expected an object of token → id');
  const vocab = new Map<string, number>();
  for (const [t, id] of Object.entries(vocabJson)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) fail(`model.vocab.${key(t)}`, `expected a non-negative integer id, got ${show(id)}`);
    vocab.set(t, id as number);
  }
  const mergesJson = model['merges'];
  if (!Array.isArray(mergesJson)) return fail('model.merges', 'expected an array');
  const merges = mergesJson.map((m, i): [string, string] => {
    if (typeof m === 'string') {
      const sp = m.indexOf(' ');
      if (sp <= 0 || sp === m.length - 1 || m.indexOf(' ', sp + 1) >= 0) fail(`model.merges[${i}]`, `expected "a b", got ${show(m)}`);
      return [m.slice(0, sp), m.slice(sp + 1)];
    }
    if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return [m[0], m[1]];
    return fail(`model.merges[${i}]`, `expected "a b" or ["a", "b"], got ${show(m)}`);
  });

  const addedJson = json['added_tokens'] ?? [];
  if (!Array.isArray(addedJson)) return fail('added_tokens', 'expected an array');
  const addedTokens = addedJson.map((t, i) => {
    if (!isObj(t) || typeof t['content'] !== 'string' || typeof t['id'] !== 'number' || !Number.isInteger(t['id'])) {
      return fail(`added_tokens[${i}]`, 'expected {id: integer, content: string}');
    }
    return { content: t['content'], id: t['id'], special: t['special'] !== false };
  });

  const normalizer = parseNormalizer(json['normalizer'], fail);
  const preTokenizer = parsePreTokenizer(json['pre_tokenizer'], fail);
  const decoder = json['decoder'];
  if (decoder !== null && decoder !== undefined && !(isObj(decoder) && decoder['type'] === 'ByteLevel')) {
    fail('decoder', `only the ByteLevel decoder is supported, got ${show(isObj(decoder) ? decoder['type'] : decoder)}`);
  }
  return new Tokenizer({ vocab, merges, addedTokens, preTokenizer, normalizer, ignoreMerges: model['ignore_merges'] === true }, file);
}

type Fail = (field: string, msg: string) => never;

function parseNormalizer(n: unknown, fail: Fail): Normalization {
  if (n === null || n === undefined) return null;
  if (isObj(n) && ['NFC', 'NFD', 'NFKC', 'NFKD'].includes(n['type'] as string)) return n['type'] as Normalization;
  if (isObj(n) && n['type'] === 'Sequence' && Array.isArray(n['normalizers']) && n['normalizers'].length === 0) return null;
  return fail('normalizer', `unsupported normalizer ${show(isObj(n) ? n['type'] : n)} (supported: none, NFC, NFD, NFKC, NFKD)`);
}

function parsePreTokenizer(p: unknown, fail: Fail): PreTokenizerConfig {
  if (!isObj(p)) return fail('pre_tokenizer', 'a byte-level BPE needs a ByteLevel pre-tokenizer');
  const list = p['type'] === 'Sequence' ? p['pretokenizers'] : [p];
  if (!Array.isArray(list)) return fail('pre_tokenizer.pretokenizers', 'expected an array');
  const splits: string[] = [];
  let byteLevel: Json | undefined;
  list.forEach((q, i) => {
    const field = p['type'] === 'Sequence' ? `pre_tokenizer.pretokenizers[${i}]` : 'pre_tokenizer';
    if (!isObj(q)) return fail(field, 'expected an object');
    if (q['type'] === 'ByteLevel') {
      if (byteLevel || i !== list.length - 1) fail(field, 'ByteLevel must come last, once');
      byteLevel = q;
    } else if (q['type'] === 'Split') {
      const pat = q['pattern'];
      if (q['behavior'] !== 'Isolated' || q['invert'] === true) fail(field, `only Split with behavior "Isolated" and invert false is supported`);
      if (isObj(pat) && typeof pat['Regex'] === 'string') splits.push(pat['Regex']);
      else if (isObj(pat) && typeof pat['String'] === 'string') splits.push(pat['String'].replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      else fail(`${field}.pattern`, 'expected {"Regex": …} or {"String": …}');
    } else {
      fail(`${field}.type`, `unsupported pre-tokenizer ${show(q['type'])} (supported: ByteLevel, Split)`);
    }
  });
  if (!byteLevel) return fail('pre_tokenizer', 'a byte-level BPE needs a ByteLevel pre-tokenizer');
  return { splits, byteLevelRegex: byteLevel['use_regex'] !== false, addPrefixSpace: byteLevel['add_prefix_space'] === true };
}
