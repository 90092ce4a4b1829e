export { Tokenizer, type TokenizerConfig, type EncodeOptions, type DecodeOptions, type AddedToken } from './bpe.ts';
export { trainBpe, type TrainOptions } from './train.ts';
export { loadTokenizer, saveTokenizer, toHfJson, fromHfJson } from './hf-json.ts';
export { GPT2_PATTERN, GPT4_PATTERN } from './pretokenize.ts';
export { EOT, PAD, SEP, DEFAULT_SPECIALS } from './special.ts';
