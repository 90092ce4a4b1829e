/**
 * Byte-level BPE tokenizer: encode and decode (training is in train.ts, tokenizer.json io in
 * hf-json.ts).
 *
 * Pipeline (as Hugging Face `tokenizers` with a ByteLevel BPE model):
 *   text ─(special tokens, only with allowSpecial)→ sections ─(normalizer)→ ─(pre-split regex)→
 *   pieces ─(UTF-8 bytes as byte-level chars)→ words ─(merges, lowest rank first)→ ids
 *
 * Special tokens (`<|endoftext|>`, `<|pad|>`, `<|sep|>`) are never produced from plain text:
 * `encode("a<|sep|>b")` encodes the delimiter's characters as ordinary text, and
 * `encode("a<|sep|>b", { allowSpecial: true })` gives one id for it. (HF always matches added
 * tokens in text; tiktoken and minbpe ask the caller, as here.)
 */
import { DataError } from '../errors.ts';
import { BYTE_TO_CHAR, fromByteLevel, toByteLevel } from './bytes.ts';
import { compilePattern, GPT2_PATTERN, patternHazard, specialSplitter, splitIsolated, type Section } from './pretokenize.ts';

export interface AddedToken { content: string; id: number; special: boolean }

export interface PreTokenizerConfig {
  /** Split regexes applied in order (HF `Split`, behavior Isolated), before byte-level mapping. */
  splits: readonly string[];
  /** HF ByteLevel `use_regex`: split with GPT-2's pattern after `splits`. */
  byteLevelRegex: boolean;
  /** HF ByteLevel `add_prefix_space`: prepend " " to each piece that does not start with one. */
  addPrefixSpace: boolean;
}

export type Normalization = 'NFC' | 'NFD' | 'NFKC' | 'NFKD' | null;

export interface TokenizerConfig {
  /** Model vocabulary: byte-level token string → id (added tokens may also be listed). */
  vocab: ReadonlyMap<string, number>;
  /** Merge rules in rank order (rank 0 is applied first). */
  merges: readonly (readonly [string, string])[];
  addedTokens: readonly AddedToken[];
  preTokenizer: PreTokenizerConfig;
  normalizer: Normalization;
  /** Llama-3: a piece that is already one vocabulary token is emitted without merging. */
  ignoreMerges: boolean;
}

export interface EncodeOptions {
  /** Match special-token strings in the text (default false: they are ordinary text). */
  allowSpecial?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens from the output. */
  skipSpecial?: boolean;
}

const PAIR = 2 ** 21; // pair key = a * PAIR + b; ids must stay below 2^21

const utf8 = new TextDecoder('utf-8');

/** A string for an error message: quoted, cut to `max` characters. */
const cut = (s: string, max = 60): string => JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);

export class Tokenizer {
  readonly config: TokenizerConfig;
  #idToToken: (string | undefined)[] = [];
  #byteId = new Int32Array(256);
  #charId = new Map<string, number>();
  /** pair key → merge rank */
  #rank = new Map<number, number>();
  /** merge rank → id of the merged token */
  #mergedId: number[] = [];
  #addedById = new Map<number, AddedToken>();
  #addedByContent = new Map<string, AddedToken>();
  #splitters: RegExp[];
  #splitSpecial: (text: string) => Section[];
  #cache = new Map<string, number[]>();
  #source: string;
  static readonly CACHE_LIMIT = 1 << 16;

  constructor(config: TokenizerConfig, source = '<tokenizer>') {
    this.config = config;
    this.#source = source;
    for (const [tok, id] of config.vocab) {
      if (!Number.isInteger(id) || id < 0 || id >= PAIR) throw new DataError(`token id ${id} out of range`, { file: source, field: 'model.vocab' });
      this.#idToToken[id] = tok;
    }
    for (let b = 0; b < 256; b++) {
      const id = config.vocab.get(BYTE_TO_CHAR[b]!);
      if (id === undefined) throw new DataError(`byte-level vocabulary lacks byte 0x${b.toString(16)} ("${BYTE_TO_CHAR[b]}")`, { file: source, field: 'model.vocab' });
      this.#byteId[b] = id;
      this.#charId.set(BYTE_TO_CHAR[b]!, id);
    }
    config.merges.forEach(([a, b], rank) => {
      const ia = config.vocab.get(a), ib = config.vocab.get(b), im = config.vocab.get(a + b);
      if (ia === undefined || ib === undefined || im === undefined) {
        throw new DataError(`merge ${rank} (${cut(`${a} ${b}`)}) uses a token missing from the vocabulary`, { file: source, field: `model.merges[${rank}]` });
      }
      const key = ia * PAIR + ib;
      if (!this.#rank.has(key)) this.#rank.set(key, rank);
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
    }
    const patterns = [...config.preTokenizer.splits, ...(config.preTokenizer.byteLevelRegex ? [GPT2_PATTERN] : [])];
    this.#splitters = patterns.map((p) => {
      let re: RegExp;
      try {
        re = compilePattern(p);
        re.exec('');   // V8 compiles a regex at its first use: a pattern too large to compile fails here, not in encode
      } catch (e) {
        throw new DataError(`pre-tokenizer pattern ${cut(p)} does not compile: ${cut((e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, ''), 200)}`, { file: source, field: 'pre_tokenizer' }, { cause: e });
      }
      const hazard = patternHazard(p);
      if (hazard !== undefined) throw new DataError(`pre-tokenizer pattern ${cut(p)} ${hazard}`, { file: source, field: 'pre_tokenizer' });
      return re;
    });
    try {
      this.#splitSpecial = specialSplitter(config.addedTokens.map((t) => t.content));
      this.#splitSpecial('');
    } catch (e) {
      throw new DataError(`added tokens cannot be matched in text: ${cut((e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, ''), 200)}`, { file: source, field: 'added_tokens' }, { cause: e });
    }
  }

