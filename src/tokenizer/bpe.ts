/**
 * BPE tokenizer: encode and decode (training is in train.ts, tokenizer.json io in hf-json.ts),
 * in one of two model styles, as Hugging Face `tokenizers` runs them:
 *
 * byte-level (GPT-2, Llama-3, Qwen; what trainBpe makes):
 *   text ─(added tokens, only with allowSpecial)→ sections ─(normalizer)→ ─(pre-split regex)→
 *   pieces ─(UTF-8 bytes as byte-level chars)→ words ─(merges)→ ids
 *
 * SentencePiece-style (Llama-2, TinyLlama, Mistral-7B-v0.1; `config.sentencePiece`):
 *   text ─(added tokens)→ sections ─(normalizer: Prepend "▁", Replace " " → "▁")→
 *   ─(Metaspace, when the file has one)→ pieces ─(characters; a character missing from the
 *   vocabulary → its bytes' `<0xNN>` tokens, or the unk token)→ words ─(merges)→ ids
 *   and back: tokens ─(decoder chain: Replace "▁" → " ", ByteFallback, Fuse, Strip)→ text
 *
 * Merges (both styles) run as HF's: the adjacent pair of lowest merge rank, the leftmost among
 * equals, one at a time (a binary heap over a linked list of symbols, so a long word — a whole
 * SentencePiece-style line — costs n log n).
 *
 * Added tokens (`<|endoftext|>`, `<|sep|>`, `<s>`, `</s>`) are never produced from plain text:
 * `encode("a<|sep|>b")` encodes the delimiter's characters as ordinary text, and
 * `encode("a<|sep|>b", { allowSpecial: true })` gives one id for it. (HF always matches added
 * tokens in text; tiktoken and minbpe ask the caller, as here.) `encode(text, { addSpecial: true })`
 * adds what the file says around the text (Llama: BOS `<s>` first).
 */
import { DataError } from '../errors.ts';
import { BYTE_TO_CHAR, fromByteLevel, toByteLevel } from './bytes.ts';
import { compilePattern, GPT2_PATTERN, patternHazard, specialSplitter, splitIsolated, type Section } from './pretokenize.ts';
import { byteToken, metaspacePieces, normalizeText, runDecoders, type SentencePieceConfig } from './sentencepiece.ts';
import type { SpecialTokensConfig, Template } from './special.ts';

export interface AddedToken {
  content: string;
  id: number;
  special: boolean;
  /** HF `normalized`: matched in the normalized text (after the normalizer) instead of the raw text. Default false. */
  normalized?: boolean;
}

export interface PreTokenizerConfig {
  /** Split regexes applied in order (HF `Split`, behavior Isolated), before byte-level mapping. */
  splits: readonly string[];
  /** HF ByteLevel `use_regex`: split with GPT-2's pattern after `splits`. */
  byteLevelRegex: boolean;
  /** HF ByteLevel `add_prefix_space`: prepend " " to each piece that does not start with one. */
  addPrefixSpace: boolean;
}

/** The pre-tokenizer setting of a SentencePiece-style tokenizer (its splitting is `sentencePiece.metaspace`). */
export const NO_BYTE_LEVEL: PreTokenizerConfig = { splits: [], byteLevelRegex: false, addPrefixSpace: false };

export type Normalization = 'NFC' | 'NFD' | 'NFKC' | 'NFKD' | null;

export type ModelStyle = 'byte-level' | 'sentencepiece';

export interface TokenizerConfig {
  /** Model vocabulary: token string → id (added tokens may also be listed). Byte-level tokens are written in GPT-2's byte characters; SentencePiece-style ones are plain Unicode with "▁". */
  vocab: ReadonlyMap<string, number>;
  /** Merge rules in rank order (rank 0 is applied first; a pair listed twice keeps its last rank, as HF). */
  merges: readonly (readonly [string, string])[];
  addedTokens: readonly AddedToken[];
  /** Byte-level pre-splitting; `NO_BYTE_LEVEL` for the SentencePiece style. */
  preTokenizer: PreTokenizerConfig;
  /** Byte-level normalizer; null for the SentencePiece style (whose steps are `sentencePiece.normalizers`). */
  normalizer: Normalization;
  /** Llama-3: a piece that is already one vocabulary token is emitted without merging. */
  ignoreMerges: boolean;
  /** The SentencePiece-style model (Llama-2, Mistral); absent: byte-level. */
  sentencePiece?: SentencePieceConfig;
  /** tokenizer.json's `post_processor` template: what `addSpecial` adds around a text. */
  template?: Template | null;
  /** tokenizer_config.json's special tokens (bos/eos/pad/unk, add_bos_token/add_eos_token). */
  specialTokens?: SpecialTokensConfig | null;
}

