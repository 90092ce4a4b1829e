import type { Backend } from '../backend/backend.ts';

/** What every recipe is handed explicitly: no hidden globals. */
export interface RunContext {
  backend: Backend;
  /** Progress and notes (stderr in the CLI). */
  log: (line: string) => void;
}
