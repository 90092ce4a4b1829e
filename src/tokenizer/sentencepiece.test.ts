/**
 * The SentencePiece-style model (Llama-2, Mistral): its pieces against the Rust crate's own test
 * vectors, the fixtures' behaviour on hand-checked cases, tokenizer_config.json, writing back, and
 * errors. Parity with @huggingface/tokenizers on thousands of lines is in parity.test.ts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataError, isUserError } from '../errors.ts';
import { NO_BYTE_LEVEL, Tokenizer, type AddedToken } from './bpe.ts';
import { fromHfJson, loadTokenizer, saveTokenizer, toHfJson } from './hf-json.ts';
import { byteOfToken, byteToken, metaspacePieces, normalizeText, runDecoders, type DecoderStep, type SentencePieceConfig } from './sentencepiece.ts';
import { TOKENIZER_FIXTURES, tokenizerFixtures } from '../../test/util.ts';

type Json = any;

const FIX = TOKENIZER_FIXTURES;
const { llama2: LLAMA2, llama2Config: LLAMA2_CONFIG, legacy: LEGACY, mixed: lines } = tokenizerFixtures();

const llama = loadTokenizer(join(FIX, 'llama2'));
const legacy = loadTokenizer(join(FIX, 'metaspace-legacy'));
const tokens = (tok: Tokenizer, ids: readonly number[]) => ids.map((i) => tok.idToToken(i));

describe('sentencepiece.ts pieces (the Rust crate\'s test vectors)', () => {
  it('byte tokens: <0xNN> names, read as Rust reads them', () => {
    expect(byteToken(10)).toBe('<0x0A>');
    expect(byteToken(255)).toBe('<0xFF>');
    expect([byteOfToken('<0x0a>'), byteOfToken('<0xE5>'), byteOfToken('<0x+F>')]).toEqual([10, 0xe5, 15]);
    expect([byteOfToken('<0x1g>'), byteOfToken('<0xABC>'), byteOfToken('<0x41'), byteOfToken('a')]).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('ByteFallback decoder: a valid run is its text, an invalid one U+FFFD per byte', () => {
    const bf: DecoderStep[] = [{ type: 'ByteFallback' }];
    expect(runDecoders(['Hey', 'friend!'], bf)).toBe('Heyfriend!');
    expect(runDecoders(['<0x61>'], bf)).toBe('a');
    expect(runDecoders(['<0xE5>'], bf)).toBe('\ufffd');
    expect(runDecoders(['<0xE5>', '<0x8f>'], bf)).toBe('\ufffd\ufffd');
    expect(runDecoders(['<0xE5>', '<0x8f>', '<0xab>'], bf)).toBe('叫');
    expect(runDecoders(['<0xE5>', '<0x8f>', '<0xab>', 'a'], bf)).toBe('叫a');
    expect(runDecoders(['<0xE5>', '<0x8f>', 'a'], bf)).toBe('\ufffd\ufffda');
  });

  it('Metaspace decoder: the first token loses its "▁"s unless prepend_scheme is never; Strip; no decoder joins with " "', () => {
    const ms = (prependScheme: 'always' | 'never'): DecoderStep[] => [{ type: 'Metaspace', replacement: '▁', prependScheme, split: true }];
    expect(runDecoders(['▁Hey', '▁friend!'], ms('always'))).toBe('Hey friend!');
    expect(runDecoders(['▁Hey', '▁friend!'], ms('never'))).toBe(' Hey friend!');
    expect(runDecoders(['▁▁a', '▁b'], ms('always'))).toBe('a b');
    const strip = (start: number, stop: number): DecoderStep[] => [{ type: 'Strip', content: ' ', start, stop }];
    expect(runDecoders(['  x  '], strip(1, 0))).toBe(' x  ');
    expect(runDecoders(['  x  '], strip(5, 1))).toBe('x ');
    expect(runDecoders([' '], strip(1, 1))).toBe('');
    expect(runDecoders(['a', 'b'], null)).toBe('a b');
    expect(runDecoders(['a', 'b'], [])).toBe('ab');
  });

  it('Metaspace pre-tokenizer: split before each "▁"; prepend_scheme first only where the input starts', () => {
    const m = { replacement: '▁', prependScheme: 'always' as const, split: true };
    expect(metaspacePieces('Hey friend!', m, true)).toEqual(['▁Hey', '▁friend!']);
    expect(metaspacePieces('Hey   friend!', m, true)).toEqual(['▁Hey', '▁', '▁', '▁friend!']);
    expect(metaspacePieces('▁already', m, false)).toEqual(['▁already']);
    const first = { replacement: '▁', prependScheme: 'first' as const, split: false };
    expect(metaspacePieces(' Hey ', first, true)).toEqual(['▁Hey▁']);
    expect(metaspacePieces('how are you', first, false)).toEqual(['how▁are▁you']);
    expect(metaspacePieces('Hey friend', { ...m, prependScheme: 'never' }, true)).toEqual(['Hey', '▁friend']);
  });

  it('Prepend only prepends to non-empty text', () => {
    const steps = [{ type: 'Prepend' as const, prepend: '▁' }, { type: 'Replace' as const, pattern: ' ', content: '▁' }];
    expect(normalizeText('', steps)).toBe('');
    expect(normalizeText(' a b', steps)).toBe('▁▁a▁b');
  });
});

describe('Llama-2-style tokenizer (test/fixtures/tokenizers/llama2)', () => {
  it('loads with its tokenizer_config.json: style, BOS/EOS/PAD/UNK', () => {
    expect(llama.style).toBe('sentencepiece');
    expect(llama.vocabSize).toBe(Object.keys(LLAMA2.model.vocab).length);
    expect([llama.bos, llama.eos, llama.pad, llama.unk]).toEqual([1, 2, null, 0]);
    expect(tokens(llama, [llama.bos!, llama.eos!, llama.unk!])).toEqual(['<s>', '</s>', '<unk>']);
  });

  it('"▁" marks spaces and the start; the decoder gives the text back', () => {
    const ids = llama.encode('a b');
    expect(tokens(llama, ids)).toEqual(['▁a', '▁b']);
    expect(llama.decode(ids)).toBe('a b');
    expect(tokens(llama, llama.encode('a   b'))).toEqual(['▁a', '▁▁', '▁b']);   // no split: whitespace runs are pieces, as in Llama-2
  });

  it('byte fallback: a character missing from the vocabulary is its UTF-8 bytes', () => {
    expect(llama.config.vocab.has('ქ')).toBe(false);
    const ids = llama.encode('ქ');
    expect(tokens(llama, ids)).toEqual(['▁', '<0xE1>', '<0x83>', '<0xA5>']);
    expect(llama.decode(ids)).toBe('ქ');
    const emoji = '𓀀 👍🏽';
    expect(llama.decode(llama.encode(emoji))).toBe(emoji);
  });

  it('addSpecial adds what the template says (BOS only); allowSpecial matches <s> </s> in text', () => {
    const plain = llama.encode('a b');
    expect(llama.encode('a b', { addSpecial: true })).toEqual([1, ...plain]);
    const text = '<s>a b</s>';
    const ids = llama.encode(text, { allowSpecial: true });
    expect(ids[0]).toBe(1);
    expect(ids.at(-1)).toBe(2);
    expect(tokens(llama, ids.slice(1, -1))).toEqual(['▁a', '▁b']);   // each stretch between added tokens gets its own "▁"
    const literal = llama.encode(text);
    expect(literal.some((i) => llama.isSpecial(i))).toBe(false);
    expect(llama.decode(literal)).toBe(text);
    expect(llama.decode(ids)).toBe('<s> a b</s>');   // HF: the added token passes through the decoder chain; Strip only cuts the very first space
    expect(llama.decode(ids, { skipSpecial: true })).toBe('a b');
  });

  it('decodes an invalid byte run to U+FFFD per byte and an unknown id to a DataError', () => {
    const b = (x: number) => llama.tokenToId(byteToken(x))!;
    expect(llama.decode([b(0xe5), b(0x8f), llama.tokenToId('▁a')!])).toBe('\ufffd\ufffd a');
    expect(llama.decodeBytes(llama.encode('añ'))).toEqual(new TextEncoder().encode('añ'));
    expect(() => llama.decode([llama.vocabSize])).toThrow(DataError);
    expect(() => llama.decode([-1])).toThrow(DataError);
  });

  it('decode(encode(s)) = s for arbitrary text without a leading space or added-token strings (property)', () => {
    // the Strip decoder removes the leading space the normalizer added: a text's own leading space goes with it (as in HF)
    const text = fc.string({ unit: 'binary', maxLength: 60 }).map((s) => s.replace(/^ +/, '').replace(/<\/?s>|<unk>/g, '').replace(/[\ud800-\udfff]/g, '?'));
    fc.assert(fc.property(text, (s) => llama.decode(llama.encode(s)) === s), { numRuns: 300 });
  });

  it('a 100,000-character word (a SentencePiece-style line is one word) encodes without quadratic cost', () => {
    const s = 'the cat sat on the mat '.repeat(4348);
    const t0 = performance.now();
    const ids = llama.encode(s);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(llama.decode(ids)).toBe(s);
  });

  it('legacy=false shape (Metaspace prepend_scheme "first", split false): no "▁" after an added token', () => {
    const j = structuredClone(LLAMA2);
    j.normalizer = null;
    j.pre_tokenizer = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false };
    const tok = fromHfJson(j, 'first.json');
    // the Rust crate's vector: " Hey <s>how" → "▁Hey▁", "<s>", "how"
    const ids = tok.encode(' Hey <s>how', { allowSpecial: true });
    const at = ids.indexOf(1);
    expect(tokens(tok, ids.slice(0, at)).join('')).toBe('▁Hey▁');
    expect(tokens(tok, ids.slice(at + 1)).join('')).toBe('how');
    expect(tokens(tok, tok.encode('how')).join('')).toBe('▁how');
  });
});

describe('legacy Metaspace tokenizer (test/fixtures/tokenizers/metaspace-legacy)', () => {
  it('Metaspace with add_prefix_space (no prepend_scheme, no split): always, split', () => {
    expect(legacy.config.sentencePiece?.metaspace).toEqual({ replacement: '▁', prependScheme: 'always', split: true });
    expect(legacy.pretokenize('Hey   friend!')).toEqual(['▁Hey', '▁', '▁', '▁friend!']);
    expect([legacy.bos, legacy.eos, legacy.pad, legacy.unk]).toEqual([1, 2, null, 0]);   // no tokenizer_config.json: from the template and the model
    const ids = legacy.encode('hi', { addSpecial: true });
    expect([ids[0], ids.at(-1)]).toEqual([1, 2]);
  });

  it('the Metaspace decoder leaves <0xNN> tokens as they are (as HF)', () => {
    expect(legacy.decode(legacy.encode('x ☃'))).toBe('x <0xE2><0x98><0x83>');
  });

  it('split: merges never cross a "▁", unlike the no-split shape', () => {
    // a tiny vocabulary where "▁▁" and "a▁" are pieces: with split, "a  b" is "▁a", "▁", "▁b"
    const vocab = new Map(['<unk>', '▁', 'a', 'b', '▁a', '▁b', '▁▁', 'a▁'].map((t, i) => [t, i]));
    const merges: [string, string][] = [['a', '▁'], ['▁', '▁'], ['▁', 'a'], ['▁', 'b']];
    const sp = (split: boolean): SentencePieceConfig => ({
      normalizers: [], metaspace: { replacement: '▁', prependScheme: 'always', split }, byteFallback: false, unkToken: '<unk>', fuseUnk: false, decoders: null,
    });
    const make = (split: boolean) => new Tokenizer({ vocab, merges, addedTokens: [], preTokenizer: NO_BYTE_LEVEL, normalizer: null, ignoreMerges: false, sentencePiece: sp(split) });
    expect(tokens(make(true), make(true).encode('a  b'))).toEqual(['▁a', '▁', '▁b']);
    expect(tokens(make(false), make(false).encode('a  b'))).toEqual(['▁', 'a▁', '▁b']);
  });

  it('without byte fallback: unk per unknown character, one per run with fuse_unk, dropped without an unk token', () => {
    const variant = (patch: (m: Json) => void) => { const j = structuredClone(LEGACY); patch(j.model); return fromHfJson(j, 'unk.json'); };
    const unfused = variant((m) => { m.byte_fallback = false; m.fuse_unk = false; });
    const fused = variant((m) => { m.byte_fallback = false; m.fuse_unk = true; });
    const none = variant((m) => { m.byte_fallback = false; m.unk_token = null; });
    expect(tokens(unfused, unfused.encode('☃☃!'))).toEqual(['▁', '<unk>', '<unk>', '!']);
    expect(tokens(fused, fused.encode('☃☃!'))).toEqual(['▁', '<unk>', '!']);
    expect(tokens(none, none.encode('☃☃!'))).toEqual(['▁', '!']);
    expect(fused.decode(fused.encode('☃☃!'))).toBe('<unk>!');
  });
});

describe('where tokenizers.js and the Rust crate differ, the Rust behaviour', () => {
  const sp: SentencePieceConfig = { normalizers: [], metaspace: null, byteFallback: false, unkToken: '<unk>', fuseUnk: true, decoders: [{ type: 'ByteFallback' }, { type: 'Fuse' }] };
  const make = (vocabList: string[], merges: [string, string][], config: Partial<SentencePieceConfig> = {}, addedTokens: AddedToken[] = []) => new Tokenizer({
    vocab: new Map(vocabList.map((t, i) => [t, i])), merges, addedTokens, preTokenizer: NO_BYTE_LEVEL, normalizer: null, ignoreMerges: false, sentencePiece: { ...sp, ...config },
  });

  it('the unk symbol takes part in merges (merge_word adds it to the word before merge_all)', () => {
    const tok = make(['<unk>', 'b', '<unk>b'], [['<unk>', 'b']]);
    expect(tokens(tok, tok.encode('☃☃b'))).toEqual(['<unk>b']);
  });

  it('byte-fallback tokens take part in merges', () => {
    const bytes = Array.from({ length: 256 }, (_, b) => byteToken(b));
    const tok = make([...bytes, '<0xE2><0x98>'], [['<0xE2>', '<0x98>']], { byteFallback: true, unkToken: null });
    expect(tokens(tok, tok.encode('☃'))).toEqual(['<0xE2><0x98>', '<0x83>']);
  });

  it('a U+FEFF decoded from byte tokens stays', () => {
    const bytes = Array.from({ length: 256 }, (_, b) => byteToken(b));
    const tok = make(bytes, [], { byteFallback: true, unkToken: null });
    expect(tok.decode(tok.encode('\ufeffa'))).toBe('\ufeffa');
  });

  it('a normalized added token matches only its normalized text; a leftover stretch equal to its raw text is ordinary text', () => {
    const tok = make(['<unk>', '▁', '<', 'p', '>', '<pad>'], [], { normalizers: [{ type: 'Prepend', prepend: '▁' }] }, [{ id: 5, content: '<pad>', special: true, normalized: true }]);
    const ids = tok.encode('<pad><pad>', { allowSpecial: true });
    expect(ids[0]).toBe(5);   // "▁<pad>", the normalized content, matched
    expect(ids.slice(1)).not.toContain(5);
  });
});

describe('the merge loop (both styles): lowest rank first, one at a time, as HF', () => {
  // "y x" builds "yx", but "yx y" outranks it (SentencePiece-converted merge lists do this): on "yxyx"
  // HF merges the first "y x", then "yx y", leaving "x"; merging every "y x" at once would give "yx yx".
  const vocab = new Map(['y', 'x', 'yx', 'yxy', 'yxyx'].map((t, i) => [t, i]));
  const merges: [string, string][] = [['yx', 'y'], ['y', 'x'], ['yx', 'yx']];
  const sp: SentencePieceConfig = { normalizers: [], metaspace: null, byteFallback: false, unkToken: null, fuseUnk: false, decoders: [] };
  const tok = new Tokenizer({ vocab, merges, addedTokens: [], preTokenizer: NO_BYTE_LEVEL, normalizer: null, ignoreMerges: false, sentencePiece: sp });

  it('gives HF\'s ids where merging all occurrences at once would not', () => {
    expect(tokens(tok, tok.encode('yxyx'))).toEqual(['yxy', 'x']);
    const hf = new HfTokenizer(toHfJson(tok), {});
    for (const s of ['yxyx', 'yxyxyx', 'xyxyxyy', 'yyxxyx']) expect(tok.encode(s), s).toEqual(hf.encode(s).ids);
  });

  it('matches @huggingface/tokenizers on random vocabularies with merges in random order (property)', () => {
    // two letters: overlapping pairs are common, so merge order matters often (about 1 case in 30 differs from merging every occurrence at once)
    const alphabet = ['a', 'b'];
    const piece = fc.array(fc.constantFrom(...alphabet), { minLength: 2, maxLength: 5 }).map((cs) => cs.join(''));
    const model = fc.tuple(fc.uniqueArray(piece, { minLength: 1, maxLength: 25 }), fc.integer()).map(([pieces, seed]) => {
      const vocab = new Map<string, number>();
      for (const t of [...alphabet, ...pieces]) if (!vocab.has(t)) vocab.set(t, vocab.size);
      const merges: [string, string][] = [];
      for (const p of pieces) for (let i = 1; i < p.length; i++) if (vocab.has(p.slice(0, i)) && vocab.has(p.slice(i))) merges.push([p.slice(0, i), p.slice(i)]);
      // a deterministic shuffle: ranks unrelated to how pieces are built
      let s = seed >>> 0;
      for (let i = merges.length - 1; i > 0; i--) { s = (Math.imul(s, 1103515245) + 12345) >>> 0; const j = s % (i + 1); [merges[i], merges[j]] = [merges[j]!, merges[i]!]; }
      return { vocab, merges };
    });
    const text = fc.array(fc.constantFrom(...alphabet), { maxLength: 40 }).map((cs) => cs.join(''));
    fc.assert(fc.property(model, fc.array(text, { minLength: 1, maxLength: 5 }), ({ vocab, merges }, texts) => {
      const ours = new Tokenizer({ vocab, merges, addedTokens: [], preTokenizer: NO_BYTE_LEVEL, normalizer: null, ignoreMerges: false, sentencePiece: sp });
      const theirs = new HfTokenizer(toHfJson(ours), {});
      return texts.every((t) => JSON.stringify(ours.encode(t)) === JSON.stringify(theirs.encode(t).ids));
    }), { numRuns: 300 });
  });
});

describe('tokenizer_config.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fmn-tokcfg-'));
  const write = (name: string, json: Json, config?: Json | string) => {
    const d = join(dir, name);
    saveTokenizer(fromHfJson(json, 'x.json'), d);   // writes tokenizer.json
    if (config !== undefined) writeFileSync(join(d, 'tokenizer_config.json'), typeof config === 'string' ? config : JSON.stringify(config));
    return d;
  };

  it('bos/eos/pad/unk as strings or {content}; add_bos/add_eos apply when tokenizer.json has no template', () => {
    const j = structuredClone(LLAMA2);
    j.post_processor = null;
    const tok = loadTokenizer(write('cfg', j, { bos_token: { content: '<s>' }, eos_token: '</s>', pad_token: '</s>', unk_token: '<unk>', add_bos_token: true, add_eos_token: true }));
    expect([tok.bos, tok.eos, tok.pad, tok.unk]).toEqual([1, 2, 2, 0]);
    const ids = tok.encode('a b', { addSpecial: true });
    expect([ids[0], ids.at(-1)]).toEqual([1, 2]);
    expect(tok.encode('a b')).toEqual(ids.slice(1, -1));
  });

  it('tokenizer.json\'s template wins over add_eos_token', () => {
    const tok = loadTokenizer(write('both', LLAMA2, { ...LLAMA2_CONFIG, add_eos_token: true }));
    expect(tok.encode('a', { addSpecial: true })).toEqual([1, ...tok.encode('a')]);
  });

  it('no tokenizer_config.json, no template: no BOS/EOS, addSpecial adds nothing', () => {
    const j = structuredClone(LLAMA2);
    j.post_processor = null;
    const tok = loadTokenizer(write('none', j));
    expect([tok.bos, tok.eos, tok.pad, tok.unk]).toEqual([null, null, null, 0]);
    expect(tok.encode('a', { addSpecial: true })).toEqual(tok.encode('a'));
  });

  it('saveTokenizer writes it back; the reloaded tokenizer has the same specials and ids', () => {
    const d = join(dir, 'saved');
    saveTokenizer(llama, d);
    expect(JSON.parse(readFileSync(join(d, 'tokenizer_config.json'), 'utf8'))).toEqual({ add_bos_token: true, add_eos_token: false, bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>' });
    const back = loadTokenizer(d);
    expect([back.bos, back.eos, back.pad, back.unk]).toEqual([llama.bos, llama.eos, llama.pad, llama.unk]);
    for (const line of lines.slice(0, 300)) expect(back.encode(line, { allowSpecial: true, addSpecial: true })).toEqual(llama.encode(line, { allowSpecial: true, addSpecial: true }));
  });

  it.each([
    ['{"bos_token": "<nope>"}', { field: 'bos_token' }, /neither in the vocabulary/],
    ['{"bos_token": 5}', { field: 'bos_token' }, /string or \{"content"/],
    ['{"eos_token": {"text": "</s>"}}', { field: 'eos_token' }, /string or \{"content"/],
    ['{"add_bos_token": "yes"}', { field: 'add_bos_token' }, /true or false/],
    ['[1]', { field: '(root)' }, /JSON object/],
    ['{\n  "bos_token": "<s>",\n}', { line: 3 }, /malformed JSON/],
  ])('a broken tokenizer_config.json is a DataError naming it: %s', (text, where, msg) => {
    const d = write(`bad-${Math.random().toString(36).slice(2)}`, LLAMA2, text);
    try {
      loadTokenizer(d);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DataError);
      expect(e).toMatchObject({ file: join(d, 'tokenizer_config.json'), ...where });
      expect((e as Error).message).toMatch(msg);
    }
  });

  it('add_bos_token without a bos_token (and no template) is a DataError', () => {
    const j = structuredClone(LLAMA2);
    j.post_processor = null;
    const d = write('nobos', j, { add_bos_token: true });
    expect(() => loadTokenizer(d)).toThrow(/field "add_bos_token".*no bos_token/);
  });
});

describe('writing back (toHfJson)', () => {
  const variants: [string, Json][] = [
    ['llama2', LLAMA2],
    ['metaspace-legacy', LEGACY],
    ['legacy=false', { ...structuredClone(LLAMA2), normalizer: null, pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false } }],
    ['unk, no byte fallback, one-step Sequences', { ...structuredClone(LEGACY), model: { ...LEGACY.model, byte_fallback: false, fuse_unk: true }, pre_tokenizer: { type: 'Sequence', pretokenizers: [LEGACY.pre_tokenizer] }, decoder: { type: 'Sequence', decoders: [LEGACY.decoder] } }],
  ];

  it.each(variants)('%s: load → save → load gives identical ids, and saving again the same file', (_name, json) => {
    const a = fromHfJson(json, 'a.json');
    const written = toHfJson(a);
    const b = fromHfJson(JSON.parse(JSON.stringify(written)), 'b.json');
    expect(toHfJson(b)).toEqual(written);
    for (const line of lines) {
      for (const opts of [{}, { allowSpecial: true, addSpecial: true }]) expect(b.encode(line, opts)).toEqual(a.encode(line, opts));
    }
    expect((written as Json).model.vocab).toEqual(json.model.vocab);
  });

  it('keeps the shape: normalizer, decoder, template, merges as the source wrote them', () => {
    const w = toHfJson(llama) as Json;
    expect(w.normalizer).toEqual(LLAMA2.normalizer);
    expect(w.pre_tokenizer).toBeNull();
    expect(w.decoder).toEqual(LLAMA2.decoder);
    expect(w.post_processor).toEqual(LLAMA2.post_processor);
    expect(w.model.merges).toEqual(LLAMA2.model.merges);
    expect(w.added_tokens).toEqual(LLAMA2.added_tokens);
    expect(w.model).toMatchObject({ byte_fallback: true, fuse_unk: true, unk_token: '<unk>' });
    const l = toHfJson(legacy) as Json;
    expect(l.pre_tokenizer).toEqual({ type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true });
    expect(l.model.merges).toEqual(LEGACY.model.merges.map((m: string[]) => m.join(' ')));
  });

  it('writes merges as pairs when a token holds a space', () => {
    const vocab = new Map(['a', ' ', 'a '].map((t, i) => [t, i]));
    const sp: SentencePieceConfig = { normalizers: [], metaspace: null, byteFallback: false, unkToken: null, fuseUnk: false, decoders: null };
    const tok = new Tokenizer({ vocab, merges: [['a', ' ']], addedTokens: [], preTokenizer: NO_BYTE_LEVEL, normalizer: null, ignoreMerges: false, sentencePiece: sp });
    const w = toHfJson(tok) as Json;
    expect(w.model.merges).toEqual([['a', ' ']]);
    expect(fromHfJson(w).encode('a a ')).toEqual([2, 2]);
  });
});

describe('broken SentencePiece-style files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fmn-spbad-'));
  const cases: [string, (j: Json) => void, object, RegExp][] = [
    ['an unsupported decoder step', (j) => { j.decoder.decoders[2] = { type: 'CTC' }; }, { field: 'decoder.decoders[2].type' }, /unsupported decoder "CTC"/],
    ['an unsupported normalizer step', (j) => { j.normalizer.normalizers[0] = { type: 'Lowercase' }; }, { field: 'normalizer.normalizers[0].type' }, /unsupported normalizer "Lowercase"/],
    ['a Regex pattern in Replace', (j) => { j.normalizer.normalizers[1].pattern = { Regex: ' ' }; }, { field: 'normalizer.normalizers[1].pattern' }, /not Regex/],
    ['an empty Replace pattern', (j) => { j.decoder.decoders[0].pattern = { String: '' }; }, { field: 'decoder.decoders[0].pattern.String' }, /non-empty/],
    ['a huge Replace content', (j) => { j.normalizer.normalizers[1].content = '▁'.repeat(1000); }, { field: 'normalizer.normalizers[1].content' }, /longer than 64/],
    ['a Prepend that is not a string', (j) => { j.normalizer.normalizers[0].prepend = 5; }, { field: 'normalizer.normalizers[0].prepend' }, /expected a string/],
    ['Metaspace without replacement', (j) => { j.pre_tokenizer = { type: 'Metaspace' }; }, { field: 'pre_tokenizer.replacement' }, /one character/],
    ['Metaspace with a two-character replacement', (j) => { j.pre_tokenizer = { type: 'Metaspace', replacement: '▁▁' }; }, { field: 'pre_tokenizer.replacement' }, /one character/],
    ['an unknown prepend_scheme', (j) => { j.pre_tokenizer = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'sometimes' }; }, { field: 'pre_tokenizer.prepend_scheme' }, /"always", "first" or "never"/],
    ['add_prefix_space false with prepend_scheme always', (j) => { j.pre_tokenizer = { type: 'Metaspace', replacement: '▁', add_prefix_space: false, prepend_scheme: 'always' }; }, { field: 'pre_tokenizer.add_prefix_space' }, /contradicts/],
    ['split that is not a boolean', (j) => { j.decoder = { type: 'Metaspace', replacement: '▁', split: 'yes' }; }, { field: 'decoder.split' }, /true or false/],
    ['another pre-tokenizer beside Metaspace', (j) => { j.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'Metaspace', replacement: '▁' }, { type: 'Digits' }] }; }, { field: 'pre_tokenizer.pretokenizers[1].type' }, /unsupported pre-tokenizer "Digits"/],
    ['Strip with a two-character content', (j) => { j.decoder.decoders[3].content = '  '; }, { field: 'decoder.decoders[3].content' }, /one character/],
    ['Strip with a negative start', (j) => { j.decoder.decoders[3].start = -1; }, { field: 'decoder.decoders[3].start' }, /non-negative integer/],
    ['a WordPiece decoder in the chain', (j) => { j.decoder.decoders.push({ type: 'WordPiece' }); }, { field: 'decoder.decoders[4].type' }, /unsupported decoder/],
    ['Sequences nested too deep', (j) => { let d: Json = { type: 'Fuse' }; for (let i = 0; i < 20; i++) d = { type: 'Sequence', decoders: [d] }; j.decoder = d; }, {}, /nested more than 8 deep/],
    ['an unk_token missing from the vocabulary', (j) => { j.model.unk_token = '<nope>'; }, { field: 'model.unk_token' }, /"<nope>" is not in the vocabulary/],
    ['an unk_token that is not a string', (j) => { j.model.unk_token = 3; }, { field: 'model.unk_token' }, /string or null/],
    ['byte_fallback with a byte token missing', (j) => { delete j.model.vocab['<0x7F>']; }, { field: 'model.byte_fallback' }, /lacks the byte token <0x7F>/],
    ['byte_fallback that is not a boolean', (j) => { j.model.byte_fallback = 'yes'; }, { field: 'model.byte_fallback' }, /true or false/],
    ['a template token missing from special_tokens', (j) => { j.post_processor.single[0].SpecialToken.id = '<x>'; }, { field: 'post_processor.single[0].SpecialToken.id' }, /key of special_tokens/],
    ['a template id outside the vocabulary', (j) => { j.post_processor.special_tokens['<s>'].ids = [99999]; }, { field: 'post_processor.special_tokens.<s>.ids' }, /not in the vocabulary/],
    ['a template without $A', (j) => { j.post_processor.single = [j.post_processor.single[0]]; }, { field: 'post_processor.single' }, /\$A once/],
    ['an unsupported post-processor', (j) => { j.post_processor = { type: 'Foo' }; }, { field: 'post_processor.type' }, /unsupported post-processor "Foo"/],
    ['byte_fallback with a ByteLevel pre-tokenizer', (j) => { j.pre_tokenizer = { type: 'ByteLevel' }; j.normalizer = null; }, { field: 'model.byte_fallback' }, /ByteLevel/],
  ];

  it.each(cases)('%s: a DataError naming file and field', (_name, patch, where, msg) => {
    const j = structuredClone(LLAMA2);
    patch(j);
    const file = join(dir, 'tokenizer.json');
    writeFileSync(file, JSON.stringify(j));
    try {
      loadTokenizer(file);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DataError);
      expect(e).toMatchObject({ file, ...where });
      expect((e as Error).message).toMatch(msg);
    }
  });

  it('random damage to the file is a DataError or a working tokenizer, never a crash (property)', () => {
    const paths = ['normalizer', 'normalizer.normalizers', 'normalizer.normalizers.0', 'normalizer.normalizers.1.pattern', 'pre_tokenizer', 'decoder', 'decoder.decoders',
      'decoder.decoders.1', 'decoder.decoders.3.start', 'post_processor', 'post_processor.single', 'post_processor.special_tokens', 'model.unk_token', 'model.byte_fallback',
      'model.fuse_unk', 'model.vocab.<0x00>', 'model.vocab.▁a', 'model.merges.0', 'added_tokens.0', 'added_tokens.1.normalized'];
    const values = [null, true, false, 0, -1, 1.5, 99999, '', '▁', 'x'.repeat(100), [], [1], {}, { type: 'Metaspace', replacement: '▁' }, { type: 'Sequence' },
      { type: 'Replace', pattern: { String: 'a' }, content: 'b' }, { type: 'Strip', content: ' ', start: 1e9, stop: 1e9 }, { type: 'Prepend', prepend: '' }];
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(...paths), fc.constantFrom(...values)), { minLength: 1, maxLength: 3 }), (edits) => {
      const j = structuredClone(LLAMA2);
      for (const [path, value] of edits) {
        const keys = path.split('.');
        let o = j;
        for (const k of keys.slice(0, -1)) { if (o === null || typeof o !== 'object') break; o = o[k]; }
        if (o !== null && typeof o === 'object') o[keys.at(-1)!] = structuredClone(value);
      }
      let tok: Tokenizer;
      try { tok = fromHfJson(j, 'damaged.json'); } catch (e) { if (isUserError(e)) return true; throw e; }
      for (const s of ['He went home.', 'a  b\t<s>ქ</s> 🙂', '']) {
        for (const opts of [{}, { allowSpecial: true, addSpecial: true }]) {
          const ids = tok.encode(s, opts);
          if (ids.some((i) => !Number.isInteger(i) || i < 0 || i >= tok.vocabSize)) return false;
          tok.decode(ids);
        }
      }
      return true;
    }), { numRuns: 200 });
  });
});
