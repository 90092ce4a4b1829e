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
 * Pretraining text → one token stream: each non-empty line is a document, encoded with its
 * special tokens (`<|sep|>`, `<|endoftext|>`); a line that does not end in `<|endoftext|>`
 * (plain text corpora) gets one appended.
 */
export function encodeDocuments(tok: Tokenizer, text: string): number[] {
  const out: number[] = [];
  const eot = tok.specialId(EOT);
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    for (const id of tok.encode(line, { allowSpecial: true })) out.push(id);
    if (!line.endsWith(EOT)) out.push(eot);
  }
  return out;
}
