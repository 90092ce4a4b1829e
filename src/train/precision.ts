import { PRECISIONS, type Precision } from '../backend/backend.ts';
import type { Field } from '../config/schema.ts';
import type { RunContext } from '../backend/context.ts';

/**
 * Sets a recipe's matmul precision on its backend and logs the kernel path that will run it
 * (e.g. `precision bf16 (AMX tiles)`); returns a function that restores the previous precision,
 * so a caller running several recipes on one backend (the lab, a sweep worker) is unaffected.
 */
export function usePrecision(ctx: RunContext, precision: Precision): () => void {
  const before = ctx.backend.matmulMode.precision;
  const mode = ctx.backend.setMatmulPrecision(precision);
  if (precision !== 'fp32' || before !== 'fp32') ctx.log(mode.label);
  return () => { ctx.backend.setMatmulPrecision(before); };
}

/** The training recipes' matmul precision (typed `precision`); the recipe sets it on the backend, logs and saves the kernel path. */
export const PRECISION_FIELD: Field = {
  key: 'precision', type: 'enum', choices: PRECISIONS, default: 'fp32', section: 'run',
  help: 'matmul operands: fp32, or bf16 with fp32 accumulation (AMX / AVX512-BF16); weights and optimizer state stay fp32',
};
