/**
 * JSON Lines: one JSON value per line. Blank lines are skipped; every row keeps its 1-based line
 * number so that later validation (probe files, SFT files) can name the file, line and field.
 */
import { readText } from '../util/fs.ts';
import { DataError } from '../errors.ts';
import { parseJson } from '../util/json.ts';

export interface JsonlRow {
  /** 1-based line number in the file. */
  line: number;
  value: unknown;
}

/** Parses JSONL text. A malformed line is a DataError naming `file:line`. */
export function parseJsonl(text: string, file = '<string>'): JsonlRow[] {
  const rows: JsonlRow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const value = parseJson(raw, (msg, e) => { throw new DataError(msg, { file, line: i + 1 }, e && { cause: e.cause }); }, 'malformed JSON');
    rows.push({ line: i + 1, value });
  }
  return rows;
}

/** Reads a JSONL file; a missing file or a malformed line is a DataError. */
export function readJsonl(file: string): JsonlRow[] {
  return parseJsonl(readText(file), file);
}

/** Serializes rows as JSONL (one compact JSON object a line, trailing newline). */
export function toJsonl(rows: readonly unknown[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length > 0 ? '\n' : '');
}

/** Helpers for validating one row's fields with file/line/field context. */
export class RowReader {
  constructor(readonly file: string, readonly line: number, readonly obj: Record<string, unknown>) {}

  static of(file: string, row: JsonlRow): RowReader {
    if (typeof row.value !== 'object' || row.value === null || Array.isArray(row.value)) {
      throw new DataError('expected a JSON object', { file, line: row.line });
    }
    return new RowReader(file, row.line, row.value as Record<string, unknown>);
  }

  fail(field: string, message: string): never {
    throw new DataError(message, { file: this.file, line: this.line, field });
  }

  has(field: string): boolean {
    return this.obj[field] !== undefined;
  }

  string(field: string): string {
    const v = this.obj[field];
    if (typeof v !== 'string') this.fail(field, v === undefined ? 'missing string field' : `expected a string, got ${typeof v}`);
    return v;
  }

  optString(field: string): string | undefined {
    return this.has(field) ? this.string(field) : undefined;
  }

  stringArray(field: string): string[] {
    const v = this.obj[field];
    if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string')) {
      this.fail(field, 'expected a non-empty array of strings');
    }
    return v as string[];
  }

  integer(field: string): number {
    const v = this.obj[field];
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(field, 'expected an integer');
    return v;
  }

  stringRecord(field: string): Record<string, string> | undefined {
    const v = this.obj[field];
    if (v === undefined) return undefined;
    if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
      this.fail(field, 'expected an object of strings');
    }
    return v as Record<string, string>;
  }
}
