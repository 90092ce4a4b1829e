import { readJsonl, type JsonlRow } from './jsonl.ts';
import { isParquet, readParquet } from './parquet.ts';

/**
 * The rows of a data file: JSON Lines, or Parquet when the name ends in `.parquet` (row k is
 * "line" k in every later error). What the SFT and probe loaders read.
 */
export function readRows(file: string): JsonlRow[] {
  return isParquet(file) ? readParquet(file) : readJsonl(file);
}
