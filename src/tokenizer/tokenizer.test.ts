import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCorpus } from '../corpus/corpus.ts';
import { DataError } from '../errors.ts';
import { fromHfJson, loadTokenizer, saveTokenizer } from './hf-json.ts';
import { compilePattern, GPT4_PATTERN, splitIsolated } from './pretokenize.ts';
import { EOT, PAD, SEP } from './special.ts';
import { trainBpe } from './train.ts';

const { files } = buildCorpus({ seed: 1, pretrain: { tokens: 60_000 }, sft: { rows: 300 } });
const pretrain = files.get('pretrain.txt')!;
const lines = pretrain.trimEnd().split('\n');
const tok = trainBpe([pretrain, files.get('sft.jsonl')!], { vocabSize: 512 });

describe('byte-level BPE training', () => {
  it("minbpe's worked example: aaabdaaabac", () => {
    const t = trainBpe(['aaabdaaabac'], { vocabSize: 259, specials: [] });
    expect(t.config.merges).toEqual([['a', 'a'], ['a', 'b'], ['aa', 'ab']]);
    expect(t.encode('aaabdaaabac')).toEqual([258, 100, 258, 97, 99]);
    expect(t.decode([258, 100, 258, 97, 99])).toBe('aaabdaaabac');
  });

  it('vocabulary: 256 bytes, merges, then the special tokens', () => {
    expect(tok.vocabSize).toBe(512);
    expect(tok.config.merges).toHaveLength(512 - 256 - 3);
    expect([EOT, PAD, SEP].map((s) => tok.specialId(s))).toEqual([509, 510, 511]);
    expect(tok.encode('A')).toEqual([65]);
  });

  it('the delimiter is one token, only when special tokens are allowed', () => {
    const text = `He went home.${SEP}Él fue a casa.${EOT}`;
    const ids = tok.encode(text, { allowSpecial: true });
    expect(ids.filter((i) => i === tok.specialId(SEP))).toHaveLength(1);
    expect(ids.at(-1)).toBe(tok.specialId(EOT));
    const plain = tok.encode(text);
    expect(plain.some((i) => tok.isSpecial(i))).toBe(false);
    expect(tok.decode(plain)).toBe(text);
    expect(tok.decode(ids, { skipSpecial: true })).toBe('He went home.Él fue a casa.');
  });

  it('learns the corpus: common words become single tokens', () => {
    expect(tok.encode(' the')).toHaveLength(1);
    const s = 'He went to the store yesterday.';
    expect(tok.encode(s).length).toBeLessThan(s.length / 2);
  });

  it('is deterministic', () => {
    const again = trainBpe([pretrain, files.get('sft.jsonl')!], { vocabSize: 512 });
    expect(again.config.merges).toEqual(tok.config.merges);
  });

  it('rejects a vocabulary too small for bytes + specials', () => {
    expect(() => trainBpe(['x'], { vocabSize: 258 })).toThrow(RangeError);
  });
});

describe('round trip', () => {
  it('decode(encode(s)) = s for arbitrary Unicode (property)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => tok.decode(tok.encode(s)) === s), { numRuns: 400 });
  });

  it('… for text made of corpus pieces, accents and specials mixed (property)', () => {
    const pieces = ['Él', ' fue', ' años', 'ñ', 'ü', ' 東京', '🙂', '\n', '  ', "'s", ' café', SEP, EOT, ' went', '¿', '?', '\t', 'é'];
    fc.assert(fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 30 }), (parts) => {
      const s = parts.join('');
      return tok.decode(tok.encode(s)) === s && tok.decode(tok.encode(s, { allowSpecial: true })) === s;
    }), { numRuns: 300 });
  });

  it('… for arbitrary UTF-8 bytes (decoded as text first)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      const s = new TextDecoder().decode(bytes);
      return tok.decode(tok.encode(s)) === s;
    }), { numRuns: 300 });
  });

  it('Spanish accents and ¿? survive', () => {
    for (const s of ['¿Él ha comido la sopa?', 'Mañana iré a la estación. Ñandú, pingüino, acción.']) expect(tok.decode(tok.encode(s))).toBe(s);
  });
});

