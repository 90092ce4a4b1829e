import { describe, expect, it } from 'vitest';
import { EOT, SEP } from '../tokenizer/special.ts';
import { trainBpe } from '../tokenizer/train.ts';
import { encodeDocuments, encodeSft, encodeSftPrompt, sftPrompt, sftText } from './sft-format.ts';
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
