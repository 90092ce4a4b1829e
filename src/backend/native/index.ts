import { BackendError } from '../../errors.ts';
import type { Backend } from '../backend.ts';

/** Loads the N-API addon (build/Release/fmn_native.node). Throws BackendError when absent. */
export function loadNativeBackend(): Backend {
  throw new BackendError('native addon not built yet');
}
