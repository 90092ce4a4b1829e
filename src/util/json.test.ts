import { describe, expect, it } from 'vitest';
import { jsonDepth, MAX_JSON_DEPTH, oneLine, parseJson, show } from './json.ts';

const fail = (msg: string, e?: { cause: unknown; position?: number }): never => { throw Object.assign(new Error(msg), { position: e?.position }); };

describe('util/json', () => {
  it('jsonDepth counts nesting, skips brackets inside strings (escaped quotes too), stops past the limit', () => {
    expect(jsonDepth('{"a": [1, {"b": []}]}')).toBe(4);
    expect(jsonDepth('{"a": "[[[[\\"[[[["}')).toBe(1);
    expect(jsonDepth('1')).toBe(0);
    expect(jsonDepth('['.repeat(1_000_000), 10)).toBe(11);
  });

  it('parseJson refuses deep nesting before parsing and reports V8\'s position on one line', () => {
    expect(() => parseJson('['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1), fail)).toThrow(`nested more than ${MAX_JSON_DEPTH} levels deep`);
    expect(parseJson('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH), fail)).toBeInstanceOf(Array);
    let err: Error & { position?: number } = new Error();
    try { parseJson('{\n "a": 1,\n}', fail); } catch (e) { err = e as typeof err; }
    expect(err.message).toMatch(/^invalid JSON: /);
    expect(err.message).not.toContain('\n');
    expect(err.position).toBeGreaterThan(0);
  });

  it('show and oneLine keep messages short and on one line', () => {
    expect(show('x'.repeat(100))).toBe(JSON.stringify(`${'x'.repeat(60)}…`));
    expect(show(JSON.parse('['.repeat(50) + ']'.repeat(50)))).toBe('an array of 1');
    expect(show({ a: 1 })).toBe('an object');
    expect(show(null)).toBe('null');
    expect(oneLine('a\nb\u2028c')).toBe('a\\nb\\u2028c');
  });
});
