/**
 * The loaders' fuzz campaign (scripts/fuzz.ts), small: a few hundred mutated files across the
 * six formats, each run in a child process with a time and memory limit, must end loaded or as
 * a typed user error. The full campaign (≥ 18 000 cases) is `npx tsx scripts/fuzz.ts`. The
 * classifier itself is checked on cases that misbehave on purpose.
 */
import { describe, expect, it } from 'vitest';
import { campaign, FAILURES, FORMATS, runCases, summarize, type CaseId } from '../scripts/fuzz.ts';
import { patternHazard, GPT2_PATTERN, GPT4_PATTERN } from '../src/tokenizer/pretokenize.ts';

describe('fuzz', () => {
  it('a small campaign over the six formats: no untyped error, crash, hang or runaway memory', async () => {
    const results = await runCases(campaign(300), { seed: 7, jobs: 2, batch: 75, timeoutMs: 20_000 });
    const s = summarize(results, 7, 0);
    expect(s.cases).toBe(300);
    for (const f of s.formats) expect(f.cases, f.format).toBe(50);
    expect(s.failures.map((f) => `${f.outcome} ${f.format} #${f.index}: ${f.detail} (${f.label})`)).toEqual([]);
    // the mutations reach past the parsers: some files still load, most are refused with a typed error
    expect(results.filter((r) => r.outcome === 'OK').length).toBeGreaterThan(10);
    expect(results.filter((r) => r.outcome === 'USER_ERROR').length).toBeGreaterThan(150);
    expect(FORMATS.length).toBe(6);
  }, 120_000);

  it('the classifier flags an untyped throw, a hang, a crash and runaway memory, and passes OK and user errors', async () => {
    const kinds = ['ok', 'user', 'untyped', 'hang', 'crash', 'memory'];
    const ids: CaseId[] = kinds.map((_, index) => ({ format: 'self', index }));
    const results = await runCases(ids, { seed: 1, jobs: 1, batch: 6, timeoutMs: 3_000 });
    const got = Object.fromEntries(results.map((r) => [kinds[r.index]!, r.outcome]));
    expect(got).toEqual({ ok: 'OK', user: 'USER_ERROR', untyped: 'UNTYPED', hang: 'HANG', crash: 'CRASH', memory: 'MEMORY' });
    expect(results.find((r) => r.outcome === 'UNTYPED')!.detail).toMatch(/TypeError/);
    expect(FAILURES).toEqual(['UNTYPED', 'CRASH', 'HANG', 'MEMORY']);
  }, 60_000);

  it('pre-tokenizer patterns that backtrack catastrophically are refused; published ones pass', () => {
    for (const p of [GPT2_PATTERN, GPT4_PATTERN, String.raw`\p{N}{1,3}`, String.raw`(?:\r\n)+`, String.raw`\s*[\r\n]+`]) expect(patternHazard(p), p).toBeUndefined();
    for (const p of ['(a+)+$', '(a|a)*$', String.raw`(\w+\s?)*$`, '(a?){28}a{28}', '(.*a){12}', 'a*a*a*b', 'a*a*$', String.raw`(a)\1`]) expect(patternHazard(p), p).toBeDefined();
  });
});
