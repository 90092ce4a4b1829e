import type { Backend } from './backend.ts';
import type { ProgressFactory } from '../util/progress.ts';

/** What every recipe is handed explicitly: no hidden globals. */
export interface RunContext {
  backend: Backend;
  /** Notes and results (stderr in the CLI). */
  log: (line: string) => void;
  /** Progress of long loops; silent when absent (library default). */
  progress?: ProgressFactory;
  /** Set `requested` (a signal handler does) to end a training run after its current step, state saved. */
  stop?: { requested: boolean };
}
