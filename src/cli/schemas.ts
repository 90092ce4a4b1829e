/** Every command's schema, for the tests that derive flags and keys from them. */
import { TOKENIZER_SCHEMAS } from './commands/tokenizer.ts';
import { GENERATE_SCHEMA } from './commands/generate.ts';
import { MERGE_SCHEMA } from './commands/merge.ts';
import { CONVERT_SCHEMA } from './commands/convert.ts';
import { PARAMS_SCHEMA } from './commands/params.ts';
import { REPORT_SCHEMA } from './commands/report.ts';
import { WORKER_SCHEMA } from './commands/worker.ts';
import { SWEEP_SCHEMA } from '../sweep/config.ts';
import { ANALYZE_SCHEMAS } from '../analyze/analyze-config.ts';
import { CORPUS_SCHEMA } from '../corpus/corpus-config.ts';
import { EVAL_SCHEMA } from '../eval/run-eval.ts';
import { LAB_SCHEMA } from '../lab/lab-config.ts';
import { FINETUNE_SCHEMA } from '../train/finetune-config.ts';
import { PRETRAIN_SCHEMA } from '../train/pretrain-config.ts';
import type { Schema } from '../config/schema.ts';

export const ALL_SCHEMAS: Schema[] = [
  LAB_SCHEMA, CORPUS_SCHEMA, ...Object.values(TOKENIZER_SCHEMAS), PRETRAIN_SCHEMA, FINETUNE_SCHEMA, EVAL_SCHEMA,
  ...Object.values(ANALYZE_SCHEMAS), SWEEP_SCHEMA, WORKER_SCHEMA, GENERATE_SCHEMA, MERGE_SCHEMA, CONVERT_SCHEMA, PARAMS_SCHEMA, REPORT_SCHEMA,
];
