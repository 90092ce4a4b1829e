/**
 * Pre-tokenization: text → pieces that BPE never merges across.
 *
 * - Special tokens are split off first, only when the caller allows them (`splitSpecials`).
 * - Then regex splits in the GPT-2 style (HF `ByteLevel` with `use_regex: true`), or any
 *   `Split` regex from a tokenizer.json (Llama-3 / GPT-4 style), written with JS unicode
 *   classes (`\p{L}`, `\p{N}`). Oniguruma's `(?i:…)` groups are rewritten for JS.
 */

/** GPT-2's pre-split pattern, as HF's ByteLevel pre-tokenizer uses it. */
export const GPT2_PATTERN = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;

/** GPT-4's (cl100k) pattern, for reference and for tokenizers trained with it. */
export const GPT4_PATTERN = String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;

/**
 * Compiles a pre-split pattern to a global unicode JS RegExp. Rewrites `(?i:…)` (not in
 * Node 20's RegExp) by turning each ASCII letter outside a character class into `[xX]`.
 */
export function compilePattern(pattern: string): RegExp {
  let src = pattern;
  for (let at = src.indexOf('(?i:'); at >= 0; at = src.indexOf('(?i:')) {
    let depth = 0;
    let end = -1;
    let inClass = false;
    let out = '';
    for (let i = at + 4; i < src.length; i++) {
      const ch = src[i]!;
      if (ch === '\\') { out += ch + (src[i + 1] ?? ''); i++; continue; }
      if (inClass) { if (ch === ']') inClass = false; out += ch; continue; }
      if (ch === '[') { inClass = true; out += ch; continue; }
      if (ch === '(') depth++;
      if (ch === ')') { if (depth === 0) { end = i; break; } depth--; }
      out += /[a-zA-Z]/.test(ch) ? `[${ch.toLowerCase()}${ch.toUpperCase()}]` : ch;
    }
    if (end < 0) throw new SyntaxError(`unbalanced (?i: group in pattern ${pattern}`);
    src = `${src.slice(0, at)}(?:${out})${src.slice(end + 1)}`;
  }
  return new RegExp(src, 'gu');
}

/**
 * Splits `text` with `re`, keeping matches and the gaps between them as pieces (HF Split
 * behavior "Isolated"; the GPT-2 pattern leaves no gaps).
 */
export function splitIsolated(text: string, re: RegExp): string[] {
  const pieces: string[] = [];
  let last = 0;
  re.lastIndex = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > last) pieces.push(text.slice(last, m.index));
    if (m[0].length > 0) pieces.push(m[0]);
    last = m.index + m[0].length;
  }
  if (last < text.length) pieces.push(text.slice(last));
  return pieces;
}

export interface Section { text: string; special: boolean }

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A splitter on the given special strings (longest first). */
export function specialSplitter(specials: readonly string[]): (text: string) => Section[] {
  if (specials.length === 0) return (text) => [{ text, special: false }];
  const re = new RegExp([...specials].sort((a, b) => b.length - a.length).map(escapeRe).join('|'), 'g');
  return (text) => {
    const out: Section[] = [];
    let last = 0;
    for (const m of text.matchAll(re)) {
      if (m.index > last) out.push({ text: text.slice(last, m.index), special: false });
      out.push({ text: m[0], special: true });
      last = m.index + m[0].length;
    }
    if (last < text.length) out.push({ text: text.slice(last), special: false });
    return out;
  };
}
