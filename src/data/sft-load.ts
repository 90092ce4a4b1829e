/**
 * SFT files (DESIGN §3): JSONL rows in one of TRL's formats, validated with file/line/field:
 *
 *   {"prompt": "...", "completion": "..."}          prompt/completion (loss on completion)
 *   {"messages": [{"role": "user", "content": "..."}, …, {"role": "assistant", "content": "..."}]}
 *       → prompt = the earlier messages' contents joined by "\n", completion = the last
 *         (assistant) message; no chat template is applied
 *   {"text": "..."}                                  plain text (loss on every token)
 */
import { DataError } from '../errors.ts';
import { RowReader, type JsonlRow } from './jsonl.ts';
import { readRows } from './rows.ts';

export type SftExample =
  | { kind: 'prompt-completion'; prompt: string; completion: string; line: number }
  | { kind: 'text'; text: string; line: number };

export function sftExampleFromRow(file: string, row: JsonlRow): SftExample {
  const r = RowReader.of(file, row);
  if (r.has('prompt') || r.has('completion')) {
    return { kind: 'prompt-completion', prompt: r.string('prompt'), completion: r.string('completion'), line: row.line };
  }
  if (r.has('messages')) {
    const msgs = r.obj['messages'];
    if (!Array.isArray(msgs) || msgs.length < 2) r.fail('messages', 'expected an array of at least 2 messages');
    const parsed = (msgs as unknown[]).map((m, i) => {
      const mr = RowReader.of(file, { line: row.line, value: m });
      const field = (f: string) => `messages[${i}].${f}`;
      const role = mr.obj['role'], content = mr.obj['content'];
      if (typeof role !== 'string') r.fail(field('role'), 'expected a string');
      if (typeof content !== 'string') r.fail(field('content'), 'expected a string');
      return { role: role as string, content: content as string };
    });
    const last = parsed[parsed.length - 1]!;
    if (last.role !== 'assistant') r.fail(`messages[${parsed.length - 1}].role`, `the last message must be "assistant", got ${JSON.stringify(last.role.length > 40 ? `${last.role.slice(0, 40)}…` : last.role)}`);
    return { kind: 'prompt-completion', prompt: parsed.slice(0, -1).map((m) => m.content).join('\n'), completion: last.content, line: row.line };
  }
  if (r.has('text')) return { kind: 'text', text: r.string('text'), line: row.line };
  return r.fail('prompt', 'expected "prompt"/"completion", "messages" or "text"');
}

export function loadSft(file: string): SftExample[] {
  const rows = readRows(file);
  if (rows.length === 0) throw new DataError('no rows', { file });
  return rows.map((row) => sftExampleFromRow(file, row));
}
