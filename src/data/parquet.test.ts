import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../errors.ts';
import { loadProbes } from './probes.ts';
import { readParquet } from './parquet.ts';
import { loadSft } from './sft-load.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmn-parquet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, columnData: Parameters<typeof parquetWriteBuffer>[0]['columnData'], codec?: 'SNAPPY' | 'UNCOMPRESSED'): string {
  const file = join(dir, name);
  writeFileSync(file, new Uint8Array(parquetWriteBuffer({ columnData, ...(codec && { codec }) })));
  return file;
}

describe('Parquet data files', () => {
  it('SFT rows from Parquet equal the same rows from JSONL: prompt/completion, and messages as list<struct>', () => {
    const prompts = ['He goed home.', 'She eated fish.', 'Ça va? 日本語 😀'];
    const completions = ['He went home.', 'She ate fish.', 'Oui.'];
    for (const codec of ['SNAPPY', 'UNCOMPRESSED'] as const) {
      const pq = write(`pc-${codec}.parquet`, [{ name: 'prompt', data: prompts, type: 'STRING' }, { name: 'completion', data: completions, type: 'STRING' }], codec);
      const jl = join(dir, 'pc.jsonl');
      writeFileSync(jl, prompts.map((p, i) => JSON.stringify({ prompt: p, completion: completions[i] })).join('\n') + '\n');
      expect(loadSft(pq)).toEqual(loadSft(jl));
    }
    const messages = [[{ role: 'user', content: 'He goed.' }, { role: 'assistant', content: 'He went.' }]];
    const pm = write('messages.parquet', [{ name: 'messages', data: messages }]);
    expect(loadSft(pm)).toEqual([{ kind: 'chat', turns: [{ role: 'user', content: 'He goed.', train: false }, { role: 'assistant', content: 'He went.', train: true }], line: 1 }]);
  });

  it('probe rows from Parquet, named after the file; a bad row names file, row and field', () => {
    const file = write('task.parquet', [
      { name: 'kind', data: ['pair', 'pair'], type: 'STRING' },
      { name: 'good', data: ['He went.', 'She ate.'], type: 'STRING' },
      { name: 'bad', data: ['He goed.', null], type: 'STRING' },
    ]);
    let err: unknown;
    try { loadProbes(file); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(DataError);
    expect(err).toMatchObject({ file, line: 2, field: 'bad' });
    const ok = write('ok.parquet', [{ name: 'kind', data: ['pair'], type: 'STRING' }, { name: 'good', data: ['He went.'], type: 'STRING' }, { name: 'bad', data: ['He goed.'], type: 'STRING' }]);
    expect(loadProbes(ok)).toMatchObject([{ kind: 'pair', probe: 'ok', good: 'He went.', bad: ['He goed.'] }]);
  });

  it('a file that is not Parquet, or is cut short, is a DataError naming it (no crash, no stack)', () => {
    const junk = join(dir, 'junk.parquet');
    writeFileSync(junk, 'prompt,completion\na,b\n'.repeat(10));
    expect(() => readParquet(junk)).toThrow(DataError);
    const good = readFileSync(write('cut.parquet', [{ name: 'prompt', data: ['a'], type: 'STRING' }]));
    const cut = join(dir, 'cut-short.parquet');
    writeFileSync(cut, good.subarray(0, good.length - 9));
    expect(() => readParquet(cut)).toThrow(/cut-short\.parquet.*not a readable Parquet file/);
    expect(() => readParquet(join(dir, 'none.parquet'))).toThrow(/no such file/);
  });
});
