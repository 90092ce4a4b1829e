/**
 * The SentencePiece-style parts of the pipeline, as Hugging Face `tokenizers` runs them for
 * Llama-2, TinyLlama, Mistral-7B-v0.1 and the like (bpe.ts holds the model and the merge loop):
 *
 * - normalizer steps: `Prepend("▁")`, `Replace(" " → "▁")`, NFC/NFD/NFKC/NFKD, in file order;
 * - the `Metaspace` pre-tokenizer (spaces → "▁", a "▁" prepended per `prepend_scheme`, split
 *   before each "▁" when `split`);
 * - byte-fallback tokens `<0x00>` … `<0xFF>`;
 * - the decoder chain: `Replace`, `ByteFallback`, `Fuse`, `Strip`, `Metaspace`, each a map over
 *   the list of token strings, then joined (HF `decode_chain`).
 *
 * Semantics follow the Rust crate where it and tokenizers.js differ: Metaspace with `split: true`
 * splits (tokenizers.js never splits), a run of byte tokens that is not valid UTF-8 decodes to one
 * U+FFFD per byte (tokenizers.js: per invalid sequence), the Metaspace decoder drops every "▁" of
 * the first token (tokenizers.js: one leading space).
 */

export type UnicodeForm = 'NFC' | 'NFD' | 'NFKC' | 'NFKD';

export type NormalizerStep =
  | { type: 'Prepend'; prepend: string }
  | { type: 'Replace'; pattern: string; content: string }
  | { type: UnicodeForm };

export type PrependScheme = 'always' | 'first' | 'never';

/** HF `Metaspace` (pre-tokenizer and decoder). */
export interface MetaspaceConfig {
  /** One character, "▁" in every known file. */
  replacement: string;
  prependScheme: PrependScheme;
  /** Split before each replacement character (HF MergedWithNext); the decoder ignores it. */
  split: boolean;
}

export type DecoderStep =
  | { type: 'Replace'; pattern: string; content: string }
  | { type: 'ByteFallback' }
  | { type: 'Fuse' }
  | { type: 'Strip'; content: string; start: number; stop: number }
  | ({ type: 'Metaspace' } & MetaspaceConfig);

/** SentencePiece-style settings of a Tokenizer (absent for byte-level). */
export interface SentencePieceConfig {
  /** Normalizer steps in file order, applied to each stretch of ordinary text. */
  normalizers: readonly NormalizerStep[];
  /** The Metaspace pre-tokenizer, or null (Llama-2: the normalizer does its work, no split). */
  metaspace: MetaspaceConfig | null;
  /** Characters missing from the vocabulary become their UTF-8 bytes' `<0xNN>` tokens. */
  byteFallback: boolean;
  /** Token for characters missing from the vocabulary (without byte fallback); null: they are dropped. */
  unkToken: string | null;
  /** Consecutive unknown characters of a word give one unk token. */
  fuseUnk: boolean;
  /** Decoder steps; null: no decoder, tokens are joined with " " (as HF). */
  decoders: readonly DecoderStep[] | null;
}

export const UNICODE_FORMS: readonly string[] = ['NFC', 'NFD', 'NFKC', 'NFKD'];

/** The byte-fallback token of byte `b`: `<0x0A>` (two upper-case hex digits). */
export const byteToken = (b: number): string => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;

/** The byte a `<0xNN>` token stands for (HF ByteFallback: 6 bytes, `<0x`, a base-16 u8, `>`), else undefined. */
export function byteOfToken(token: string): number | undefined {
  if (token.length !== 6 || !token.startsWith('<0x') || token[5] !== '>') return undefined;
  // Rust's u8::from_str_radix: two hex digits, or a "+" and one
  const m = /^(?:\+[0-9a-fA-F]|[0-9a-fA-F]{2})$/.exec(token.slice(3, 5));
  return m === null ? undefined : parseInt(m[0], 16);
}

/** Applies the normalizer steps (HF: Prepend only to a non-empty string). */
export function normalizeText(text: string, steps: readonly NormalizerStep[]): string {
  let s = text;
  for (const step of steps) {
    switch (step.type) {
      case 'Prepend': if (s !== '') s = step.prepend + s; break;
      case 'Replace': s = s.replaceAll(step.pattern, step.content); break;
      default: s = s.normalize(step.type);
    }
  }
  return s;
}

/**
 * HF Metaspace on one stretch of normalized text: spaces → replacement, the replacement
 * prepended (`always`; `first` only where the stretch starts the input; never twice), then split
 * before each replacement character when `split`.
 */
export function metaspacePieces(text: string, m: MetaspaceConfig, startsInput: boolean): string[] {
  let s = text.replaceAll(' ', m.replacement);
  if ((m.prependScheme === 'always' || (m.prependScheme === 'first' && startsInput)) && !s.startsWith(m.replacement)) s = m.replacement + s;
  if (!m.split) return s === '' ? [] : [s];
  const pieces: string[] = [];
  let start = 0;
  for (let at = s.indexOf(m.replacement, 1); at >= 0; at = s.indexOf(m.replacement, at + m.replacement.length)) {
    if (at > start) pieces.push(s.slice(start, at));
    start = at;
  }
  if (start < s.length) pieces.push(s.slice(start));
  return pieces;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });   // a U+FEFF is text, kept (as Rust's from_utf8)

/** HF ByteFallback: runs of `<0xNN>` tokens become their text, or one U+FFFD per byte when not valid UTF-8. */
function byteFallback(tokens: string[]): string[] {
  const out: string[] = [];
  let run: number[] = [];
  const flush = () => {
    if (run.length === 0) return;
    try { out.push(utf8.decode(Uint8Array.from(run))); } catch { for (let i = 0; i < run.length; i++) out.push('\ufffd'); }
    run = [];
  };
  for (const t of tokens) {
    const b = byteOfToken(t);
    if (b !== undefined) run.push(b);
    else { flush(); out.push(t); }
  }
  flush();
  return out;
}

/** HF Strip decoder: up to `start` leading and `stop` trailing `content` characters off each token. */
function strip(token: string, content: string, start: number, stop: number): string {
  const chars = [...token];
  let from = 0;
  while (from < start && from < chars.length && chars[from] === content) from++;
  let to = chars.length;
  while (chars.length - to < stop && to > from && chars[to - 1] === content) to--;
  return from === 0 && to === chars.length ? token : chars.slice(from, to).join('');
}

/** The decoder chain over token strings, then joined (no decoder: joined with " ", as HF). */
export function runDecoders(tokens: readonly string[], steps: readonly DecoderStep[] | null): string {
  if (steps === null) return tokens.join(' ');
  let toks = [...tokens];
  for (const step of steps) {
    switch (step.type) {
      case 'Replace': toks = toks.map((t) => t.replaceAll(step.pattern, step.content)); break;
      case 'ByteFallback': toks = byteFallback(toks); break;
      case 'Fuse': toks = [toks.join('')]; break;
      case 'Strip': toks = toks.map((t) => strip(t, step.content, step.start, step.stop)); break;
      case 'Metaspace': {
        // Rust: every replacement character of the first token is dropped (unless prepend_scheme is never)
        toks = toks.map((t, i) => t.replaceAll(step.replacement, i === 0 && step.prependScheme !== 'never' ? '' : ' '));
        break;
      }
    }
  }
  return toks.join('');
}
