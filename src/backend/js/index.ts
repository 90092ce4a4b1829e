import type { Backend, Buf, MatmulMode, Precision } from '../backend.ts';
import { matmul, matmulBf16 } from './matmul.ts';
import { layernormForward, layernormBackward, rmsnormForward, rmsnormBackward } from './norm.ts';
import { geluForward, geluBackward, siluForward, siluBackward, softmaxForward, softmaxBackward } from './activation.ts';
import { attentionForward, attentionBackward } from './attention.ts';
import { crossEntropyForward, crossEntropyBackward } from './loss.ts';
import { adamwStep, scaleInPlace, sumSquares } from './adamw.ts';
import { addBuffers, addColumnSums, columnSumsOf } from './elementwise.ts';
import { embeddingBackward, embeddingForward } from './embedding.ts';

const FP32: MatmulMode = { precision: 'fp32', kernel: 'fp32', label: 'precision fp32' };
const BF16: MatmulMode = { precision: 'bf16', kernel: 'js-bf16', label: 'precision bf16 (js: operands rounded to bf16, fp32 accumulation)' };

/** The reference backend: plain loops, the spec every other backend is tested against. */
export function createJsBackend(): Backend {
  let mode = FP32;
  return {
    name: 'js',
    threads: 1,
    setThreads() { /* single-threaded by design */ },
    get matmulMode() { return mode; },
    setMatmulPrecision(p: Precision) { mode = p === 'bf16' ? BF16 : FP32; return mode; },
    matmul(C: Buf, A: Buf, B: Buf, M: number, N: number, K: number, transA: boolean, transB: boolean, accumulate: boolean, bias?: Buf, colSumsB?: Buf) {
      if (bias !== undefined && accumulate) throw new RangeError('matmul: bias with accumulate: the bias is C\'s starting value');
      if (bias !== undefined && bias.length < N) throw new RangeError(`matmul: bias has ${bias.length} elements, needs ${N}`);
      if (colSumsB !== undefined && colSumsB.length < N) throw new RangeError(`matmul: colSumsB has ${colSumsB.length} elements, needs ${N}`);
      if (mode === BF16) matmulBf16(C, A, B, M, N, K, transA, transB, accumulate, bias);
      else matmul(C, A, B, M, N, K, transA, transB, accumulate, bias);
      if (colSumsB !== undefined) columnSumsOf(colSumsB, B, K, N, transB);
    },
    matmulPlus(C: Buf, A: Buf, B: Buf, M: number, N: number, K: number, transA: boolean, transB: boolean, accumulate: boolean, bias: Buf | undefined,
      A2: Buf, B2: Buf, K2: number, transA2: boolean, transB2: boolean) {
      // the spec: the two products in turn, the second accumulating
      this.matmul(C, A, B, M, N, K, transA, transB, accumulate, bias);
      this.matmul(C, A2, B2, M, N, K2, transA2, transB2, true);
    },
    // the reference packs nothing: every product reads B as it is
    freezeOperands() { return () => {}; },
    layernormForward, layernormBackward, rmsnormForward, rmsnormBackward,
    geluForward, geluBackward, siluForward, siluBackward, softmaxForward, softmaxBackward, addBuffers, addColumnSums,
    embeddingForward, embeddingBackward,
    attentionForward, attentionBackward,
    crossEntropyForward, crossEntropyBackward,
    adamwStep, sumSquares, scaleInPlace,
  };
}
