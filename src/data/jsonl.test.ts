import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../errors.ts';
import { parseJsonl, readJsonl, RowReader, toJsonl } from './jsonl.ts';

describe('JSONL', () => {
  it('keeps 1-based line numbers and skips blank lines (CRLF too)', () => {
    const rows = parseJsonl('{"a":1}\r\n\n  \n{"b":"é"}\n', 'x.jsonl');
    expect(rows).toEqual([{ line: 1, value: { a: 1 } }, { line: 4, value: { b: 'é' } }]);
  });

  it('a malformed line is a DataError naming file:line', () => {
    const err = (() => { try { parseJsonl('{"a":1}\n{"a":\n', 'data/x.jsonl'); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).file).toBe('data/x.jsonl');
    expect((err as DataError).line).toBe(2);
    expect((err as Error).message).toMatch(/^data\/x\.jsonl:2: malformed JSON/);
  });

  it('reads files; a missing file is a DataError naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fmn-jsonl-'));
    const file = join(dir, 'rows.jsonl');
    writeFileSync(file, toJsonl([{ prompt: 'a', completion: 'b' }, { prompt: 'c', completion: 'd' }]));
    expect(readJsonl(file).map((r) => r.line)).toEqual([1, 2]);
    expect(() => readJsonl(join(dir, 'nope.jsonl'))).toThrow(/nope\.jsonl: no such file/);
    writeFileSync(join(dir, 'latin1.jsonl'), Buffer.concat([Buffer.from('{"text": "ok"}\n{"text": "caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]));
    expect(() => readJsonl(join(dir, 'latin1.jsonl'))).toThrow(/latin1\.jsonl:2: is not valid UTF-8/);
  });

  it('RowReader names file, line and field', () => {
    const r = RowReader.of('f.jsonl', { line: 7, value: { a: 3, b: [] } });
    expect(() => r.string('a')).toThrow('f.jsonl:7, field "a": expected a string, got number');
    expect(() => r.stringArray('b')).toThrow(/field "b"/);
    expect(() => RowReader.of('f.jsonl', { line: 2, value: [1] })).toThrow('f.jsonl:2: expected a JSON object');
  });
});