describe('tokenizer.json (Hugging Face format)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fmn-tok-'));
  const file = saveTokenizer(tok, dir);
  const json = JSON.parse(readFileSync(file, 'utf8'));
  const hf = new HfTokenizer(json, {});

  it('has the HF layout', () => {
    expect(json.model.type).toBe('BPE');
    expect(json.pre_tokenizer).toMatchObject({ type: 'ByteLevel', use_regex: true, add_prefix_space: false });
    expect(json.decoder.type).toBe('ByteLevel');
    expect(json.added_tokens.map((t: { content: string; special: boolean }) => [t.content, t.special])).toEqual([[EOT, true], [PAD, true], [SEP, true]]);
    expect(json.model.merges[0]).toMatch(/^\S+ \S+$/);
  });

  it('@huggingface/tokenizers encodes 1,000 corpus lines to the same ids', () => {
    const sample = lines.slice(0, 1000);
    expect(sample).toHaveLength(1000);
    for (const line of sample) expect(hf.encode(line).ids, line).toEqual(tok.encode(line, { allowSpecial: true }));
    for (const line of sample.slice(0, 50)) expect(hf.decode(tok.encode(line, { allowSpecial: true }), { clean_up_tokenization_spaces: false })).toBe(line);
  });

  it('… and odd text without special tokens', () => {
    for (const s of ['  leading spaces', 'tabs\tand\nnewlines\n\n', "it's 2024: 12345 ¡hola! 東京 🙂", 'a  b   c']) {
      expect(hf.encode(s).ids, s).toEqual(tok.encode(s));
    }
  });

  it('loads back identically (file or directory)', () => {
    for (const t of [loadTokenizer(file), loadTokenizer(dir)]) {
      expect(t.config.merges).toEqual(tok.config.merges);
      for (const line of lines.slice(0, 100)) expect(t.encode(line, { allowSpecial: true })).toEqual(tok.encode(line, { allowSpecial: true }));
    }
  });

  it('loads a Llama-3-style file: Split regex + ByteLevel(use_regex false), [a, b] merges, ignore_merges', () => {
    const llama = structuredClone(json);
    llama.pre_tokenizer = {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: GPT4_PATTERN }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    };
    llama.model.merges = llama.model.merges.map((m: string) => m.split(' '));
    llama.model.ignore_merges = true;
    const ours = fromHfJson(llama, 'llama.json');
    const theirs = new HfTokenizer(llama, {});
    for (const s of [...lines.slice(0, 200), "He'S here. I'LL GO, 1234567 times!\r\n  ok"]) {
      expect(ours.encode(s, { allowSpecial: true }), s).toEqual(theirs.encode(s).ids);
      expect(ours.decode(ours.encode(s, { allowSpecial: true }))).toBe(s);
    }
  });

  it('the GPT-4 pattern works in JS (case-insensitive contractions, 1–3 digit groups)', () => {
    expect(splitIsolated("He'S 12345 ok", compilePattern(GPT4_PATTERN))).toEqual(['He', "'S", ' ', '123', '45', ' ok']);
  });

  it.each([
    ['not json at all', { line: 1 }, /malformed JSON/],
    ['{\n  "model": {\n    "type": "BPE",\n  }\n}', { line: 4 }, /malformed JSON/],
    ['{"model": {"type": "WordPiece", "vocab": {}}}', { field: 'model.type' }, /only BPE/],
    ['{"model": {"type": "BPE", "vocab": {"a": "x"}, "merges": []}}', { field: 'model.vocab.a' }, /integer id/],
    ['{"model": {"type": "BPE", "vocab": {}, "merges": []}, "pre_tokenizer": {"type": "ByteLevel"}}', { field: 'model.vocab' }, /lacks byte/],
    ['{"model": {"type": "BPE", "vocab": {}, "merges": [3]}, "pre_tokenizer": {"type": "ByteLevel"}}', { field: 'model.merges[0]' }, /expected "a b"/],
    ['{"model": {"type": "BPE", "vocab": {}, "merges": []}, "pre_tokenizer": {"type": "Whitespace"}}', { field: 'pre_tokenizer.type' }, /unsupported pre-tokenizer/],
    ['{"model": {"type": "BPE", "vocab": {}, "merges": [], "byte_fallback": true}}', { field: 'model.byte_fallback' }, /byte_fallback/],
  ])('a broken file is a DataError naming file, line or field: %s', (text, where, msg) => {
    const bad = join(dir, 'broken.json');
    writeFileSync(bad, text);
    try {
      loadTokenizer(bad);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DataError);
      expect(e).toMatchObject({ file: bad, ...where });
      expect((e as Error).message).toMatch(msg);
    }
  });

  it('a merge naming a token missing from the vocabulary is reported with its index', () => {
    const broken = structuredClone(json);
    broken.model.merges[3] = 'zz qq';
    expect(() => fromHfJson(broken, 't.json')).toThrow(/t\.json, field "model\.merges\[3\]"/);
  });
});
