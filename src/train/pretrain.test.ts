import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createJsBackend } from '../backend/js/index.ts';
import { encodeDocuments, splitDocuments } from '../data/sft-format.ts';
import { trainBpe } from '../tokenizer/train.ts';
import { holdOut, pretrain, PRETRAIN_RECIPE_DEFAULTS } from './pretrain.ts';

const play = `ROMEO:
But soft, what light through yonder window breaks?
It is the east, and Juliet is the sun.

JULIET:
O Romeo, Romeo! wherefore art thou Romeo?

ROMEO:
Shall I hear more, or shall I speak at this?
`;

describe('documents', () => {
  it('lines, blank-line and file split the same text three ways; line ends stay inside paragraphs and files', () => {
    expect(splitDocuments(play, 'lines')).toHaveLength(7);
    const paras = splitDocuments(play, 'blank-line');
    expect(paras).toEqual(['ROMEO:\nBut soft, what light through yonder window breaks?\nIt is the east, and Juliet is the sun.',
      'JULIET:\nO Romeo, Romeo! wherefore art thou Romeo?', 'ROMEO:\nShall I hear more, or shall I speak at this?']);
    expect(splitDocuments(play, 'file')).toEqual([play.replace(/\n+$/, '')]);
    expect(splitDocuments('a\r\nb\r\n\r\nc', 'blank-line')).toEqual(['a\nb', 'c']);
    expect(splitDocuments('  \n\n', 'file')).toEqual([]);
  });

  it('a stream of paragraphs holds the newline tokens that the one-line-a-document stream drops', () => {
    const tok = trainBpe([play], { vocabSize: 300 });
    const nl = tok.encode('\n');
    const has = (ids: number[]) => ids.some((x, i) => nl.every((y, k) => ids[i + k] === y));
    expect(has(encodeDocuments(tok, play, 'lines'))).toBe(false);
    expect(has(encodeDocuments(tok, play, 'blank-line'))).toBe(true);
    expect(encodeDocuments(tok, play, 'file').filter((x) => x === tok.specialId('<|endoftext|>'))).toHaveLength(1);
  });

  it('held-out text: every Nth document, or the tail of each when there are too few documents', () => {
    const docs = Array.from({ length: 10 }, (_, i) => `doc ${i}`);
    expect(holdOut(docs, 5).held).toEqual(['doc 4', 'doc 9']);
    const one = holdOut(['line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\nline 9\nline 10\n'], 5);
    expect(one.train[0] + one.held[0]).toBe('line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\nline 9\nline 10\n');
    expect(one.held[0].startsWith('line')).toBe(true);                       // cut at a line end
  });

  it('fmn pretrain --documents file trains on a play as it reads (windows across line ends) and records the mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fmn-docs-'));
    writeFileSync(join(dir, 'play.txt'), play.repeat(30));
    const r = await pretrain({ ...PRETRAIN_RECIPE_DEFAULTS, text: [join(dir, 'play.txt')], documents: 'file', vocab: 300, out: join(dir, 'm'), preset: 'micro',
      steps: 3, batch: 2, seqLen: 32, evalEvery: 3, saveEvery: 0 }, { backend: createJsBackend(), log: () => {} });
    expect(Number.isFinite(r.heldOutLoss)).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'm', 'config.resolved.json'), 'utf8')).documents).toBe('file');
  });
});
