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
  return new RegExp(rewritePattern(pattern), 'gu');
}

/** The pattern with Oniguruma's `(?i:…)` groups spelled for JS. */
function rewritePattern(pattern: string): string {
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
  return src;
}

/**
 * Why a pre-split pattern (one that compiles) could make matching take exponential or
 * high-polynomial time on some text, or undefined when it cannot. JS regexes backtrack and
 * cannot be given a work budget, so a tokenizer.json's patterns are read before they run:
 *
 * - a repetition (`*`, `+`, `{n,m}` with m > 1) of something that can match one text in several
 *   ways — a variable-length repetition or an alternation inside (`(a+)+`, `(a|a)*`, `(\w+\s?)*`,
 *   `(a?){30}`) — is refused: it backtracks exponentially;
 * - unbounded repetitions in a row that can match one same character, followed by something
 *   that can fail (`a*a*b`, `\s*\s*$`), are refused: quadratic at each start, cubic over a text;
 * - backreferences are refused (matching with them is NP-hard; no byte-level BPE uses them);
 * - groups nested more than 100 deep are refused.
 *
 * Every pattern of GPT-2, GPT-4 (cl100k), Llama-3, o200k, Qwen and DeepSeek passes: their
 * adjacent repetitions over shared characters (`\s*[\r\n]+`) end an alternative, where the
 * match ends instead of backtracking.
 */
export function patternHazard(pattern: string): string | undefined {
  try {
    new PatternReader(rewritePattern(pattern)).read();
    return undefined;
  } catch (e) {
    if (e instanceof Hazard) return e.message;
    throw e;
  }
}

class Hazard extends Error {}

/** What a piece of a pattern can match: its length bounds, whether one text can match it in several ways, and (for one-character atoms) its source. */
interface PieceInfo {
  min: number; max: number; ambiguous: boolean;
  /** It can fail to match where it is tried (a character, an anchor, a lookaround; not `x?` or `a*`). */
  canFail: boolean;
  single?: string; repeatedSingle?: string;
}

/** Characters an atom is tried on to see whether two atoms share one. */
const PROBE_CHARS = [...Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)), '\u00a0', '\u00e9', '\u00df', '\u00c9', '\u0416', '\u0436', '\u4e2d', '\u3042', '\u0627', '\u0661', '\u0301', '\u2028', '\u3000', '\u01c5', '\u02b0', '\u00b2', '\u216b', '\u00bf', '\u2014', '\u20ac', '\u{1f600}', '\u{1d400}'];

class PatternReader {
  #i = 0;
  #matchers = new Map<string, RegExp>();
  constructor(readonly src: string) {}

