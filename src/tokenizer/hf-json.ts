/**
 * Hugging Face `tokenizer.json` (and `tokenizer_config.json`) io, for BPE in both model styles.
 *
 * Byte-level (GPT-2 style, what trainBpe makes): writes model BPE (vocab, merges as "a b"),
 * ByteLevel pre-tokenizer (GPT-2 regex) and decoder, added_tokens, no normalizer; reads GPT-2
 * style (ByteLevel with use_regex) and Llama-3 / GPT-4o style (Sequence[Split(Regex, Isolated),
 * ByteLevel(use_regex: false)], `ignore_merges`), NFC/NFD/NFKC/NFKD normalizers.
 *
 * SentencePiece-style (Llama-2, TinyLlama, Mistral-7B-v0.1): normalizer Prepend / Replace (String
 * patterns) / NFx, alone or in a Sequence; pre-tokenizer none or Metaspace (`replacement`,
 * `prepend_scheme` always/first/never or the older `add_prefix_space`, `split`); decoder
 * Replace / ByteFallback / Fuse / Strip / Metaspace, alone or in a Sequence; model BPE with
 * `byte_fallback` (all 256 `<0xNN>` tokens required), `unk_token`, `fuse_unk`. Written back in
 * the same shape (a one-step Sequence as its step).
 *
 * The style is byte-level when the pre-tokenizer or the decoder is ByteLevel, else SentencePiece.
 * `post_processor` (both styles): TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel
 * (no effect on ids) or a Sequence of them: what `encode(text, { addSpecial: true })` adds; it is
 * written back as TemplateProcessing. `tokenizer_config.json` beside tokenizer.json: bos_token,
 * eos_token, pad_token, unk_token (a string or {content: …}), add_bos_token, add_eos_token (used
 * when tokenizer.json has no template); saveTokenizer writes these fields back.
 *
 * Not supported (a DataError naming the field): other normalizers / pre-tokenizers / decoders /
 * post-processors, Regex patterns in Replace, subword prefixes and suffixes, BPE dropout;
 * `lstrip`/`rstrip`/`single_word` on added tokens are ignored.
 */
import { isFile, makeOutDir, readText, writeFileAtomic } from '../util/fs.ts';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DataError } from '../errors.ts';
import { parseJson, show } from '../util/json.ts';
import { NO_BYTE_LEVEL, Tokenizer, type AddedToken, type Normalization, type PreTokenizerConfig } from './bpe.ts';
import { UNICODE_FORMS, type DecoderStep, type MetaspaceConfig, type NormalizerStep, type PrependScheme, type SentencePieceConfig, type UnicodeForm } from './sentencepiece.ts';
import type { SpecialTokensConfig, Template, TemplatePiece } from './special.ts';

type Json = Record<string, unknown>;

/** Longest Prepend / Replace string accepted (a replacement thousands of characters long would multiply the text). */
const MAX_AFFIX = 64;
/** Deepest nesting of Sequence normalizers / decoders / post-processors accepted. */
const MAX_SEQUENCE_DEPTH = 8;

export function toHfJson(tok: Tokenizer): Json {
  const { config } = tok;
  const vocab: Record<string, number> = {};
  for (const [t, id] of [...config.vocab].sort((x, y) => x[1] - y[1])) vocab[t] = id;
  // "a b" strings, unless a token holds a space (then every merge as a pair, as HF writes them)
  const pairs = config.merges.some(([a, b]) => a.includes(' ') || b.includes(' '));
  const merges = config.merges.map(([a, b]) => (pairs ? [a, b] : `${a} ${b}`));
  const head = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: tok.addedTokens.map((t) => ({ id: t.id, content: t.content, single_word: false, lstrip: false, rstrip: false, normalized: t.normalized ?? false, special: t.special })),
  };
  const postProcessor = config.template ? templateJson(config.template) : null;
  const sp = config.sentencePiece;
  if (sp) {
    const one = <T>(steps: readonly T[], seqKey: string) => (steps.length === 1 ? steps[0] : { type: 'Sequence', [seqKey]: steps });
    return {
      ...head,
      normalizer: sp.normalizers.length === 0 ? null : one(sp.normalizers.map(normalizerJson), 'normalizers'),
      pre_tokenizer: sp.metaspace ? metaspaceJson(sp.metaspace) : null,
      post_processor: postProcessor,
      decoder: sp.decoders === null ? null : one(sp.decoders.map(decoderJson), 'decoders'),
      model: {
        type: 'BPE', dropout: null, unk_token: sp.unkToken, continuing_subword_prefix: null, end_of_word_suffix: null,
        fuse_unk: sp.fuseUnk, byte_fallback: sp.byteFallback, ignore_merges: config.ignoreMerges, vocab, merges,
      },
    };
  }
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
  return {
    ...head,
    normalizer: config.normalizer ? { type: config.normalizer } : null,
    pre_tokenizer: preTokenizer,
    post_processor: postProcessor,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: config.ignoreMerges,
      vocab, merges,
    },
  };
}

