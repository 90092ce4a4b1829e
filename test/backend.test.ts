// Runs the backend conformance suite (test/backend.suite.ts) against every backend.
import { createJsBackend } from '../src/backend/js/index.ts';
import { loadNativeBackend } from '../src/backend/native/index.ts';
import { backendSuite } from './backend.suite.ts';

backendSuite('js', () => createJsBackend());

backendSuite('native', () => {
  try {
    return loadNativeBackend();
  } catch (e) {
    return (e as Error).message;
  }
});
