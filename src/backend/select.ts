import { BackendError, ConfigError } from '../errors.ts';
import type { Backend } from './backend.ts';
import { createJsBackend } from './js/index.ts';
import { loadNativeBackend } from './native/index.ts';
import { profiled } from './profile.ts';

export interface SelectOptions {
  /** `js`, `native`, or `auto` (native if it loads). Default: $FMN_BACKEND or `auto`. */
  kind?: 'js' | 'native' | 'auto';
  /** Kernel threads (native only). Default: $FMN_THREADS or all cores (max 2 here). */
  threads?: number;
  /** Where the one-line fallback notice goes. Default: stderr. */
  notice?: (line: string) => void;
}

/**
 * Picks the backend: native if the addon loads, else js with a one-line notice.
 * `FMN_BACKEND=js|native` forces one (forcing native when it cannot load is an error).
 */
export function selectBackend(opts: SelectOptions = {}): Backend {
  const env = process.env.FMN_BACKEND;
  const kind = opts.kind ?? (env === undefined || env === '' ? 'auto' : env);
  if (kind !== 'js' && kind !== 'native' && kind !== 'auto') {
    throw new ConfigError(`must be js, native or auto, got "${kind}"`, { field: 'FMN_BACKEND' });
  }
  const threads = opts.threads ?? (process.env.FMN_THREADS ? Number(process.env.FMN_THREADS) : undefined);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
    throw new ConfigError(`must be a positive integer, got "${threads}"`, { field: 'threads' });
  }
  if (kind === 'js') return profiled(createJsBackend());
  try {
    const b = loadNativeBackend();
    if (threads !== undefined) b.setThreads(threads);
    return profiled(b);
  } catch (e) {
    if (kind === 'native') throw e instanceof BackendError ? e : new BackendError('native backend failed to load', {}, { cause: e });
    (opts.notice ?? ((l) => process.stderr.write(l + '\n')))(
      `forgetmenot: native backend unavailable (${(e as Error).message}); using the js backend`);
    return profiled(createJsBackend());
  }
}