function normalizerJson(s: NormalizerStep): Json {
  if (s.type === 'Prepend') return { type: 'Prepend', prepend: s.prepend };
  if (s.type === 'Replace') return { type: 'Replace', pattern: { String: s.pattern }, content: s.content };
  return { type: s.type };
}

const metaspaceJson = (m: MetaspaceConfig): Json => ({ type: 'Metaspace', replacement: m.replacement, prepend_scheme: m.prependScheme, split: m.split });

function decoderJson(s: DecoderStep): Json {
  switch (s.type) {
    case 'Replace': return { type: 'Replace', pattern: { String: s.pattern }, content: s.content };
    case 'Strip': return { type: 'Strip', content: s.content, start: s.start, stop: s.stop };
    case 'Metaspace': return metaspaceJson(s);
    default: return { type: s.type };
  }
}

function templateJson(t: Template): Json {
  const piece = (p: TemplatePiece) => ('special' in p ? { SpecialToken: { id: p.special, type_id: p.typeId } } : { Sequence: { id: p.sequence, type_id: p.typeId } });
  const specialTokens: Json = {};
  for (const [k, v] of t.specialTokens) specialTokens[k] = { id: k, ids: [...v.ids], tokens: [...v.tokens] };
  return { type: 'TemplateProcessing', single: t.single.map(piece), pair: t.pair.map(piece), special_tokens: specialTokens };
}

/** tokenizer_config.json's special-token fields for `tok`, or null when it was made without one. */
export function toTokenizerConfigJson(tok: Tokenizer): Json | null {
  const st = tok.config.specialTokens;
  if (!st) return null;
  const out: Json = {};
  if (st.addBos !== null) out['add_bos_token'] = st.addBos;
  if (st.addEos !== null) out['add_eos_token'] = st.addEos;
  if (st.bos !== null) out['bos_token'] = st.bos;
  if (st.eos !== null) out['eos_token'] = st.eos;
  if (st.pad !== null) out['pad_token'] = st.pad;
  if (st.unk !== null) out['unk_token'] = st.unk;
  return out;
}

/** Writes DIR/tokenizer.json (creating DIR), and DIR/tokenizer_config.json when the tokenizer came with one; returns the tokenizer.json path. */
export function saveTokenizer(tok: Tokenizer, dir: string): string {
  makeOutDir(dir);
  const file = join(dir, 'tokenizer.json');
  writeFileAtomic(file, JSON.stringify(toHfJson(tok), null, 2) + '\n');
  const cfg = toTokenizerConfigJson(tok);
  if (cfg !== null) writeFileAtomic(join(dir, 'tokenizer_config.json'), JSON.stringify(cfg, null, 2) + '\n');
  return file;
}

/** A JSON file, parsed; a problem is a DataError naming the file (and the line when the parser gives a position). */
function readJsonFile(file: string): unknown {
  const text = readText(file);
  return parseJson(text, (msg, e) => {
    // V8 reports a position for most errors; without one, a one-line file is line 1
    const line = e?.position !== undefined ? text.slice(0, e.position).split('\n').length : e && !text.trimEnd().includes('\n') ? 1 : undefined;
    throw new DataError(msg, { file, line }, e && { cause: e.cause });
  }, 'malformed JSON');
}


