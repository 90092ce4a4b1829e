import { RUN_FIELDS } from '../../config/common.ts';
import type { Schema, Values } from '../../config/schema.ts';
import { claimOutputDir } from '../../train/run-dir.ts';
import { copyTokenizerSideFiles } from '../../data/chat.ts';
import { loadProbes } from '../../data/probes.ts';
import { loadForInference } from '../../lora/load.ts';
import { mergeAndVerify, randomSequences } from '../../lora/merge.ts';
import { isModelDir, saveModel } from '../../model/checkpoint.ts';
import { saveTokenizer } from '../../tokenizer/hf-json.ts';
import { sequenceTokens } from '../../data/sft-format.ts';
import type { Command } from '../command.ts';
import { contextOf, log, parseCommand, printJson } from '../run.ts';

export const MERGE_SCHEMA: Schema = {
  command: 'merge',
  usage: ['merge --base MODEL --adapter RUN --out MODEL [--probes FILE…] [--tolerance X] [--dtype bf16] [--max-shard-mb MB]'],
  description: `Merges a LoRA adapter into its base (W += (alpha/r)·(B A)ᵀ) and writes a plain model directory.
Verifies it: the largest |Δlogit| between adapter-on and merged, over the probe texts (or 16
seeded random sequences), is reported, and above --tolerance it is an error and nothing is written.`,
  fields: [
    { key: 'base', type: 'string', required: true, metavar: 'MODEL', help: 'the base model (a directory or a llama2.c .bin)' },
    { key: 'adapter', type: 'string', required: true, metavar: 'RUN', help: 'the PEFT adapter run' },
    { key: 'out', type: 'string', required: true, metavar: 'MODEL', help: 'the merged model directory' },
    { key: 'probes', type: 'list', default: [], defaultText: 'random sequences', metavar: 'FILE…', help: 'probe files whose texts the check runs on' },
    { key: 'tolerance', type: 'number', min: 0, default: 1e-3, help: 'largest |Δlogit| allowed' },
    { key: 'dtype', type: 'enum', choices: ['f32', 'bf16', 'f16'], default: 'f32', help: 'how the merged weights are stored (bf16 / f16: round to nearest even, as torch\'s .to())' },
    { key: 'max_shard_mb', type: 'int', min: 1, metavar: 'MB', help: 'split the weights into shards of at most this size, with model.safetensors.index.json' },
    { key: 'overwrite', type: 'bool', default: false, help: 'replace the model directory already in --out (a directory of anything else is never written into)' },
    ...RUN_FIELDS.filter((f) => f.key !== 'quiet'),
  ],
};

export const command: Command = {
  async run(argv) {
    const r = parseCommand(MERGE_SCHEMA, argv);
    if (r === null) return 0;
    const v = r.values;
    const release = claimOutputDir(v.out as string, { kind: 'a model directory', owns: isModelDir, overwrite: v.overwrite as boolean, inputs: [v.base as string, v.adapter as string] }, log);
    try { return merge(v); } finally { release(); }
  },
};

/** Loads, merges, verifies against the adapter-on logits, writes. */
function merge(v: Values): number {
  const { model, tok, adapters } = loadForInference(v.base as string, v.adapter as string, contextOf(v));
  const eot = sequenceTokens(tok).start;
  const texts = (v.probes as string[]).flatMap((f) => loadProbes(f)).flatMap((it) =>
    it.kind === 'pair' ? [it.good, ...it.bad] : it.kind === 'text' ? [it.text] : it.kind === 'generate' ? [it.prompt + it.expected] : [it.context, ...it.choices]);
  const seqs = texts.length > 0 ? texts.map((t) => [eot, ...tok.encode(t, { allowSpecial: true })]) : randomSequences(model.config.vocabSize, 16, Math.min(32, model.config.nCtx));
  const res = mergeAndVerify(model, adapters!, seqs, v.tolerance as number);
  saveModel(model, v.out as string, {
    dtype: v.dtype as 'f32' | 'bf16' | 'f16',
    ...(v.max_shard_mb !== undefined && { maxShardBytes: (v.max_shard_mb as number) * 2 ** 20 }),
  });
  saveTokenizer(tok, v.out as string);
  copyTokenizerSideFiles(v.base as string, v.out as string);
  log(`merge: max |Δlogit| ${res.maxAbsDiff.toExponential(2)} (largest |logit| ${res.maxAbsLogit.toFixed(2)}) over ${seqs.length} sequences → ${v.out}`);
  printJson(v, { out: v.out, max_abs_diff: res.maxAbsDiff, max_abs_logit: res.maxAbsLogit, sequences: seqs.length });
  return 0;
}