  read(): void {
    this.#alt(0);
    if (this.#i < this.src.length) throw new Hazard(`cannot be read past position ${this.#i}`);
  }

  #alt(depth: number): PieceInfo {
    if (depth > 100) throw new Hazard('nests groups more than 100 deep');
    const branches = [this.#seq(depth)];
    while (this.src[this.#i] === '|') { this.#i++; branches.push(this.#seq(depth)); }
    if (branches.length === 1) return branches[0]!;
    return { min: Math.min(...branches.map((b) => b.min)), max: Math.max(...branches.map((b) => b.max)), ambiguous: true, canFail: branches.every((b) => b.canFail) };
  }

  #seq(depth: number): PieceInfo {
    const items: PieceInfo[] = [];
    while (this.#i < this.src.length && this.src[this.#i] !== '|' && this.src[this.#i] !== ')') {
      const atom = this.#atom(depth);
      const q = this.#quantifier();
      items.push(q === undefined ? atom : this.#repeat(atom, q));
    }
    this.#checkRuns(items, depth > 0);
    if (items.length === 1) return items[0]!;
    return { min: items.reduce((a, x) => a + x.min, 0), max: items.reduce((a, x) => a + x.max, 0), ambiguous: items.some((x) => x.ambiguous), canFail: items.some((x) => x.canFail) };
  }

  #repeat(atom: PieceInfo, q: { min: number; max: number }): PieceInfo {
    if (q.max > 1 && (atom.ambiguous || atom.min !== atom.max)) {
      throw new Hazard('repeats a group that can match one text in several ways (like (a+)+ or (a|a)*): matching can take exponential time');
    }
    return {
      min: atom.min * q.min, max: atom.max === 0 ? 0 : atom.max * q.max, ambiguous: atom.ambiguous || q.min !== q.max, canFail: q.min > 0 && atom.canFail,
      repeatedSingle: atom.single !== undefined && q.max === Infinity ? atom.single : undefined,
    };
  }

  /**
   * Unbounded repetitions in a row (only items that cannot fail between them) that share a
   * character, followed by something that can fail (`a*a*b`, `\s*\s*$`, `\w*\d+!`): on a long
   * run of that character every split of it between them is tried — quadratic at each start
   * position, cubic over a text. At the end of a top-level alternative the match simply ends
   * there (`\s*[\r\n]+` in GPT-4's pattern): no backtracking. Inside a group something may
   * follow: refused.
   */
  #checkRuns(items: PieceInfo[], nested: boolean): void {
    let run: string[] = [];
    const check = () => {
      if (run.length >= 2) {
        const res = run.map((a) => this.#matcher(a));
        for (const ch of PROBE_CHARS) {
          if (res.filter((re) => re.test(ch)).length >= 2) throw new Hazard('has repetitions in a row that can match the same characters, followed by something that can fail (like a*a*b): matching can take polynomial time');
        }
      }
      run = [];
    };
    for (const it of items) {
      if (it.repeatedSingle !== undefined) run.push(it.repeatedSingle);
      else if (it.canFail) check();
    }
    if (nested) check();
  }

  #matcher(atom: string): RegExp {
    let re = this.#matchers.get(atom);
    if (re === undefined) { re = new RegExp(`^(?:${atom})$`, 'u'); this.#matchers.set(atom, re); }
    return re;
  }

  #atom(depth: number): PieceInfo {
    const s = this.src, start = this.#i;
    const ch = s[this.#i]!;
    if (ch === '(') {
      this.#i++;
      let look = false;
      if (s[this.#i] === '?') {
        if (s.startsWith('?:', this.#i)) this.#i += 2;
        else if (s.startsWith('?=', this.#i) || s.startsWith('?!', this.#i)) { this.#i += 2; look = true; }
        else if (s.startsWith('?<=', this.#i) || s.startsWith('?<!', this.#i)) { this.#i += 3; look = true; }
        else if (s.startsWith('?<', this.#i)) { const end = s.indexOf('>', this.#i); if (end < 0) throw new Hazard('has an unterminated group name'); this.#i = end + 1; }
        else throw new Hazard(`has an unsupported group at position ${this.#i - 1}`);
      }
      const inner = this.#alt(depth + 1);
      if (s[this.#i] !== ')') throw new Hazard(`has an unbalanced group at position ${start}`);
      this.#i++;
      if (look) return { min: 0, max: 0, ambiguous: inner.ambiguous, canFail: true };
      return { ...inner, single: inner.single, repeatedSingle: undefined };
    }
    if (ch === '[') {
      this.#i++;
      if (s[this.#i] === '^') this.#i++;
      if (s[this.#i] === ']') this.#i++;
      while (this.#i < s.length && s[this.#i] !== ']') this.#i += s[this.#i] === '\\' ? 2 : 1;
      if (this.#i >= s.length) throw new Hazard('has an unterminated character class');
      this.#i++;
      return { min: 1, max: 1, ambiguous: false, canFail: true, single: s.slice(start, this.#i) };
    }
    if (ch === '\\') {
      const e = s[this.#i + 1] ?? '';
      if (/[1-9]/.test(e) || (e === 'k' && s[this.#i + 2] === '<')) throw new Hazard('uses a backreference, which this tokenizer does not support');
      this.#i += 2;
      if (e === 'b' || e === 'B') return { min: 0, max: 0, ambiguous: false, canFail: true };
      if ((e === 'p' || e === 'P' || e === 'u') && s[this.#i] === '{') { const end = s.indexOf('}', this.#i); if (end < 0) throw new Hazard('has an unterminated escape'); this.#i = end + 1; }
      else if (e === 'u') this.#i += 4;
      else if (e === 'x') this.#i += 2;
      else if (e === 'c') this.#i += 1;
      return { min: 1, max: 1, ambiguous: false, canFail: true, single: s.slice(start, this.#i) };
    }
    if (ch === '^' || ch === '$') { this.#i++; return { min: 0, max: 0, ambiguous: false, canFail: true }; }
    const cp = s.codePointAt(this.#i)!;
    this.#i += cp > 0xffff ? 2 : 1;
    return { min: 1, max: 1, ambiguous: false, canFail: true, single: s.slice(start, this.#i) };
  }

  #quantifier(): { min: number; max: number } | undefined {
    const s = this.src, c = s[this.#i];
    let q: { min: number; max: number } | undefined;
    if (c === '*') { q = { min: 0, max: Infinity }; this.#i++; }
    else if (c === '+') { q = { min: 1, max: Infinity }; this.#i++; }
    else if (c === '?') { q = { min: 0, max: 1 }; this.#i++; }
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(this.#i, this.#i + 40));
      if (m === null) return undefined;
      q = { min: Number(m[1]), max: m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]) };
      this.#i += m[0].length;
    }
    if (q !== undefined && s[this.#i] === '?') this.#i++;   // lazy: the same backtracking
    return q;
  }
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

export interface Section {
  text: string;
  special: boolean;
  /** Offset of the section in the text split (UTF-16 units). */
  start: number;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A splitter on the given special strings: at each position the longest one that matches, the
 * leftmost match first (HF's leftmost-longest added-token matching). Empty strings are ignored
 * (HF ignores empty added tokens).
 */
export function specialSplitter(specials: readonly string[]): (text: string) => Section[] {
  const nonEmpty = specials.filter((s) => s !== '');
  if (nonEmpty.length === 0) return (text) => [{ text, special: false, start: 0 }];
  const re = new RegExp([...nonEmpty].sort((a, b) => b.length - a.length).map(escapeRe).join('|'), 'g');
  return (text) => {
    const out: Section[] = [];
    let last = 0;
    for (const m of text.matchAll(re)) {
      if (m.index > last) out.push({ text: text.slice(last, m.index), special: false, start: last });
      out.push({ text: m[0], special: true, start: m.index });
      last = m.index + m[0].length;
    }
    if (last < text.length) out.push({ text: text.slice(last), special: false, start: last });
    return out;
  };
}
