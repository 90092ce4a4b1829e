export { Tokenizer, NO_BYTE_LEVEL, type TokenizerConfig, type EncodeOptions, type DecodeOptions, type AddedToken, type ModelStyle } from './bpe.ts';
export { trainBpe, type TrainOptions } from './train.ts';
export { loadTokenizer, saveTokenizer, toHfJson, fromHfJson, toTokenizerConfigJson, parseTokenizerConfig } from './hf-json.ts';
export { GPT2_PATTERN, GPT4_PATTERN } from './pretokenize.ts';
export type { SentencePieceConfig, NormalizerStep, DecoderStep, MetaspaceConfig, PrependScheme } from './sentencepiece.ts';
export { EOT, PAD, SEP, DEFAULT_SPECIALS, type Template, type TemplatePiece, type SpecialTokensConfig } from './special.ts';
