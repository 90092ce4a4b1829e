/**
 * Typed errors. Library code throws these; only cli/ prints them and picks exit codes
 * (ConfigError and DataError are user mistakes → exit 2; the rest are internal → exit 3).
 */

export interface ErrorContext {
  /** File the problem was found in. */
  file?: string;
  /** 1-based line number inside `file`. */
  line?: number;
  /** Field / key path (e.g. `lora.rank`). */
  field?: string;
}

abstract class FmnError extends Error {
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;
  /** The message without its location (what is wrong, not where). */
  readonly reason: string;
  /** True when the user can fix it (bad input, bad usage): exit code 2. */
  abstract readonly userError: boolean;

  constructor(message: string, ctx: ErrorContext = {}, options?: { cause?: unknown }) {
    super(formatMessage(message, ctx), options);
    this.reason = message;
    this.name = new.target.name;
    this.file = ctx.file;
    this.line = ctx.line;
    this.field = ctx.field;
  }
}

function formatMessage(message: string, ctx: ErrorContext): string {
  const where: string[] = [];
  if (ctx.file !== undefined) where.push(ctx.line !== undefined ? `${ctx.file}:${ctx.line}` : ctx.file);
  if (ctx.field !== undefined) where.push(`field "${ctx.field}"`);
  return where.length > 0 ? `${where.join(', ')}: ${message}` : message;
}

/** Bad configuration or usage: an option, a config file key, a CLI flag. */
export class ConfigError extends FmnError {
  readonly userError = true;
}

/** Bad input data: a JSONL row, a corpus file, a probe file, a tokenizer file. */
export class DataError extends FmnError {
  readonly userError = true;
}

/** A checkpoint or safetensors file that cannot be read or does not fit the model. */
export class CheckpointError extends FmnError {
  readonly userError = true;
}

/** Tensor shapes that do not fit an op: a programming error, not a user one. */
export class ShapeError extends FmnError {
  readonly userError = false;
}

/** A backend that cannot run (addon missing, unsupported dtype). */
export class BackendError extends FmnError {
  readonly userError = false;
}

export function isUserError(e: unknown): e is ConfigError | DataError | CheckpointError {
  return e instanceof FmnError && e.userError;
}
