/**
 * Parquet rows (the files `datasets` users have on disk: `train-00000-of-00001.parquet`), read
 * with hyparquet (pure JavaScript; snappy, gzip, brotli, zstd, lz4 through
 * hyparquet-compressors). hyparquet is asynchronous and the data loaders are not, so the file is
 * decoded in a child Node process that prints the rows as JSON: the loaders stay synchronous,
 * and a malformed file cannot take this process down with it.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { DataError } from '../errors.ts';
import { oneLine, parseJson } from '../util/json.ts';
import type { JsonlRow } from './jsonl.ts';

/** The child: decodes FILE and writes its rows as one JSON array (64-bit integers as numbers when exact, else strings). */
const CHILD = (hyparquet: string, compressors: string) => `
const [{ parquetReadObjects }, { compressors }, { readFileSync }] = await Promise.all([import(${JSON.stringify(hyparquet)}), import(${JSON.stringify(compressors)}), import('node:fs')]);
const b = readFileSync(process.argv[1]);
try {
  const rows = await parquetReadObjects({ file: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength), compressors });
  const big = (k, v) => typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : String(v)) : v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v;
  process.stdout.write(JSON.stringify(rows, big));
} catch (e) { process.stderr.write(String(e && e.message || e)); process.exit(1); }
`;

/** Parquet's magic number, at both ends of the file. */
const MAGIC = 'PAR1';

/** Whether `file` is read as Parquet (by its extension). */
export const isParquet = (file: string): boolean => /\.parquet$/i.test(file);

/** Reads a Parquet file's rows; row k is reported as "line" k (1-based) in every later error. */
export function readParquet(file: string): JsonlRow[] {
  let size: number;
  try { size = statSync(file).size; } catch (e) {
    throw new DataError((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot read: ${(e as Error).message}`, { file }, { cause: e });
  }
  if (size < 12) throw new DataError(`is ${size} bytes, too short for a Parquet file`, { file });
  const child = CHILD(import.meta.resolve('hyparquet'), import.meta.resolve('hyparquet-compressors'));
  let out: string;
  try {
    out = execFileSync(process.execPath, ['--input-type=module', '-e', child, file], {
      encoding: 'utf8', maxBuffer: Math.min(2 ** 31 - 1, 64 * 2 ** 20 + 32 * size), stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const stderr = String((e as { stderr?: unknown }).stderr ?? '').trim();
    const why = stderr.split('\n').filter((l) => l.trim() !== '').at(-1) ?? (e as Error).message;
    throw new DataError(`is not a readable Parquet file${why.includes(MAGIC) || /magic/i.test(why) ? ' (no PAR1 magic number)' : ''}: ${oneLine(why).slice(0, 300)}`, { file }, { cause: e });
  }
  const rows = parseJson(out, (msg) => { throw new DataError(`decoding it gave ${msg}`, { file }); });
  if (!Array.isArray(rows)) throw new DataError('did not decode to rows', { file });
  return rows.map((value, i) => ({ line: i + 1, value }));
}
