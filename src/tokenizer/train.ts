/**
 * Byte-level BPE training (GPT-2 style), fast enough for a few MB on one core:
 * 1. pre-split the text (special tokens first, then the regex) and count each distinct piece;
 * 2. BPE runs on that word-count table, not on the text: pair counts are kept in a map with a
 *    max-heap over them, and a merge only revisits the words that contain the merged pair,
 *    updating pair counts incrementally.
 *
 * Ids: 0–255 are the bytes (id = byte value), merges follow in order, then the special tokens.
 * Ties between equally frequent pairs go to the smaller (left id, right id), as HF's trainer.
 *
 * Worked example (minbpe's): trainBpe(["aaabdaaabac"], { vocabSize: 259, specials: [] })
 * learns  256 = "a"+"a",  257 = "a"+"b",  258 = 256+257 ("aaab")
 * and encodes "aaabdaaabac" as [258, 100, 258, 97, 99].
 */
import { BYTE_TO_CHAR, toByteLevel } from './bytes.ts';
import { Tokenizer, type TokenizerConfig } from './bpe.ts';
import { specialSplitter } from './pretokenize.ts';
import { DEFAULT_SPECIALS } from './special.ts';

export interface TrainOptions {
  /** Total vocabulary size: 256 bytes + merges + special tokens (smaller when the text runs out of pairs to merge). */
  vocabSize: number;
  /** Special tokens, appended after the merges (default `<|endoftext|>`, `<|pad|>`, `<|sep|>`). */
  specials?: readonly string[];
  /** A pair must occur at least this often to be merged (default 2). */
  minFrequency?: number;
}

const PAIR = 2 ** 21;

/** Max-heap of (count, pair key): larger count first, then smaller key. */
class PairHeap {
  #count: number[] = [];
  #key: number[] = [];
  get size(): number { return this.#count.length; }
  #above(i: number, j: number): boolean {
    const ci = this.#count[i]!, cj = this.#count[j]!;
    return ci > cj || (ci === cj && this.#key[i]! < this.#key[j]!);
  }
  #swap(i: number, j: number): void {
    [this.#count[i], this.#count[j]] = [this.#count[j]!, this.#count[i]!];
    [this.#key[i], this.#key[j]] = [this.#key[j]!, this.#key[i]!];
  }
  push(count: number, key: number): void {
    this.#count.push(count);
    this.#key.push(key);
    for (let i = this.#count.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!this.#above(i, p)) break;
      this.#swap(i, p);
      i = p;
    }
  }
  pop(): [number, number] {
    const top: [number, number] = [this.#count[0]!, this.#key[0]!];
    const lastC = this.#count.pop()!, lastK = this.#key.pop()!;
    if (this.#count.length > 0) {
      this.#count[0] = lastC;
      this.#key[0] = lastK;
      for (let i = 0; ;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < this.#count.length && this.#above(l, m)) m = l;
        if (r < this.#count.length && this.#above(r, m)) m = r;
        if (m === i) break;
        this.#swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

/** The pre-split configuration the trainer uses and writes (HF ByteLevel, GPT-2 regex). */
export const BYTE_LEVEL_GPT2 = { splits: [], byteLevelRegex: true, addPrefixSpace: false } as const;

export function trainBpe(texts: Iterable<string>, opts: TrainOptions): Tokenizer {
  const specials = opts.specials ?? DEFAULT_SPECIALS;
  const minFrequency = opts.minFrequency ?? 2;
  const nMerges = opts.vocabSize - 256 - specials.length;
  if (!Number.isInteger(opts.vocabSize) || nMerges < 0) {
    throw new RangeError(`vocabSize must be an integer ≥ ${256 + specials.length} (256 bytes + ${specials.length} special tokens), got ${opts.vocabSize}`);
  }

  // A merge-free tokenizer does the pre-splitting, so training and encoding split identically.
  const vocab = new Map<string, number>(BYTE_TO_CHAR.map((c, b) => [c, b]));
  const base: TokenizerConfig = {
    vocab, merges: [], preTokenizer: BYTE_LEVEL_GPT2, normalizer: null, ignoreMerges: false,
    addedTokens: specials.map((content, i) => ({ content, id: 256 + i, special: true })),
  };
  const splitter = new Tokenizer(base);

  // 1. word counts
  const wordCount = new Map<string, number>();
  const sections = specialSplitter(specials);
  for (const text of texts) {
    for (const section of sections(text)) {
      if (section.special) continue;
      for (const piece of splitter.pretokenize(section.text)) wordCount.set(piece, (wordCount.get(piece) ?? 0) + 1);
    }
  }
  const words: number[][] = [];
  const freq: number[] = [];
  for (const [piece, n] of wordCount) {
    words.push([...toByteLevel(piece)].map((ch) => vocab.get(ch)!));
    freq.push(n);
  }

  // 2. pair counts and where each pair occurs
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: 1 | -1, changed: Set<number>) => {
    const syms = words[w]!;
    for (let i = 0; i + 1 < syms.length; i++) {
      const key = syms[i]! * PAIR + syms[i + 1]!;
      pairCount.set(key, (pairCount.get(key) ?? 0) + sign * freq[w]!);
      changed.add(key);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };
  const heap = new PairHeap();
  const initial = new Set<number>();
  for (let w = 0; w < words.length; w++) addPairs(w, 1, initial);
  for (const key of initial) heap.push(pairCount.get(key)!, key);

  // 3. merges
  const tokens: string[] = [...BYTE_TO_CHAR];
  const merges: [string, string][] = [];
  let nextId = 256;
  while (merges.length < nMerges && heap.size > 0) {
    const [count, key] = heap.pop();
    const current = pairCount.get(key) ?? 0;
    if (count !== current) continue; // stale: every change pushed a fresh entry
    if (current < minFrequency) break;
    const a = Math.floor(key / PAIR), b = key % PAIR;
    const str = tokens[a]! + tokens[b]!;
    let id = vocab.get(str);
    if (id === undefined) { id = nextId++; vocab.set(str, id); tokens[id] = str; }
    merges.push([tokens[a]!, tokens[b]!]);

    const changed = new Set<number>();
    for (const w of pairWords.get(key) ?? []) {
      const syms = words[w]!;
      let has = false;
      for (let i = 0; i + 1 < syms.length; i++) if (syms[i] === a && syms[i + 1] === b) { has = true; break; }
      if (!has) continue;
      addPairs(w, -1, changed);
      const next: number[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) { next.push(id); i++; }
        else next.push(syms[i]!);
      }
      words[w] = next;
      addPairs(w, 1, changed);
    }
    pairWords.delete(key);
    pairCount.delete(key);
    for (const k of changed) {
      const n = pairCount.get(k) ?? 0;
      if (n <= 0) pairCount.delete(k);
      else if (k !== key) heap.push(n, k);
    }
  }

  const addedTokens = specials.map((content, i) => ({ content, id: nextId + i, special: true }));
  for (const t of addedTokens) vocab.set(t.content, t.id);
  return new Tokenizer({ ...base, vocab, merges, addedTokens });
}
