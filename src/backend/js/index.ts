import type { Backend } from '../backend.ts';
import { matmul } from './matmul.ts';
import { layernormForward, layernormBackward, rmsnormForward, rmsnormBackward } from './norm.ts';
import { geluForward, geluBackward, siluForward, siluBackward, softmaxForward, softmaxBackward } from './activation.ts';
import { attentionForward, attentionBackward } from './attention.ts';
import { crossEntropyForward, crossEntropyBackward } from './loss.ts';
import { adamwUpdate } from './adamw.ts';

/** The reference backend: plain loops, the spec every other backend is tested against. */
export function createJsBackend(): Backend {
  return {
    name: 'js',
    threads: 1,
    setThreads() { /* single-threaded by design */ },
    matmul,
    layernormForward, layernormBackward, rmsnormForward, rmsnormBackward,
    geluForward, geluBackward, siluForward, siluBackward, softmaxForward, softmaxBackward,
    attentionForward, attentionBackward,
    crossEntropyForward, crossEntropyBackward,
    adamwUpdate,
  };
}
