import { describe, expect, it } from 'vitest';
import { DataError } from '../errors.ts';
import { parseJsonl } from './jsonl.ts';
import { sftExampleFromRow } from './sft-load.ts';

const load = (text: string) => parseJsonl(text, 's.jsonl').map((row) => sftExampleFromRow('s.jsonl', row));

describe('SFT file rows', () => {
  it('reads prompt/completion, messages and text rows', () => {
    expect(load([
      '{"prompt": "He goed.", "completion": "He went."}',
      '{"messages": [{"role": "system", "content": "Fix it."}, {"role": "user", "content": "He goed."}, {"role": "assistant", "content": "He went."}]}',
      '{"text": "plain"}',
    ].join('\n'))).toEqual([
      { kind: 'prompt-completion', prompt: 'He goed.', completion: 'He went.', line: 1 },
      { kind: 'chat', turns: [{ role: 'system', content: 'Fix it.', train: false }, { role: 'user', content: 'He goed.', train: false }, { role: 'assistant', content: 'He went.', train: true }], line: 2 },
      { kind: 'text', text: 'plain', line: 3 },
    ]);
  });

  it.each([
    ['{"prompt": "a"}', 'completion'],
    ['{"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}', 'messages[1].role'],
    ['{"messages": [{"role": "user", "content": 1}, {"role": "assistant", "content": "b"}]}', 'messages[0].content'],
    ['{"other": 1}', 'prompt'],
  ])('%s → DataError on field %s', (text, field) => {
    expect(() => load(text)).toThrow(DataError);
    try { load(text); } catch (e) { expect(e).toMatchObject({ file: 's.jsonl', line: 1, field }); }
  });
});
