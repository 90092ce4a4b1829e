/** Special tokens. They are never produced from plain text: see `encode(text, { allowSpecial })`. */
export const EOT = '<|endoftext|>';
export const PAD = '<|pad|>';
/** The prompt/completion delimiter (and English/Spanish delimiter in the pretraining text). */
export const SEP = '<|sep|>';
export const DEFAULT_SPECIALS: readonly string[] = [EOT, PAD, SEP];

/** One item of a HF TemplateProcessing template: a special token (a key of `specialTokens`) or the text. */
export type TemplatePiece = { special: string; typeId: number } | { sequence: 'A' | 'B'; typeId: number };

/**
 * HF `TemplateProcessing` (tokenizer.json `post_processor`): what `encode(text, { addSpecial:
 * true })` puts around the text. `single` holds the text as `{ sequence: 'A' }`; `pair` is kept
 * for writing the file back (texts are never encoded as pairs here).
 */
export interface Template {
  single: readonly TemplatePiece[];
  pair: readonly TemplatePiece[];
  /** Template key (usually the token, `<s>`) → the ids and tokens it stands for. */
  specialTokens: ReadonlyMap<string, { ids: readonly number[]; tokens: readonly string[] }>;
}

/** The special tokens of `tokenizer_config.json` (transformers' file beside tokenizer.json); null where the file does not say. */
export interface SpecialTokensConfig {
  bos: string | null;
  eos: string | null;
  pad: string | null;
  unk: string | null;
  /** `add_bos_token` / `add_eos_token`: used for `addSpecial` when tokenizer.json has no post-processor template. */
  addBos: boolean | null;
  addEos: boolean | null;
}
