/**
 * SFT rows (parsed and validated by sft-load.ts) → token sequences with a loss mask, for the
 * fine-tuner. prompt/completion rows: `encodeSft` (loss on the completion and the final end of
 * text); conversations: the model's chat template with the loss on the assistant turns
 * (chat.ts), or, for a model without one, as prompt/completion; text rows:
 * start text end (sequenceTokens: `<|endoftext|> text <|endoftext|>` for ours) with loss on every token.
 * A row with no supervised token, or longer than the context (unless truncating), is a
 * DataError naming its line.
 */
import { DataError } from '../errors.ts';
import type { Tokenizer } from '../tokenizer/bpe.ts';
import { encodeChat, type ChatTemplate } from './chat.ts';
import { encodeSft, sequenceTokens } from './sft-format.ts';
import { chatWithoutTemplate, loadSft } from './sft-load.ts';

export interface SftSequence {
  ids: Int32Array;
  /** mask[i] = 1 when predicting ids[i] from ids[0..i) is scored. */
  mask: Uint8Array;
  line: number;
}

export interface SftEncoded { sequences: SftSequence[]; truncated: number }

export function encodeSftFile(file: string, tok: Tokenizer, maxLen: number, truncate: boolean, chat: ChatTemplate | null = null): SftEncoded {
  const { start, end } = sequenceTokens(tok);
  const sequences: SftSequence[] = [];
  let truncated = 0;
  for (const ex of loadSft(file)) {
    let ids: number[], mask: number[];
    const field = ex.kind === 'text' ? 'text' : ex.kind === 'chat' ? 'messages' : 'completion';
    if (ex.kind === 'text') {
      ids = [start, ...tok.encode(ex.text), end];
      mask = ids.map((_, i) => (i === 0 ? 0 : 1));
    } else if (ex.kind === 'chat' && chat !== null) {
      ({ ids, mask } = encodeChat(tok, chat, ex.turns, { file, line: ex.line }));
    } else {
      const { prompt, completion } = ex.kind === 'chat' ? chatWithoutTemplate(ex, file) : ex;
      const e = encodeSft(tok, prompt, completion);
      ids = e.ids;
      mask = e.lossMask;
    }
    // the model sees ids[0..n−1) and predicts ids[1..n): a row needs n − 1 ≤ maxLen
    if (ids.length - 1 > maxLen) {
      if (!truncate) {
        throw new DataError(`row is ${ids.length} tokens, longer than the model's context of ${maxLen + 1} (use --truncate to cut it)`, { file, line: ex.line, field });
      }
      ids = ids.slice(0, maxLen + 1);
      mask = mask.slice(0, maxLen + 1);
      truncated++;
    }
    if (!mask.slice(1).some((m) => m === 1)) throw new DataError('row has no supervised token', { file, line: ex.line, field });
    sequences.push({ ids: Int32Array.from(ids), mask: Uint8Array.from(mask), line: ex.line });
  }
  return { sequences, truncated };
}
