/** Special tokens. They are never produced from plain text: see `encode(text, { allowSpecial })`. */
export const EOT = '<|endoftext|>';
export const PAD = '<|pad|>';
/** The prompt/completion delimiter (and English/Spanish delimiter in the pretraining text). */
export const SEP = '<|sep|>';
export const DEFAULT_SPECIALS: readonly string[] = [EOT, PAD, SEP];
