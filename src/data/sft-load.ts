/**
 * SFT files (DESIGN §3): rows in one of TRL's formats (JSONL, or the same columns in Parquet),
 * validated with file/line/field:
 *
 *   {"prompt": "...", "completion": "..."}          prompt/completion (loss on completion)
 *   {"messages": [{"role": "user", "content": "..."}, …, {"role": "assistant", "content": "..."}]}
 *       a conversation: loss on the assistant turns, rendered with the model's chat template
 *       (data/chat.ts); a model without one gets prompt = the earlier messages' contents joined
 *       by "\n", completion = the last (assistant) message
 *   {"prompt": [messages…], "completion": [messages…]} conversational prompt/completion: loss on
 *       the completion's assistant turns (needs a chat template unless the completion is one
 *       assistant message)
 *   {"text": "..."}                                  plain text (loss on every token)
 */
import { DataError } from '../errors.ts';
import type { ChatTurn } from './chat.ts';
import { RowReader, type JsonlRow } from './jsonl.ts';
import { readRows } from './rows.ts';

export type SftExample =
  | { kind: 'prompt-completion'; prompt: string; completion: string; line: number }
  | { kind: 'chat'; turns: ChatTurn[]; line: number }
  | { kind: 'text'; text: string; line: number };

const cutRole = (r: string) => JSON.stringify(r.length > 40 ? `${r.slice(0, 40)}…` : r);

/** A list of {role, content} messages at `field`; each problem names messages[i].role / .content. */
function readMessages(r: RowReader, field: string, min: number): { role: string; content: string }[] {
  const msgs = r.obj[field];
  if (!Array.isArray(msgs) || msgs.length < min) r.fail(field, `expected an array of at least ${min} message${min === 1 ? '' : 's'}`);
  return (msgs as unknown[]).map((m, i) => {
    const at = (f: string) => `${field}[${i}].${f}`;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) r.fail(`${field}[${i}]`, 'expected an object with "role" and "content"');
    const { role, content } = m as Record<string, unknown>;
    if (typeof role !== 'string') r.fail(at('role'), 'expected a string');
    if (typeof content !== 'string') r.fail(at('content'), 'expected a string');
    return { role: role as string, content: content as string };
  });
}

export function sftExampleFromRow(file: string, row: JsonlRow): SftExample {
  const r = RowReader.of(file, row);
  if (r.has('prompt') || r.has('completion')) {
    if (Array.isArray(r.obj['prompt']) || Array.isArray(r.obj['completion'])) {
      const prompt = readMessages(r, 'prompt', 1), completion = readMessages(r, 'completion', 1);
      if (!completion.some((m) => m.role === 'assistant')) r.fail('completion', 'needs an "assistant" message');
      return { kind: 'chat', turns: [...prompt.map((m) => ({ ...m, train: false })), ...completion.map((m) => ({ ...m, train: m.role === 'assistant' }))], line: row.line };
    }
    return { kind: 'prompt-completion', prompt: r.string('prompt'), completion: r.string('completion'), line: row.line };
  }
  if (r.has('messages')) {
    const msgs = readMessages(r, 'messages', 2);
    const last = msgs[msgs.length - 1]!;
    if (last.role !== 'assistant') r.fail(`messages[${msgs.length - 1}].role`, `the last message must be "assistant", got ${cutRole(last.role)}`);
    return { kind: 'chat', turns: msgs.map((m) => ({ ...m, train: m.role === 'assistant' })), line: row.line };
  }
  if (r.has('text')) return { kind: 'text', text: r.string('text'), line: row.line };
  return r.fail('prompt', 'expected "prompt"/"completion", "messages" or "text"');
}

/**
 * A conversation for a model without a chat template: prompt = the contents before the last
 * message joined by "\n", completion = the last message, which must be the only trained one.
 */
export function chatWithoutTemplate(ex: Extract<SftExample, { kind: 'chat' }>, file: string): { prompt: string; completion: string } {
  const trained = ex.turns.filter((t) => t.train);
  const last = ex.turns[ex.turns.length - 1]!;
  if (trained.length !== 1 || trained[0] !== last) {
    throw new DataError(`has ${trained.length} assistant turns to learn; without a chat template (the model has no chat_template) only the last message can be the completion`, { file, line: ex.line, field: 'messages' });
  }
  return { prompt: ex.turns.slice(0, -1).map((t) => t.content).join('\n'), completion: last.content };
}

export function loadSft(file: string): SftExample[] {
  const rows = readRows(file);
  if (rows.length === 0) throw new DataError('no rows', { file });
  return rows.map((row) => sftExampleFromRow(file, row));
}