/** Loads a tokenizer.json, or DIR/tokenizer.json when given a directory, with the tokenizer_config.json beside it when there is one. */
export function loadTokenizer(path: string): Tokenizer {
  let file = path;
  try { if (statSync(path).isDirectory()) file = join(path, 'tokenizer.json'); } catch { /* reported below */ }
  const json = readJsonFile(file);
  const configFile = join(dirname(file), 'tokenizer_config.json');
  return fromHfJson(json, file, isFile(configFile) ? { json: readJsonFile(configFile), file: configFile } : undefined);
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A JSON key as part of a field path, cut. */
const key = (k: string): string => (k.length > 60 ? `${k.slice(0, 60)}…` : k);

type Fail = (field: string, msg: string) => never;

/** Builds a Tokenizer from a parsed tokenizer.json (and tokenizer_config.json); every problem names its file and field. */
export function fromHfJson(json: unknown, file = '<tokenizer.json>', tokenizerConfig?: { json: unknown; file: string }): Tokenizer {
  const fail: Fail = (field, msg) => { throw new DataError(msg, { file, field }); };
  if (!isObj(json)) return fail('(root)', 'expected a JSON object');
  const model = json['model'];
  if (!isObj(model)) return fail('model', 'missing model object');
  if (model['type'] !== undefined && model['type'] !== 'BPE') fail('model.type', `only BPE models are supported, got ${show(model['type'])}`);
  for (const k of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
    if (model[k] !== undefined && model[k] !== null && model[k] !== '') fail(`model.${k}`, 'subword prefixes/suffixes are not supported');
  }
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
  const addedTokens = addedJson.map((t, i): AddedToken => {
    if (!isObj(t) || typeof t['content'] !== 'string' || typeof t['id'] !== 'number' || !Number.isInteger(t['id'])) {
      return fail(`added_tokens[${i}]`, 'expected {id: integer, content: string}');
    }
    const special = t['special'] !== false;
    return { content: t['content'], id: t['id'], special, normalized: typeof t['normalized'] === 'boolean' ? t['normalized'] : !special };
  });

  const template = parsePostProcessor(json['post_processor'], fail);
  const specialTokens = tokenizerConfig ? parseTokenizerConfig(tokenizerConfig.json, tokenizerConfig.file) : null;
  const common = { vocab, merges, addedTokens, ignoreMerges: model['ignore_merges'] === true, template, specialTokens };
  const configFile = tokenizerConfig?.file ?? file;

  if (isByteLevel(json)) {
    if (model['byte_fallback'] === true) fail('model.byte_fallback', 'byte_fallback belongs to SentencePiece-style tokenizers, not to one with a ByteLevel pre-tokenizer or decoder');
    const normalizer = parseNormalizer(json['normalizer'], fail);
    const preTokenizer = parsePreTokenizer(json['pre_tokenizer'], fail);
    const decoder = json['decoder'];
    if (decoder !== null && decoder !== undefined && !(isObj(decoder) && decoder['type'] === 'ByteLevel')) {
      fail('decoder', `only the ByteLevel decoder is supported, got ${show(isObj(decoder) ? decoder['type'] : decoder)}`);
    }
    return new Tokenizer({ ...common, preTokenizer, normalizer }, file, configFile);
  }
  const flag = (k: string): boolean => {
    const v = model[k];
    if (v === undefined || v === null) return false;
    if (typeof v !== 'boolean') fail(`model.${k}`, `expected true or false, got ${show(v)}`);
    return v as boolean;
  };
  const unk = model['unk_token'];
  if (unk !== undefined && unk !== null && typeof unk !== 'string') fail('model.unk_token', `expected a string or null, got ${show(unk)}`);
  const sentencePiece: SentencePieceConfig = {
    normalizers: parseSpNormalizer(json['normalizer'], fail),
    metaspace: parseSpPreTokenizer(json['pre_tokenizer'], fail),
    byteFallback: flag('byte_fallback'),
    unkToken: typeof unk === 'string' ? unk : null,
    fuseUnk: flag('fuse_unk'),
    decoders: parseSpDecoder(json['decoder'], fail),
  };
  return new Tokenizer({ ...common, preTokenizer: NO_BYTE_LEVEL, normalizer: null, sentencePiece }, file, configFile);
}

/** Byte-level when the pre-tokenizer (or a step of it) or the decoder is ByteLevel. */
function isByteLevel(json: Json): boolean {
  const p = json['pre_tokenizer'], d = json['decoder'];
  const byteLevel = (v: unknown) => isObj(v) && v['type'] === 'ByteLevel';
  return byteLevel(p) || byteLevel(d) || (isObj(p) && p['type'] === 'Sequence' && Array.isArray(p['pretokenizers']) && p['pretokenizers'].some(byteLevel));
}

function parseNormalizer(n: unknown, fail: Fail): Normalization {
  if (n === null || n === undefined) return null;
  if (isObj(n) && UNICODE_FORMS.includes(n['type'] as string)) return n['type'] as Normalization;
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

/** A string field of at most MAX_AFFIX characters (non-empty when `nonEmpty`). */
function affix(q: Json, k: string, field: string, fail: Fail, nonEmpty = false): string {
  const v = q[k];
  if (typeof v !== 'string') return fail(field, `expected a string, got ${show(v)}`);
  if (nonEmpty && v === '') fail(field, 'expected a non-empty string');
  if (v.length > MAX_AFFIX) fail(field, `longer than ${MAX_AFFIX} characters`);
  return v;
}

/** Replace's `pattern` (only `{"String": …}`) and `content`. */
function replaceStep(q: Json, f: string, fail: Fail): { type: 'Replace'; pattern: string; content: string } {
  const pat = q['pattern'];
  if (!isObj(pat) || typeof pat['String'] !== 'string') {
    return fail(`${f}.pattern`, isObj(pat) && 'Regex' in pat ? 'only {"String": …} patterns are supported in Replace, not Regex' : `expected {"String": …}, got ${show(pat)}`);
  }
  return { type: 'Replace', pattern: affix(pat, 'String', `${f}.pattern.String`, fail, true), content: affix(q, 'content', `${f}.content`, fail) };
}

/** Visits a Sequence's steps (flattened, nested at most MAX_SEQUENCE_DEPTH deep) or one step. */
function steps(v: unknown, f: string, listKey: string, visit: (q: Json, f: string) => void, fail: Fail, depth = 0): void {
  if (!isObj(v)) return fail(f, `expected an object, got ${show(v)}`);
  if (v['type'] !== 'Sequence') return visit(v, f);
  if (depth >= MAX_SEQUENCE_DEPTH) return fail(f, `Sequence nested more than ${MAX_SEQUENCE_DEPTH} deep`);
  const list = v[listKey];
  if (!Array.isArray(list)) return fail(`${f}.${listKey}`, 'expected an array');
  list.forEach((q, i) => steps(q, `${f}.${listKey}[${i}]`, listKey, visit, fail, depth + 1));
}

function parseSpNormalizer(n: unknown, fail: Fail): NormalizerStep[] {
  if (n === null || n === undefined) return [];
  const out: NormalizerStep[] = [];
  steps(n, 'normalizer', 'normalizers', (q, f) => {
    const type = q['type'];
    if (type === 'Prepend') out.push({ type: 'Prepend', prepend: affix(q, 'prepend', `${f}.prepend`, fail) });
    else if (type === 'Replace') out.push(replaceStep(q, f, fail));
    else if (UNICODE_FORMS.includes(type as string)) out.push({ type: type as UnicodeForm });
    else fail(`${f}.type`, `unsupported normalizer ${show(type)} (supported with a SentencePiece-style model: Prepend, Replace, NFC, NFD, NFKC, NFKD, Sequence)`);
  }, fail);
  return out;
}

const SCHEMES: readonly string[] = ['always', 'first', 'never'];

/** HF Metaspace fields (pre-tokenizer or decoder), as the Rust crate reads them. */
function parseMetaspace(q: Json, f: string, fail: Fail): MetaspaceConfig {
  const rep = q['replacement'];
  if (typeof rep !== 'string' || [...rep].length !== 1) fail(`${f}.replacement`, `expected one character, got ${show(rep)}`);
  const aps = q['add_prefix_space'];
  if (aps !== undefined && aps !== null && typeof aps !== 'boolean') fail(`${f}.add_prefix_space`, `expected true or false, got ${show(aps)}`);
  const ps = q['prepend_scheme'];
  let scheme: PrependScheme;
  if (ps === undefined) scheme = aps === false ? 'never' : 'always';   // files older than prepend_scheme: add_prefix_space alone
  else {
    if (typeof ps !== 'string' || !SCHEMES.includes(ps)) return fail(`${f}.prepend_scheme`, `expected "always", "first" or "never", got ${show(ps)}`);
    scheme = ps as PrependScheme;
    if (aps === false && scheme !== 'never') fail(`${f}.add_prefix_space`, `add_prefix_space false contradicts prepend_scheme "${scheme}"`);
  }
  const split = q['split'];
  if (split !== undefined && split !== null && typeof split !== 'boolean') fail(`${f}.split`, `expected true or false, got ${show(split)}`);
  return { replacement: rep as string, prependScheme: scheme, split: split !== false };
}

function parseSpPreTokenizer(p: unknown, fail: Fail): MetaspaceConfig | null {
  if (p === null || p === undefined) return null;
  const supported = '(supported: ByteLevel and Split for byte-level tokenizers, Metaspace for SentencePiece-style ones)';
  if (!isObj(p)) return fail('pre_tokenizer', `expected an object or null, got ${show(p)}`);
  if (p['type'] === 'Metaspace') return parseMetaspace(p, 'pre_tokenizer', fail);
  if (p['type'] !== 'Sequence') return fail('pre_tokenizer.type', `unsupported pre-tokenizer ${show(p['type'])} ${supported}`);
  const list = p['pretokenizers'];
  if (!Array.isArray(list)) return fail('pre_tokenizer.pretokenizers', 'expected an array');
  let m: MetaspaceConfig | null = null;
  list.forEach((q, i) => {
    const f = `pre_tokenizer.pretokenizers[${i}]`;
    if (!isObj(q)) return fail(f, 'expected an object');
    if (q['type'] !== 'Metaspace') return fail(`${f}.type`, `unsupported pre-tokenizer ${show(q['type'])} ${supported}`);
    if (m !== null) return fail(f, 'Metaspace may appear once');
    m = parseMetaspace(q, f, fail);
  });
  return m;
}

function parseSpDecoder(d: unknown, fail: Fail): DecoderStep[] | null {
  if (d === null || d === undefined) return null;
  const out: DecoderStep[] = [];
  steps(d, 'decoder', 'decoders', (q, f) => {
    switch (q['type']) {
      case 'Replace': out.push(replaceStep(q, f, fail)); break;
      case 'ByteFallback': case 'Fuse': out.push({ type: q['type'] }); break;
      case 'Strip': {
        const content = q['content'];
        if (typeof content !== 'string' || [...content].length !== 1) fail(`${f}.content`, `expected one character, got ${show(content)}`);
        const count = (k: string): number => {
          const v = q[k] ?? 0;
          if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`${f}.${k}`, `expected a non-negative integer, got ${show(v)}`);
          return v as number;
        };
        out.push({ type: 'Strip', content: content as string, start: count('start'), stop: count('stop') });
        break;
      }
      case 'Metaspace': out.push({ type: 'Metaspace', ...parseMetaspace(q, f, fail) }); break;
      default: fail(`${f}.type`, `unsupported decoder ${show(q['type'])} (supported with a SentencePiece-style model: Replace, ByteFallback, Fuse, Strip, Metaspace, Sequence)`);
    }
  }, fail);
  return out;
}

/** The post-processor's template (TemplateProcessing, RobertaProcessing, BertProcessing; ByteLevel adds nothing), or null. */
function parsePostProcessor(p: unknown, fail: Fail): Template | null {
  if (p === null || p === undefined) return null;
  const found: Template[] = [];
  steps(p, 'post_processor', 'processors', (q, f) => {
    switch (q['type']) {
      case 'ByteLevel': break;   // offsets only
      case 'TemplateProcessing': found.push(parseTemplate(q, f, fail)); break;
      case 'RobertaProcessing': case 'BertProcessing': {
        const tok = (k: string): [string, number] => {
          const v = q[k];
          if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || !Number.isInteger(v[1]) || (v[1] as number) < 0) {
            return fail(`${f}.${k}`, `expected ["token", id], got ${show(v)}`);
          }
          return [v[0], v[1] as number];
        };
        const [sep, sepId] = tok('sep'), [cls, clsId] = tok('cls');
        const S = (s: string, typeId = 0): TemplatePiece => ({ special: s, typeId });
        const roberta = q['type'] === 'RobertaProcessing';
        found.push({
          single: [S(cls), { sequence: 'A', typeId: 0 }, S(sep)],
          pair: roberta
            ? [S(cls), { sequence: 'A', typeId: 0 }, S(sep), S(sep), { sequence: 'B', typeId: 0 }, S(sep)]
            : [S(cls), { sequence: 'A', typeId: 0 }, S(sep), { sequence: 'B', typeId: 1 }, S(sep, 1)],
          specialTokens: new Map([[cls, { ids: [clsId], tokens: [cls] }], [sep, { ids: [sepId], tokens: [sep] }]]),
        });
        break;
      }
      default: fail(`${f}.type`, `unsupported post-processor ${show(q['type'])} (supported: TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel, Sequence)`);
    }
  }, fail);
  if (found.length > 1) fail('post_processor', 'more than one template (TemplateProcessing / RobertaProcessing / BertProcessing)');
  return found[0] ?? null;
}