export interface EncodeOptions {
  /** Match added-token strings in the text (default false: they are ordinary text). */
  allowSpecial?: boolean;
  /**
   * Add the special tokens the file puts around a text (HF `add_special_tokens`; Llama: BOS
   * `<s>` first): tokenizer.json's post-processor template, else tokenizer_config.json's
   * `add_bos_token` / `add_eos_token`; nothing when neither says. Default false.
   */
  addSpecial?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens from the output. */
  skipSpecial?: boolean;
}

const PAIR = 2 ** 21; // pair key = a * PAIR + b; ids must stay below 2^21

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });   // a leading U+FEFF is text, not a mark to drop
const utf8Encoder = new TextEncoder();

/** A string for an error message: quoted, cut to `max` characters. */
const cut = (s: string, max = 60): string => JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);

/** A regex compile error without V8's restatement of the pattern. */
const reMessage = (e: unknown): string => cut((e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, ''), 200);

export class Tokenizer {
  readonly config: TokenizerConfig;
  #sp: SentencePieceConfig | null;
  #idToToken: (string | undefined)[] = [];
  /** byte → id: the byte-level character's token, or (SentencePiece style with byte fallback) its `<0xNN>` token */
  #byteId = new Int32Array(256);
  #charId = new Map<string, number>();
  #unkId: number | null = null;
  /** pair key → merge rank */
  #rank = new Map<number, number>();
  /** merge rank → id of the merged token */
  #mergedId: number[] = [];
  #addedById = new Map<number, AddedToken>();
  #addedByContent = new Map<string, AddedToken>();
  /** added tokens matched in the raw text (normalized: false), by content */
  #rawAdded = new Map<string, AddedToken>();
  /** added tokens matched after normalization (normalized: true), by normalized content */
  #normAdded = new Map<string, AddedToken>();
  #splitters: RegExp[];
  #splitRaw: (text: string) => Section[];
  #splitNorm: (text: string) => Section[];
  #before: number[] = [];
  #after: number[] = [];
  #bos: number | null = null;
  #eos: number | null = null;
  #pad: number | null = null;
  #unk: number | null = null;
  #cache = new Map<string, number[]>();
  #source: string;
  static readonly CACHE_LIMIT = 1 << 16;
  /** Pieces longer than this are not cached (a SentencePiece-style piece can be a whole line). */
  static readonly CACHE_PIECE_MAX = 256;

