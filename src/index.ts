/** forgetmenot: the public API (curated). */
export { ConfigError, DataError, CheckpointError, ShapeError, BackendError, isUserError } from './errors.ts';

// engine
export type { Backend, Buf, MatmulMode, Precision } from './backend/backend.ts';
export { selectBackend, type SelectOptions } from './backend/select.ts';
export { createJsBackend } from './backend/js/index.ts';
export * as T from './tensor/index.ts';
export { Tensor, noGrad, releasing } from './tensor/tensor.ts';

// data
export { Rng } from './util/rng.ts';
export { writeCorpus, buildCorpus, type CorpusOptions } from './corpus/corpus.ts';
export { loadProbes, parseProbes, type ProbeItem } from './data/probes.ts';
export { loadSft } from './data/sft-load.ts';
export { sftText, sftPrompt, encodeSft } from './data/sft-format.ts';
export { readJsonl } from './data/jsonl.ts';

// tokenizer
export { Tokenizer, trainBpe, loadTokenizer, saveTokenizer, EOT, PAD, SEP } from './tokenizer/index.ts';

// model
export { GPT, lmLoss } from './model/gpt.ts';
export type { GPTConfig } from './model/config.ts';
export { PRESETS, preset } from './model/presets.ts';
export { loadModel, saveModel, stateDict } from './model/checkpoint.ts';
export { loadLlama2c } from './model/llama2c.ts';
export { generate, type GenerateOptions } from './model/generate.ts';
export { readSafetensors, parseSafetensors, serializeSafetensors } from './model/safetensors.ts';

// LoRA
export { LORA_DEFAULTS, type LoraConfig } from './lora/config.ts';
export { LoraLinear } from './lora/linear.ts';
export { applyLora, adapterParameters, frozenMatrices, mergeAll, unmergeAll, setLoraDisabled, type Adapters } from './lora/inject.ts';
export { saveAdapter, loadAdapter } from './lora/peft.ts';
export { mergeAndVerify } from './lora/merge.ts';
export { loraParamCounts } from './lora/params.ts';
export { loraDeltaSqNorm, sqDistance } from './lora/regularizer.ts';

// optimization and recipes
export { AdamW, clipGradNorm } from './optim/adamw.ts';
export { lrAt } from './optim/schedule.ts';
export { Trainer } from './train/trainer.ts';
export { pretrain, PRETRAIN_RECIPE_DEFAULTS, type PretrainConfig } from './train/pretrain.ts';
export { finetune, FINETUNE_DEFAULTS, DEFAULT_LR, type FinetuneConfig, type Method } from './train/finetune.ts';
export { loadForInference } from './lora/load.ts';
export { runLab } from './lab/lab.ts';
export { LAB_DEFAULTS, LAB_FAST, LAB_SCHEMA, type LabConfig } from './lab/lab-config.ts';

// evaluation
export { evaluateProbes, type EvalResult, type ProbeResult } from './eval/evaluate.ts';
export { verdict, drift, DEFAULT_DRIFT_BOUND } from './eval/verdict.ts';
export { fewShotBaseline } from './eval/fewshot.ts';
export { writeReport } from './report/write.ts';
