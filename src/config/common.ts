import type { Field } from './schema.ts';

/** How a command runs, shared by every command that computes: kernels, threads, output. */
export const RUN_FIELDS: Field[] = [
  { key: 'backend', type: 'enum', path: null, choices: ['auto', 'native', 'js'], defaultText: '$FMN_BACKEND or auto', section: 'run', help: 'kernels: native (the addon) if it loads, else js (auto)' },
  { key: 'threads', type: 'int', path: null, min: 1, max: 256, section: 'run', help: 'kernel threads (default: $FMN_THREADS or every core); saved with the run (results do not depend on it: the kernels keep one summation order)' },
  ...outputFields(),
];

/** --json and --quiet. */
export function outputFields(): Field[] {
  return [
    { key: 'json', type: 'bool', path: null, persist: false, default: false, section: 'run', help: 'print the result as JSON on stdout (logs stay on stderr)' },
    { key: 'quiet', type: 'bool', path: null, persist: false, default: false, section: 'run', help: 'no progress bar or progress lines' },
  ];
}