function parseTemplate(q: Json, f: string, fail: Fail): Template {
  const st = q['special_tokens'] ?? {};
  if (!isObj(st)) return fail(`${f}.special_tokens`, 'expected an object');
  const specialTokens = new Map<string, { ids: number[]; tokens: string[] }>();
  for (const [k, v] of Object.entries(st)) {
    const g = `${f}.special_tokens.${key(k)}`;
    if (!isObj(v)) return fail(g, 'expected {id, ids, tokens}');
    const ids = v['ids'], tokens = v['tokens'];
    if (!Array.isArray(ids) || !ids.every((x) => Number.isInteger(x) && x >= 0)) return fail(`${g}.ids`, 'expected an array of non-negative integer ids');
    if (!Array.isArray(tokens) || !tokens.every((x) => typeof x === 'string')) return fail(`${g}.tokens`, 'expected an array of strings');
    specialTokens.set(k, { ids: ids as number[], tokens: tokens as string[] });
  }
  const pieces = (k: string): TemplatePiece[] => {
    const list = q[k];
    if (!Array.isArray(list)) return fail(`${f}.${k}`, 'expected an array');
    return list.map((item, i): TemplatePiece => {
      const g = `${f}.${k}[${i}]`;
      const typeId = (o: Json, h: string): number => {
        const t = o['type_id'] ?? 0;
        if (!Number.isInteger(t) || (t as number) < 0) return fail(`${h}.type_id`, `expected a non-negative integer, got ${show(t)}`);
        return t as number;
      };
      if (isObj(item) && isObj(item['SpecialToken'])) {
        const s = item['SpecialToken'];
        if (typeof s['id'] !== 'string' || !specialTokens.has(s['id'])) return fail(`${g}.SpecialToken.id`, `expected a key of special_tokens, got ${show(s['id'])}`);
        return { special: s['id'], typeId: typeId(s, `${g}.SpecialToken`) };
      }
      if (isObj(item) && isObj(item['Sequence'])) {
        const s = item['Sequence'];
        if (s['id'] !== 'A' && s['id'] !== 'B') return fail(`${g}.Sequence.id`, `expected "A" or "B", got ${show(s['id'])}`);
        return { sequence: s['id'], typeId: typeId(s, `${g}.Sequence`) };
      }
      return fail(g, 'expected {"SpecialToken": …} or {"Sequence": …}');
    });
  };
  const single = pieces('single');
  const seqs = single.filter((p) => 'sequence' in p);
  if (seqs.length !== 1 || seqs[0]!.sequence !== 'A') fail(`${f}.single`, 'expected the sequence $A once (and no $B)');
  return { single, pair: q['pair'] === undefined ? [] : pieces('pair'), specialTokens };
}

/** The special-token fields of a parsed tokenizer_config.json (other fields are ignored). */
export function parseTokenizerConfig(json: unknown, file = '<tokenizer_config.json>'): SpecialTokensConfig {
  const fail: Fail = (field, msg) => { throw new DataError(msg, { file, field }); };
  if (!isObj(json)) return fail('(root)', 'expected a JSON object');
  const token = (k: string): string | null => {
    const v = json[k];
    if (v === undefined || v === null) return null;
    if (typeof v === 'string') return v;
    if (isObj(v) && typeof v['content'] === 'string') return v['content'];
    return fail(k, `expected a string or {"content": …}, got ${show(v)}`);
  };
  const flag = (k: string): boolean | null => {
    const v = json[k];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'boolean') fail(k, `expected true or false, got ${show(v)}`);
    return v as boolean;
  };
  return { bos: token('bos_token'), eos: token('eos_token'), pad: token('pad_token'), unk: token('unk_token'), addBos: flag('add_bos_token'), addEos: flag('add_eos_token') };
}
