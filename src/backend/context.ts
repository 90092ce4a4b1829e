import type { Backend } from './backend.ts';
import type { ProgressFactory } from '../util/progress.ts';

/** What every recipe is handed explicitly: no hidden globals. */
export interface RunContext {
  backend: Backend;
  /** Notes and results (stderr in the CLI). */
  log: (line: string) => void;
  /** Progress of long loops; silent when absent (library default). */
  progress?: ProgressFactory;
}
