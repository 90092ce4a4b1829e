import { selectBackend } from '../backend/select.ts';
import { renderHelp } from '../config/argv.ts';
import { resolveArgv, type Resolved } from '../config/resolve.ts';
import type { Schema } from '../config/schema.ts';
import type { RunContext } from '../backend/context.ts';
import { progressTo } from '../util/progress.ts';

/** Logs go to stderr so that `--json` output on stdout stays machine-readable. */
export const log = (line: string): void => { process.stderr.write(line + '\n'); };

/** The command line resolved against its schema, or null after printing `--help`. */
export function parseCommand(schema: Schema, argv: string[]): Resolved | null {
  const r = resolveArgv(schema, argv);
  if (r.help) { process.stdout.write(renderHelp(schema) + '\n'); return null; }
  return r;
}

/** The run context of a command: its backend and threads, logs on stderr, progress unless --quiet. */
export function contextOf(values: Resolved['values']): RunContext {
  const backend = selectBackend({ kind: (values.backend as 'auto' | 'js' | 'native' | undefined), threads: values.threads as number | undefined });
  return { backend, log, progress: progressTo(process.stderr, values.quiet ? 'silent' : undefined) };
}

/** Prints `x` as one JSON line on stdout when --json was given. */
export function printJson(values: Resolved['values'], x: unknown): void {
  if (values.json) process.stdout.write(JSON.stringify(x) + '\n');
}
