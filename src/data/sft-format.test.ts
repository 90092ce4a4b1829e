import { tokenizerFixtures } from '../../test/util.ts';
import { describe, expect, it } from 'vitest';
import { fromHfJson } from '../tokenizer/hf-json.ts';
import { EOT, SEP } from '../tokenizer/special.ts';
import { trainBpe } from '../tokenizer/train.ts';
import { encodeDocuments, encodeGenerationPrompt, encodeSft, encodeSftPrompt, sequenceTokens, sftPrompt, sftText, usesDelimiter } from './sft-format.ts';
import { generateSft } from '../corpus/sft.ts';

describe('SFT formatting', () => {
  const rows = generateSft({ seed: 1, rows: 200 });
  const tok = trainBpe(rows.map((r) => sftText(r.prompt, r.completion)), { vocabSize: 400 });

  it('text: prompt<|sep|>completion<|endoftext|>', () => {
    expect(sftText('He goed home.', 'He went home.')).toBe(`He goed home.${SEP}He went home.${EOT}`);
    expect(sftPrompt('He goed home.')).toBe(`He goed home.${SEP}`);
  });

  it('ids equal encoding the joined text with special tokens; loss on completion + eos only', () => {
    for (const r of rows.slice(0, 50)) {
      const enc = encodeSft(tok, r.prompt, r.completion);
      expect(enc.ids).toEqual(tok.encode(sftText(r.prompt, r.completion), { allowSpecial: true }));
      expect(enc.ids[enc.promptLength - 1]).toBe(tok.specialId(SEP));
      expect(enc.ids.at(-1)).toBe(tok.specialId(EOT));
      expect(enc.lossMask.slice(0, enc.promptLength).every((m) => m === 0)).toBe(true);
      expect(enc.lossMask.slice(enc.promptLength).every((m) => m === 1)).toBe(true);
      expect(tok.decode(enc.ids.slice(enc.promptLength, -1))).toBe(r.completion);
      expect(encodeSftPrompt(tok, r.prompt)).toEqual(enc.ids.slice(0, enc.promptLength));
    }
  });

  it('a literal "<|sep|>" inside user text stays text', () => {
    const enc = encodeSft(tok, `a ${SEP} b`, 'c');
    expect(enc.ids.filter((id) => id === tok.specialId(SEP))).toHaveLength(1);
  });

  it('encodeDocuments packs lines and appends <|endoftext|> where missing', () => {
    const ids = encodeDocuments(tok, `He went.${SEP}Fue.${EOT}\n\nplain line\n`);
    const eot = tok.specialId(EOT);
    expect(ids.filter((i) => i === eot)).toHaveLength(2);
    expect(tok.decode(ids)).toBe(`He went.${SEP}Fue.${EOT}plain line${EOT}`);
  });
});

describe('SFT formatting with a Hugging Face model\'s tokenizer (no <|sep|>, no <|endoftext|>): TRL\'s rule', () => {
  const { llama2: json, llama2Config: cfg } = tokenizerFixtures();
  const llama = fromHfJson(json, 'tokenizer.json', { json: cfg, file: 'tokenizer_config.json' });
  const rows = generateSft({ seed: 2, rows: 40 });

  it('sequences start with bos (<s>) and end with eos (</s>); ours keep <|endoftext|> at both ends', () => {
    expect(sequenceTokens(llama)).toEqual({ start: 1, end: 2 });
    expect(usesDelimiter(llama)).toBe(false);
    const ours = trainBpe(['a b c'], { vocabSize: 270 });
    expect(sequenceTokens(ours)).toEqual({ start: ours.specialId(EOT), end: ours.specialId(EOT) });
    expect(usesDelimiter(ours)).toBe(true);
    const noEos = fromHfJson(json, 'tokenizer.json', { json: { ...cfg, eos_token: null }, file: 'c.json' });
    expect(() => sequenceTokens(noEos)).toThrow(/neither <\|endoftext\|> nor an eos_token/);
  });

  it('ids: the tokenizer\'s encoding of prompt + completion, then </s>; loss past the prompt\'s own encoding', () => {
    for (const r of rows) {
      const enc = encodeSft(llama, r.prompt, r.completion);
      expect(enc.ids).toEqual([...llama.encode(r.prompt + r.completion, { addSpecial: true }), 2]);
      expect(enc.ids[0]).toBe(1);
      const p = llama.encode(r.prompt, { addSpecial: true });
      expect(enc.ids.slice(0, enc.promptLength)).toEqual(p.slice(0, enc.promptLength));
      expect(enc.promptLength).toBeGreaterThan(1);
      expect(enc.promptLength).toBeLessThanOrEqual(p.length);
      expect(enc.lossMask).toEqual(enc.ids.map((_, i) => (i < enc.promptLength ? 0 : 1)));
      expect(encodeSftPrompt(llama, r.prompt)).toEqual(p);
      expect(encodeGenerationPrompt(llama, r.prompt)).toEqual(p);
    }
    // a token spanning the boundary ("th" + "e cat": "▁the") counts as completion
    const enc = encodeSft(llama, 'th', 'e cat');
    expect(enc.promptLength).toBe(1);
    expect(llama.decode(enc.ids.slice(enc.promptLength, -1))).toBe('the cat');
  });

  it('a template that appends eos (add_eos_token) does not end the prompt part', () => {
    const eos = fromHfJson({ ...json, post_processor: null }, 'tokenizer.json', { json: { ...cfg, add_eos_token: true }, file: 'c.json' });
    const enc = encodeSft(eos, 'He goed home.', ' He went home.');
    expect(enc.ids.filter((id) => id === 2)).toHaveLength(1);
    expect(enc.ids.at(-1)).toBe(2);
    expect(encodeGenerationPrompt(eos, 'He goed home.').at(-1)).not.toBe(2);
  });

  it('encodeDocuments ends each document with </s>', () => {
    const ids = encodeDocuments(llama, 'one line\nanother');
    expect(ids.filter((i) => i === 2)).toHaveLength(2);
    expect(ids.at(-1)).toBe(2);
  });
});