  /**
   * `source` names tokenizer.json in error messages; `configSource` names tokenizer_config.json
   * (for `specialTokens`).
   */
  constructor(config: TokenizerConfig, source = '<tokenizer>', configSource = source) {
    this.config = config;
    this.#source = source;
    this.#sp = config.sentencePiece ?? null;
    for (const [tok, id] of config.vocab) {
      if (!Number.isInteger(id) || id < 0 || id >= PAIR) throw new DataError(`token id ${id} out of range`, { file: source, field: 'model.vocab' });
      this.#idToToken[id] = tok;
    }
    if (this.#sp) this.#initSentencePiece(this.#sp, config, source);
    else {
      for (let b = 0; b < 256; b++) {
        const id = config.vocab.get(BYTE_TO_CHAR[b]!);
        if (id === undefined) throw new DataError(`byte-level vocabulary lacks byte 0x${b.toString(16)} ("${BYTE_TO_CHAR[b]}")`, { file: source, field: 'model.vocab' });
        this.#byteId[b] = id;
        this.#charId.set(BYTE_TO_CHAR[b]!, id);
      }
    }
    config.merges.forEach(([a, b], rank) => {
      const ia = config.vocab.get(a), ib = config.vocab.get(b), im = config.vocab.get(a + b);
      if (ia === undefined || ib === undefined || im === undefined) {
        throw new DataError(`merge ${rank} (${cut(`${a} ${b}`)}) uses a token missing from the vocabulary`, { file: source, field: `model.merges[${rank}]` });
      }
      this.#rank.set(ia * PAIR + ib, rank);   // a repeated pair keeps its last rank (HF builds a map from the list)
      this.#mergedId[rank] = im;
    });
    config.addedTokens.forEach((t, i) => {
      // an added token's id is a row of the embedding, like a vocabulary id
      if (!Number.isInteger(t.id) || t.id < 0 || t.id >= PAIR) throw new DataError(`token id ${t.id} out of range`, { file: source, field: `added_tokens[${i}].id` });
    });
    for (const t of config.addedTokens) {
      this.#addedById.set(t.id, t);
      this.#addedByContent.set(t.content, t);
      this.#idToToken[t.id] ??= t.content;
      if (t.normalized === true) this.#normAdded.set(this.#normalize(t.content), t);
      else this.#rawAdded.set(t.content, t);
    }
    const patterns = [...config.preTokenizer.splits, ...(config.preTokenizer.byteLevelRegex ? [GPT2_PATTERN] : [])];
    this.#splitters = patterns.map((p) => {
      let re: RegExp;
      try {
        re = compilePattern(p);
        re.exec('');   // V8 compiles a regex at its first use: a pattern too large to compile fails here, not in encode
      } catch (e) {
        throw new DataError(`pre-tokenizer pattern ${cut(p)} does not compile: ${reMessage(e)}`, { file: source, field: 'pre_tokenizer' }, { cause: e });
      }
      const hazard = patternHazard(p);
      if (hazard !== undefined) throw new DataError(`pre-tokenizer pattern ${cut(p)} ${hazard}`, { file: source, field: 'pre_tokenizer' });
      return re;
    });
    try {
      this.#splitRaw = specialSplitter([...this.#rawAdded.keys()]);
      this.#splitRaw('');
      this.#splitNorm = specialSplitter([...this.#normAdded.keys()]);
      this.#splitNorm('');
    } catch (e) {
      throw new DataError(`added tokens cannot be matched in text: ${reMessage(e)}`, { file: source, field: 'added_tokens' }, { cause: e });
    }
    this.#initSpecials(config, source, configSource);
  }

  #initSentencePiece(sp: SentencePieceConfig, config: TokenizerConfig, source: string): void {
    const pre = config.preTokenizer;
    if (pre.splits.length > 0 || pre.byteLevelRegex || pre.addPrefixSpace) {
      throw new DataError('a SentencePiece-style tokenizer takes no ByteLevel or Split pre-tokenizer settings', { file: source, field: 'pre_tokenizer' });
    }
    if (config.normalizer !== null) throw new DataError('a SentencePiece-style tokenizer lists its normalizer steps in sentencePiece.normalizers', { file: source, field: 'normalizer' });
    if (sp.byteFallback) {
      for (let b = 0; b < 256; b++) {
        const id = config.vocab.get(byteToken(b));
        if (id === undefined) throw new DataError(`byte_fallback is set but the vocabulary lacks the byte token ${byteToken(b)} (byte fallback needs all 256 <0xNN> tokens)`, { file: source, field: 'model.byte_fallback' });
        this.#byteId[b] = id;
      }
    }
    if (sp.unkToken !== null) {
      const id = config.vocab.get(sp.unkToken) ?? config.addedTokens.find((t) => t.content === sp.unkToken)?.id;
      if (id === undefined) throw new DataError(`unk_token ${cut(sp.unkToken)} is not in the vocabulary`, { file: source, field: 'model.unk_token' });
      this.#unkId = id;
    }
  }

  /** BOS/EOS/PAD/UNK ids and the ids `addSpecial` adds. */
  #initSpecials(config: TokenizerConfig, source: string, configSource: string): void {
    const template = config.template ?? null;
    let templateBos: number | null = null, templateEos: number | null = null;
    if (template !== null) {
      const at = template.single.findIndex((p) => 'sequence' in p);
      if (at < 0 || template.single.some((p, i) => 'sequence' in p && (i !== at || p.sequence !== 'A'))) {
        throw new DataError('the single template must hold the sequence $A once (and no $B)', { file: source, field: 'post_processor.single' });
      }
      const ids = (pieces: readonly Template['single'][number][]) => pieces.flatMap((p) => {
        if (!('special' in p)) return [];
        const sp = template.specialTokens.get(p.special);
        if (sp === undefined) throw new DataError(`template token ${cut(p.special)} is not in special_tokens`, { file: source, field: 'post_processor.special_tokens' });
        for (const id of sp.ids) {
          if (this.#idToToken[id] === undefined) throw new DataError(`template token ${cut(p.special)} has id ${id}, not in the vocabulary`, { file: source, field: `post_processor.special_tokens.${p.special}.ids` });
        }
        return sp.ids;
      });
      this.#before = ids(template.single.slice(0, at));
      this.#after = ids(template.single.slice(at + 1));
      if (this.#before.length === 1) templateBos = this.#before[0]!;
      if (this.#after.length === 1) templateEos = this.#after[0]!;
    }
    const st = config.specialTokens ?? null;
    const lookup = (content: string | null | undefined, field: string): number | null => {
      if (content === null || content === undefined) return null;
      const id = this.tokenToId(content);
      if (id === undefined) throw new DataError(`${field} ${cut(content)} is neither in the vocabulary nor an added token`, { file: configSource, field });
      return id;
    };
    this.#bos = lookup(st?.bos, 'bos_token') ?? templateBos;
    this.#eos = lookup(st?.eos, 'eos_token') ?? templateEos;
    this.#pad = lookup(st?.pad, 'pad_token');
    this.#unk = lookup(st?.unk, 'unk_token') ?? this.#unkId;
    if (template === null && st !== null) {
      if (st.addBos === true) {
        if (this.#bos === null) throw new DataError('add_bos_token is true but there is no bos_token', { file: configSource, field: 'add_bos_token' });
        this.#before = [this.#bos];
      }
      if (st.addEos === true) {
        if (this.#eos === null) throw new DataError('add_eos_token is true but there is no eos_token', { file: configSource, field: 'add_eos_token' });
        this.#after = [this.#eos];
      }
    }
  }

  /** `byte-level` (GPT-2 style) or `sentencepiece` (Llama-2 style). */
  get style(): ModelStyle { return this.#sp ? 'sentencepiece' : 'byte-level'; }

  /** One more than the largest id. */
  get vocabSize(): number { return this.#idToToken.length; }

  /** Added (special) tokens, in id order. */
  get addedTokens(): readonly AddedToken[] { return [...this.#addedById.values()].sort((a, b) => a.id - b.id); }

  /** BOS id: tokenizer_config.json's bos_token, else the one token the template puts before the text; null when neither says. */
  get bos(): number | null { return this.#bos; }
  /** EOS id: tokenizer_config.json's eos_token, else the one token the template puts after the text; null when neither says. */
  get eos(): number | null { return this.#eos; }
  /** PAD id: tokenizer_config.json's pad_token, or null. */
  get pad(): number | null { return this.#pad; }
  /** UNK id: tokenizer_config.json's unk_token, else the model's unk_token, or null. */
  get unk(): number | null { return this.#unk; }

  idToToken(id: number): string | undefined { return this.#idToToken[id]; }

  tokenToId(token: string): number | undefined {
    return this.#addedByContent.get(token)?.id ?? this.config.vocab.get(token);
  }

  /** The id of an added/special token such as `<|sep|>`; a DataError when the tokenizer lacks it. */
  specialId(content: string): number {
    const t = this.#addedByContent.get(content);
    if (!t) throw new DataError(`tokenizer has no special token ${content}`, { field: 'added_tokens' });
    return t.id;
  }

  isSpecial(id: number): boolean { return this.#addedById.get(id)?.special ?? false; }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const out: number[] = opts.addSpecial ? [...this.#before] : [];
    if (opts.allowSpecial) {
      for (const s of this.#splitRaw(text)) {
        if (s.special) out.push(this.#rawAdded.get(s.text)!.id);
        else this.#encodeOrdinary(s.text, s.start === 0, true, out);
      }
    } else this.#encodeOrdinary(text, true, false, out);
    if (opts.addSpecial) for (const id of this.#after) out.push(id);
    return out;
  }

  /** Pre-split pieces of ordinary text (after normalization), for inspection and training. */
  pretokenize(text: string): string[] {
    return this.#pieces(this.#normalize(text), true);
  }

  #normalize(text: string): string {
    if (this.#sp) return normalizeText(text, this.#sp.normalizers);
    const norm = this.config.normalizer;
    return norm ? text.normalize(norm) : text;
  }

  /** Pieces of normalized text; `startsInput`: the text starts the input (Metaspace prepend_scheme "first"). */
  #pieces(text: string, startsInput: boolean): string[] {
    if (this.#sp) {
      const m = this.#sp.metaspace;
      if (text === '') return [];   // HF drops empty stretches before the pre-tokenizer sees them
      return m ? metaspacePieces(text, m, startsInput) : [text];
    }
    let pieces = [text];
    for (const re of this.#splitters) pieces = pieces.flatMap((p) => splitIsolated(p, re));
    if (this.config.preTokenizer.addPrefixSpace) pieces = pieces.map((p) => (p.startsWith(' ') ? p : ' ' + p));
    return pieces;
  }

  /** A stretch of text between raw-matched added tokens: normalize, match normalized added tokens (with allowSpecial), split, encode. */
  #encodeOrdinary(text: string, startsInput: boolean, allowSpecial: boolean, out: number[]): void {
    if (text === '') return;
    const norm = this.#normalize(text);
    if (norm === '') return;
    const subs = allowSpecial && this.#normAdded.size > 0 ? this.#splitNorm(norm) : [{ text: norm, special: false, start: 0 }];
    for (const sub of subs) {
      if (sub.special) { out.push(this.#normAdded.get(sub.text)!.id); continue; }
      for (const piece of this.#pieces(sub.text, startsInput && sub.start === 0)) {
        let ids = this.#cache.get(piece);
        if (ids === undefined) {
          ids = this.#encodeWord(this.#sp ? piece : toByteLevel(piece));
          if (piece.length <= Tokenizer.CACHE_PIECE_MAX) {
            if (this.#cache.size >= Tokenizer.CACHE_LIMIT) this.#cache.clear();
            this.#cache.set(piece, ids);
          }
        }
        for (const id of ids) out.push(id);
      }
    }
  }

  /** BPE on one word (byte-level characters, or plain text in the SentencePiece style). */
  #encodeWord(word: string): number[] {
    if (this.config.ignoreMerges) {
      const whole = this.config.vocab.get(word);
      if (whole !== undefined) return [whole];
    }
    if (this.#sp) return this.#merge(this.#symbols(word));
    const syms: number[] = [];
    for (const ch of word) syms.push(this.#charId.get(ch)!);
    return this.#merge(syms);
  }

  /**
   * SentencePiece-style initial symbols (HF BPE `merge_word`): a character's vocabulary id; a
   * character missing from the vocabulary gives its UTF-8 bytes' `<0xNN>` tokens (byte
   * fallback), else the unk token (one per run of them with fuse_unk), else nothing.
   */
  #symbols(word: string): number[] {
    const sp = this.#sp!;
    const syms: number[] = [];
    let unkPending = false;
    for (const ch of word) {
      const id = this.config.vocab.get(ch);
      if (id !== undefined) {
        if (unkPending) { syms.push(this.#unkId!); unkPending = false; }
        syms.push(id);
      } else if (sp.byteFallback) {
        for (const b of utf8Encoder.encode(ch)) syms.push(this.#byteId[b]!);
      } else if (this.#unkId !== null) {
        if (unkPending && !sp.fuseUnk) syms.push(this.#unkId);
        unkPending = true;
      }
    }
    if (unkPending) syms.push(this.#unkId!);
    return syms;
  }

  /**
   * Applies the merges to a word's symbols as HF's `Word::merge_all`: repeatedly the adjacent
   * pair of lowest rank (leftmost among equal ranks) is merged, one at a time; the pairs the
   * merge forms with its neighbours join the queue. (Merging every occurrence of the best pair at
   * once gives the same ids only while no merge outranks the merges that build its parts, which
   * SentencePiece-converted merge lists do not promise.)
   */
  #merge(syms: number[]): number[] {
    const n = syms.length;
    if (n < 2) return syms;
    const id = syms;
    const next = new Int32Array(n), prev = new Int32Array(n), dead = new Uint8Array(n);
    for (let i = 0; i < n; i++) { next[i] = i + 1 < n ? i + 1 : -1; prev[i] = i - 1; }
    // min-heap of (rank, position of the pair's left symbol), each with the id the merge makes
    const hr: number[] = [], hp: number[] = [], hm: number[] = [];
    const above = (i: number, j: number) => hr[i]! < hr[j]! || (hr[i] === hr[j] && hp[i]! < hp[j]!);
    const swap = (i: number, j: number) => {
      [hr[i], hr[j]] = [hr[j]!, hr[i]!]; [hp[i], hp[j]] = [hp[j]!, hp[i]!]; [hm[i], hm[j]] = [hm[j]!, hm[i]!];
    };
    const push = (pos: number) => {
      const nx = next[pos]!;
      if (nx < 0) return;
      const r = this.#rank.get(id[pos]! * PAIR + id[nx]!);
      if (r === undefined) return;
      hr.push(r); hp.push(pos); hm.push(this.#mergedId[r]!);
      for (let i = hr.length - 1; i > 0;) {
        const p = (i - 1) >> 1;
        if (!above(i, p)) break;
        swap(i, p);
        i = p;
      }
    };
    for (let i = 0; i + 1 < n; i++) push(i);
    while (hr.length > 0) {
      const pos = hp[0]!, merged = hm[0]!;
      const lastR = hr.pop()!, lastP = hp.pop()!, lastM = hm.pop()!;
      if (hr.length > 0) {
        hr[0] = lastR; hp[0] = lastP; hm[0] = lastM;
        for (let i = 0; ;) {
          const l = 2 * i + 1, r = l + 1;
          let m = i;
          if (l < hr.length && above(l, m)) m = l;
          if (r < hr.length && above(r, m)) m = r;
          if (m === i) break;
          swap(i, m);
          i = m;
        }
      }
      // stale entries: the left symbol was merged away, has no right neighbour, or the pair changed
      if (dead[pos]) continue;
      const nx = next[pos]!;
      if (nx < 0) continue;
      const cur = this.#rank.get(id[pos]! * PAIR + id[nx]!);
      if (cur === undefined || this.#mergedId[cur] !== merged) continue;
      id[pos] = merged;
      dead[nx] = 1;
      const after = next[nx]!;
      next[pos] = after;
      if (after >= 0) prev[after] = pos;
      if (prev[pos]! >= 0) push(prev[pos]!);
      push(pos);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]!) out.push(id[i]!);   // symbol 0 is never a right-hand side, so it survives
    return out;
  }

  /** The token strings of `ids` (added tokens as their content); unknown ids are a DataError. */
  #tokens(ids: readonly number[], opts: DecodeOptions): string[] {
    const out: string[] = [];
    for (const id of ids) {
      const added = this.#addedById.get(id);
      if (added) {
        if (!(opts.skipSpecial && added.special)) out.push(added.content);
        continue;
      }
      const tok = this.#idToToken[id];
      if (tok === undefined) throw new DataError(`token id ${id} is not in the vocabulary`, { file: this.#source });
      out.push(tok);
    }
    return out;
  }

  /**
   * Raw bytes of the ordinary tokens (special tokens contribute their UTF-8 text unless skipped).
   * SentencePiece style: the UTF-8 of `decode` (its byte runs are already text or U+FFFD).
   */
  decodeBytes(ids: readonly number[], opts: DecodeOptions = {}): Uint8Array {
    if (this.#sp) return utf8Encoder.encode(this.decode(ids, opts));
    const bytes: number[] = [];
    for (const id of ids) {
      const added = this.#addedById.get(id);
      if (added) {
        if (!(opts.skipSpecial && added.special)) for (const b of utf8Encoder.encode(added.content)) bytes.push(b);
        continue;
      }
      const tok = this.#idToToken[id];
      // ids come from a model, whose vocabulary may be larger than the tokenizer's (or have holes)
      if (tok === undefined || !fromByteLevel(tok, bytes)) throw new DataError(`token id ${id} is not in the vocabulary`, { file: this.#source });
    }
    return Uint8Array.from(bytes);
  }

  /**
   * Text of `ids`. Byte-level: invalid UTF-8 (a cut multi-byte character) becomes U+FFFD.
   * SentencePiece style: the file's decoder chain (HF: a run of `<0xNN>` tokens that is not
   * valid UTF-8 becomes one U+FFFD per byte).
   */
  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    if (this.#sp) return runDecoders(this.#tokens(ids, opts), this.#sp.decoders);
    return utf8.decode(this.decodeBytes(ids, opts));
  }
}
