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

/** The run context of a command: its backend and threads, logs on stderr, progress unless --quiet, a stop request for signals. */
export function contextOf(values: Resolved['values']): RunContext & { stop: { requested: boolean } } {
  const backend = selectBackend({ kind: (values.backend as 'auto' | 'js' | 'native' | undefined), threads: values.threads as number | undefined });
  return { backend, log, progress: progressTo(process.stderr, values.quiet ? 'silent' : undefined), stop: { requested: false } };
}

/** Exit code of a run stopped by SIGINT / SIGTERM (128 + SIGINT's 2, as shells report it). */
export const INTERRUPTED = 130;

/**
 * While `work` runs, the first SIGINT or SIGTERM asks training to stop after its current step and
 * save its state (every state file is written whole, then renamed); a second exits at once —
 * nothing on disk is half-written either way. Returns what `work` returns.
 */
export async function withSignals<T>(stop: { requested: boolean }, what: string, work: () => Promise<T>): Promise<T> {
  let count = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      stop.requested = true;
      log(`\n${sig}: finishing the current step of ${what} and saving its state (${sig} again to exit at once)`);
    } else {
      log(`${sig}: exiting now; the last saved state is intact`);
      process.exit(INTERRUPTED);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try { return await work(); } finally { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); }
}

/** Prints `x` as one JSON line on stdout when --json was given. */
export function printJson(values: Resolved['values'], x: unknown): void {
  if (values.json) process.stdout.write(JSON.stringify(x) + '\n');
}
