import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../errors.ts';
import { groupProbes, loadProbes, parseProbes } from './probes.ts';

const BLIMP = join(process.cwd(), '../shared/data/external/blimp-irregular/irregular_past_participle_verbs.jsonl');

describe('probe files', () => {
  it('reads every kind into typed items', () => {
    const text = [
      '{"kind": "pair", "good": "He went home.", "bad": ["He goed home."], "probe": "task", "tags": {"verb": "go"}}',
      '{"kind": "text", "text": "She worked at home yesterday.", "probe": "control"}',
      '{"kind": "choice", "context": "The sky is", "choices": [" blue", " loud"], "label": 0}',
      '{"kind": "generate", "prompt": "He goed home.<|sep|>", "expected": "He went home.", "probe": "task"}',
      '{"sentence_good": "Teresa hid every senator.", "sentence_bad": "Teresa hidden every senator.", "UID": "irregular_past_participle_verbs"}',
    ].join('\n');
    const items = parseProbes(text, 'p.jsonl', { defaultProbe: 'p' });
    expect(items.map((i) => i.kind)).toEqual(['pair', 'text', 'choice', 'generate', 'pair']);
    expect(items[0]).toMatchObject({ good: 'He went home.', bad: ['He goed home.'], tags: { verb: 'go' }, source: { file: 'p.jsonl', line: 1 } });
    expect(items[2]).toMatchObject({ probe: 'p', label: 0 });
    expect(items[4]).toMatchObject({ good: 'Teresa hid every senator.', bad: ['Teresa hidden every senator.'], tags: { UID: 'irregular_past_participle_verbs' } });
    expect([...groupProbes(items).keys()]).toEqual(['task', 'control', 'p']);
  });

  it('reads lm-eval\'s multiple-choice docs (query, choices, gold) as choice items with lm-eval\'s " " delimiter', () => {
    const [it0] = parseProbes('{"query": "Question: 2+2? Answer:", "choices": ["4", "5"], "gold": 0, "id": "x"}', 'arc.jsonl', { defaultProbe: 'arc' });
    expect(it0).toMatchObject({ kind: 'choice', context: 'Question: 2+2? Answer:', choices: [' 4', ' 5'], label: 0, probe: 'arc' });
    expect(() => parseProbes('{"query": "q", "choices": ["a"], "gold": 1}', 'arc.jsonl')).toThrow(/arc\.jsonl:1, field "gold": must index choices \(0\.\.0\), got 1/);
  });

  it.each([
    ['{"kind": "quiz", "text": "x"}', 1, 'kind', /unknown probe kind "quiz"/],
    ['{"kind": "pair", "good": "a"}', 1, 'bad', /non-empty array/],
    ['\n{"kind": "text"}', 2, 'text', /missing string field/],
    ['{"kind": "choice", "context": "c", "choices": ["a", "b"], "label": 2}', 1, 'label', /must index choices/],
    ['{"kind": "generate", "prompt": "p", "expected": 3}', 1, 'expected', /expected a string/],
  ])('rejects %s naming line and field', (text, line, field, msg) => {
    try {
      parseProbes(text, 'bad.jsonl');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DataError);
      expect(e).toMatchObject({ file: 'bad.jsonl', line, field });
      expect((e as Error).message).toMatch(msg);
    }
  });

  it.skipIf(!existsSync(BLIMP))('reads the BLiMP irregular_past_participle_verbs file as 1000 pairs', () => {
    const items = loadProbes(BLIMP);
    expect(items).toHaveLength(1000);
    expect(items.every((i) => i.kind === 'pair' && i.probe === 'irregular_past_participle_verbs')).toBe(true);
  });
  if (!existsSync(BLIMP)) it.skip(`BLiMP check skipped: ${BLIMP} not found`, () => {});
});
