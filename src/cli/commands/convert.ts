import { existsSync } from 'node:fs';
import { RUN_FIELDS } from '../../config/common.ts';
import type { Schema, Values } from '../../config/schema.ts';
import { claimOutputDir } from '../../train/run-dir.ts';
import { ConfigError } from '../../errors.ts';
import { llama2cTokenizerCandidates } from '../../lora/load.ts';
import { isModelDir, saveModel } from '../../model/checkpoint.ts';
import { loadLlama2c } from '../../model/llama2c.ts';
import { loadTokenizer, saveTokenizer } from '../../tokenizer/hf-json.ts';
import { loadLlama2cTokenizer } from '../../tokenizer/llama2c.ts';
import type { Command } from '../command.ts';
import { contextOf, log, parseCommand, printJson } from '../run.ts';

export const CONVERT_SCHEMA: Schema = {
  command: 'convert',
  usage: ['convert --llama2c FILE.bin [--tokenizer FILE] --out MODEL [--dtype bf16]'],
  description: `Writes a karpathy/llama2.c checkpoint (legacy "version 0" .bin) as a Hugging Face llama
model directory: config.json, model.safetensors, and tokenizer.json + tokenizer_config.json
from its tokenizer (llama2.c's tokenizer.bin, or a tokenizer.json). Without --tokenizer the
tokenizer is looked for beside the .bin (tokenizer.json, tokenizer.bin, tok<V>.bin); when there
is none, the model is written without one and every command will ask for it. The directory
computes the same logits as the .bin (RoPE's interleaved pairs are permuted as HF's converter does).`,
  fields: [
    { key: 'llama2c', type: 'string', required: true, metavar: 'FILE.bin', help: 'the llama2.c checkpoint' },
    { key: 'tokenizer', type: 'string', metavar: 'FILE', help: 'its tokenizer: llama2.c tokenizer.bin or a tokenizer.json (default: found beside the .bin)' },
    { key: 'out', type: 'string', required: true, metavar: 'MODEL', help: 'the model directory to write' },
    { key: 'dtype', type: 'enum', choices: ['f32', 'bf16', 'f16'], default: 'f32', help: 'how the weights are stored (bf16 / f16: round to nearest even, as torch\'s .to())' },
    { key: 'overwrite', type: 'bool', default: false, help: 'replace the model directory already in --out (a directory of anything else is never written into)' },
    ...RUN_FIELDS.filter((f) => f.key !== 'quiet' && f.key !== 'threads'),
  ],
};

export const command: Command = {
  async run(argv) {
    const r = parseCommand(CONVERT_SCHEMA, argv);
    if (r === null) return 0;
    const v = r.values;
    const bin = v.llama2c as string, out = v.out as string;
    const release = claimOutputDir(out, { kind: 'a model directory', owns: isModelDir, overwrite: v.overwrite as boolean, inputs: [bin, v.tokenizer as string | undefined] }, log);
    try { return convert(v, bin, out); } finally { release(); }
  },
};

/** Reads the checkpoint and its tokenizer, writes the directory. */
function convert(v: Values, bin: string, out: string): number {
  const model = loadLlama2c(bin, contextOf(v).backend);
  const V = model.config.vocabSize;
  const tf = (v.tokenizer as string | undefined) ?? llama2cTokenizerCandidates(bin, V).find((f) => existsSync(f));
  if (v.tokenizer !== undefined && !existsSync(tf!)) throw new ConfigError('no such file', { file: tf, field: '--tokenizer' });
  const tok = tf === undefined ? null : tf.endsWith('.bin') ? loadLlama2cTokenizer(tf) : loadTokenizer(tf);
  if (tok !== null && tok.vocabSize > V) {
    throw new ConfigError(`the tokenizer has ${tok.vocabSize} tokens, more than the model's vocabulary of ${V}`, { file: tf, field: '--tokenizer' });
  }
  saveModel(model, out, { dtype: v.dtype as 'f32' | 'bf16' | 'f16' });
  if (tok !== null) saveTokenizer(tok, out);
  const c = model.config;
  log(`convert: llama ${c.nLayer} layers, d ${c.nEmbd}, ${c.nHead} heads (${c.nKvHead} kv), vocab ${V}, context ${c.nCtx} → ${out}` +
    (tf === undefined ? ' (no tokenizer found beside the .bin: the directory has none; add tokenizer.json before using it)' : ` with tokenizer ${tf}`));
  printJson(v, { out, model_type: c.modelType, vocab_size: V, tokenizer: tf ?? null });
  return 0;
}