  /** One more than the largest id. */
  get vocabSize(): number { return this.#idToToken.length; }

  /** Added (special) tokens, in id order. */
  get addedTokens(): readonly AddedToken[] { return [...this.#addedById.values()].sort((a, b) => a.id - b.id); }

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
    const out: number[] = [];
    const sections = opts.allowSpecial ? this.#splitSpecial(text) : [{ text, special: false }];
    for (const s of sections) {
      if (s.special) out.push(this.#addedByContent.get(s.text)!.id);
      else this.#encodeOrdinary(s.text, out);
    }
    return out;
  }

  /** Pre-split pieces of ordinary text (after normalization), for inspection and training. */
  pretokenize(text: string): string[] {
    const norm = this.config.normalizer;
    let pieces = [norm ? text.normalize(norm) : text];
    for (const re of this.#splitters) pieces = pieces.flatMap((p) => splitIsolated(p, re));
    if (this.config.preTokenizer.addPrefixSpace) pieces = pieces.map((p) => (p.startsWith(' ') ? p : ' ' + p));
    return pieces;
  }

  #encodeOrdinary(text: string, out: number[]): void {
    if (text === '') return;
    for (const piece of this.pretokenize(text)) {
      let ids = this.#cache.get(piece);
      if (ids === undefined) {
        ids = this.#encodeWord(toByteLevel(piece));
        if (this.#cache.size >= Tokenizer.CACHE_LIMIT) this.#cache.clear();
        this.#cache.set(piece, ids);
      }
      for (const id of ids) out.push(id);
    }
  }

  /** BPE on one byte-level word: merge the lowest-rank adjacent pair until none applies. */
  #encodeWord(word: string): number[] {
    if (this.config.ignoreMerges) {
      const whole = this.config.vocab.get(word);
      if (whole !== undefined) return [whole];
    }
    let syms: number[] = [];
    for (const ch of word) syms.push(this.#charId.get(ch)!);
    while (syms.length > 1) {
      let best = Infinity;
      let bestAt = -1;
      for (let i = 0; i + 1 < syms.length; i++) {
        const r = this.#rank.get(syms[i]! * PAIR + syms[i + 1]!);
        if (r !== undefined && r < best) { best = r; bestAt = i; }
      }
      if (bestAt < 0) break;
      const a = syms[bestAt]!, b = syms[bestAt + 1]!, merged = this.#mergedId[best]!;
      const next: number[] = syms.slice(0, bestAt);
      for (let i = bestAt; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) { next.push(merged); i++; }
        else next.push(syms[i]!);
      }
      syms = next;
    }
    return syms;
  }

  /** Raw bytes of the ordinary tokens (special tokens contribute their UTF-8 text unless skipped). */
  decodeBytes(ids: readonly number[], opts: DecodeOptions = {}): Uint8Array {
    const bytes: number[] = [];
    const enc = new TextEncoder();
    for (const id of ids) {
      const added = this.#addedById.get(id);
      if (added) {
        if (!(opts.skipSpecial && added.special)) for (const b of enc.encode(added.content)) bytes.push(b);
        continue;
      }
      const tok = this.#idToToken[id];
      // ids come from a model, whose vocabulary may be larger than the tokenizer's (or have holes)
      if (tok === undefined || !fromByteLevel(tok, bytes)) throw new DataError(`token id ${id} is not in the vocabulary`, { file: this.#source });
    }
    return Uint8Array.from(bytes);
  }

  /** Text of `ids`; invalid UTF-8 (a cut multi-byte character) becomes U+FFFD. */
  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    return utf8.decode(this.decodeBytes(ids, opts));
  }
}
