/**
 * How a prompt/completion pair becomes one training sequence — the single definition the
 * fine-tuner, the probes and `fmn generate` share:
 *
 *   text:  prompt <|sep|> completion <|endoftext|>      (no spaces added around <|sep|>)
 *   ids:   encode(prompt) ++ [sep] ++ encode(completion) ++ [eot]
 *   loss:  on the completion tokens and the final <|endoftext|> only
 *
 * Prompt and completion are encoded as ordinary text (a literal "<|sep|>" inside user text
 * stays text); the ids equal `tok.encode(sftText(p, c), { allowSpecial: true })` whenever
 * neither contains a special-token string. A generation probe's prompt is `sftPrompt(p)`; the
 * model's greedy continuation up to <|endoftext|> is compared with the expected completion.
 */
import type { Tokenizer } from '../tokenizer/bpe.ts';
import { EOT, SEP } from '../tokenizer/special.ts';

/** One prompt → completion pair (TRL's prompt/completion format). */
export interface SftRow { prompt: string; completion: string }

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
  const head = [...tok.encode(prompt), tok.specialId(SEP)];
  const tail = [...tok.encode(completion), tok.specialId(EOT)];
  return {
    ids: [...head, ...tail],
    lossMask: [...head.map(() => 0), ...tail.map(() => 1)],
    promptLength: head.length,
  };
}

/** Ids of a generation prompt: encode(prompt) ++ [sep]. */
export function encodeSftPrompt(tok: Tokenizer, prompt: string): number[] {
  return [...tok.encode(prompt), tok.specialId(SEP)];
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
 * `<|endoftext|>`), and one `<|endoftext|>` appended unless it already ends with one. Windows
 * drawn from the stream then run across line ends inside a document and across documents.
 * A string is split into documents by `mode` (default `lines`).
 */
export function encodeDocuments(tok: Tokenizer, docs: string | readonly string[], mode: DocumentMode = 'lines'): number[] {
  const out: number[] = [];
  const eot = tok.specialId(EOT);
  for (const doc of typeof docs === 'string' ? splitDocuments(docs, mode) : docs) {
    for (const id of tok.encode(doc, { allowSpecial: true })) out.push(id);
    if (!doc.endsWith(EOT)) out.push(eot);
  }
  return out;
}
