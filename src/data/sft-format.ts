/**
 * How a prompt/completion pair becomes one training sequence — the single definition the
 * fine-tuner, the probes and `fmn generate` share. Two rules, chosen by the tokenizer:
 *
 * The delimiter format, for tokenizers with `<|sep|>` (ours, the verb corpus):
 *   text:  prompt <|sep|> completion <|endoftext|>      (no spaces added around <|sep|>)
 *   ids:   encode(prompt) ++ [sep] ++ encode(completion) ++ [eot]
 *   loss:  on the completion tokens and the final <|endoftext|> only
 * Prompt and completion are encoded as ordinary text (a literal "<|sep|>" inside user text
 * stays text); the ids equal `tok.encode(sftText(p, c), { allowSpecial: true })` whenever
 * neither contains a special-token string. A generation probe's prompt is `sftPrompt(p)`; the
 * model's greedy continuation up to <|endoftext|> is compared with the expected completion.
 *
 * TRL's format, for every other tokenizer (a Hugging Face model's own: Llama, Mistral, Qwen2,
 * Pythia, SmolLM2): prompt + completion as one text, with the tokenizer's own special tokens
 * (`<s>` first for Llama-2), the end token appended unless already there; the loss on the tokens
 * past the prompt's own encoding (the common prefix of the two encodings, so a token that spans
 * the boundary counts as completion).
 */
import { DataError } from '../errors.ts';
import type { Tokenizer } from '../tokenizer/bpe.ts';
import { EOT, SEP } from '../tokenizer/special.ts';

/** One prompt → completion pair (TRL's prompt/completion format). */
export interface SftRow { prompt: string; completion: string }

const addedId = (tok: Tokenizer, content: string): number | null => tok.addedTokens.find((t) => t.content === content)?.id ?? null;

/**
 * The tokens a document starts with (the context every scored text follows) and ends with
 * (generation stops there). With `<|endoftext|>` in the tokenizer (ours, GPT-2, Pythia, Qwen2,
 * SmolLM2) it is both, GPT-2's convention; otherwise bos_token, else eos_token, starts (lm-eval's
 * prefix token) and eos_token ends.
 */
export function sequenceTokens(tok: Tokenizer): { start: number; end: number } {
  const eot = addedId(tok, EOT);
  if (eot !== null) return { start: eot, end: eot };
  const end = tok.eos;
  if (end === null) throw new DataError(`the tokenizer has neither ${EOT} nor an eos_token (tokenizer_config.json) to end a sequence with`, { field: 'eos_token' });
  return { start: tok.bos ?? end, end };
}

/** Whether prompt/completion rows use the `<|sep|>` delimiter format (else TRL's). */
export function usesDelimiter(tok: Tokenizer): boolean {
  return addedId(tok, SEP) !== null;
}

/** The text a model is given at inference: `prompt<|sep|>`. */
export function sftPrompt(prompt: string): string {
  return prompt + SEP;
}

/** The full training text: `prompt<|sep|>completion<|endoftext|>`. */
export function sftText(prompt: string, completion: string): string {
  return prompt + SEP + completion + EOT;
}

export interface SftEncoding {
  ids: number[];
  /** lossMask[i] = 1 when predicting ids[i] (from ids[0..i-1]) counts in the loss. */
  lossMask: number[];
  /** Tokens of prompt + delimiter (the masked prefix). */
  promptLength: number;
}

export function encodeSft(tok: Tokenizer, prompt: string, completion: string): SftEncoding {
  if (usesDelimiter(tok)) {
    const head = [...tok.encode(prompt), tok.specialId(SEP)];
    const tail = [...tok.encode(completion), tok.specialId(EOT)];
    return { ids: [...head, ...tail], lossMask: [...head.map(() => 0), ...tail.map(() => 1)], promptLength: head.length };
  }
  const { end } = sequenceTokens(tok);
  const p = withoutEnd(tok.encode(prompt, { addSpecial: true }), end);
  const ids = withoutEnd(tok.encode(prompt + completion, { addSpecial: true }), end);
  ids.push(end);
  let n = 0;
  while (n < p.length && n < ids.length - 1 && p[n] === ids[n]) n++;
  return { ids, lossMask: ids.map((_, i) => (i < n ? 0 : 1)), promptLength: n };
}

/** Drops a trailing end token (a template with add_eos_token appends one to every text). */
function withoutEnd(ids: number[], end: number): number[] {
  return ids.length > 0 && ids[ids.length - 1] === end ? ids.slice(0, -1) : ids;
}

/** Ids of a generation prompt: the prompt part of encodeSft (encode(prompt) ++ [sep] in the delimiter format). */
export function encodeSftPrompt(tok: Tokenizer, prompt: string): number[] {
  if (usesDelimiter(tok)) return [...tok.encode(prompt), tok.specialId(SEP)];
  return withoutEnd(tok.encode(prompt, { addSpecial: true }), sequenceTokens(tok).end);
}

/**
 * A generation prompt given as text (a probe's `prompt`, `fmn generate --prompt`), special-token
 * strings allowed: as is in the delimiter format (the corpus's prompts end with `<|sep|>`),
 * with the tokenizer's own leading special tokens in TRL's, as the fine-tuned rows began.
 */
export function encodeGenerationPrompt(tok: Tokenizer, text: string): number[] {
  if (usesDelimiter(tok)) return tok.encode(text, { allowSpecial: true });
  return withoutEnd(tok.encode(text, { allowSpecial: true, addSpecial: true }), sequenceTokens(tok).end);
}

/**
 * How plain text splits into documents: `lines` — each non-empty line (the verb corpus, one
 * sentence a line); `blank-line` — paragraphs separated by blank lines, their line ends kept;
 * `file` — the whole text as one document (a play, code, prose), line ends kept.
 */
export type DocumentMode = 'lines' | 'blank-line' | 'file';
export const DOCUMENT_MODES: readonly DocumentMode[] = ['lines', 'blank-line', 'file'];

export function splitDocuments(text: string, mode: DocumentMode = 'lines'): string[] {
  const t = text.replace(/\r\n/g, '\n');
  if (mode === 'lines') return t.split('\n').filter((l) => l.trim() !== '');
  if (mode === 'blank-line') return t.split(/\n[ \t]*\n/).map((d) => d.replace(/^\n+|\n+$/g, '')).filter((d) => d.trim() !== '');
  return t.trim() === '' ? [] : [t.replace(/\n+$/, '')];
}

/**
 * Documents → one token stream: each document encoded with its special tokens (`<|sep|>`,
 * `<|endoftext|>`), and the end token (sequenceTokens) appended unless it already ends with it. Windows
 * drawn from the stream then run across line ends inside a document and across documents.
 * A string is split into documents by `mode` (default `lines`).
 */
export function encodeDocuments(tok: Tokenizer, docs: string | readonly string[], mode: DocumentMode = 'lines'): number[] {
  const out: number[] = [];
  const { end } = sequenceTokens(tok);
  for (const doc of typeof docs === 'string' ? splitDocuments(docs, mode) : docs) {
    const ids = tok.encode(doc, { allowSpecial: true });
    for (const id of ids) out.push(id);
    if (ids[ids.length - 1] !== end) out.push(end);
  }
  return out;
}
