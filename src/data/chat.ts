/**
 * Chat templates: a model's own `chat_template` (Jinja, as Hugging Face tokenizers ship it in
 * tokenizer_config.json or chat_template.jinja), rendered with @huggingface/jinja, and how a
 * conversation becomes one training sequence with the loss on the assistant turns only.
 *
 * The assistant turns are found by rendering prefixes, as TRL and transformers do it without
 * `{% generation %}` markers: for each trained assistant message i, render(messages[..i],
 * add_generation_prompt) must be a prefix of render(messages[..i+1]), which must be a prefix of
 * the whole conversation; the text between the two is that turn (its content and the template's
 * end-of-turn marker). The conversation is encoded piece by piece — the untrained text, each
 * turn — with special tokens matched (the template writes them), and the turns' tokens carry
 * the loss. A template that does not render a conversation as a prefix of itself is an error.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { DataError } from '../errors.ts';
import type { Tokenizer } from '../tokenizer/bpe.ts';
import { readText, writeFileAtomic } from '../util/fs.ts';
import { oneLine, parseJson, show } from '../util/json.ts';

export interface ChatMessage { role: string; content: string }

/** A message and whether its tokens carry the loss (assistant turns of the part being learned). */
export interface ChatTurn extends ChatMessage { train: boolean }

export interface ChatTemplate {
  /** Where it came from (for errors). */
  source: string;
  /** The compiled template (@huggingface/jinja's Template; typed by what is used, so the package's declarations stand alone). */
  template: { render(context: Record<string, unknown>): string };
  /** The special-token strings the template may refer to (tokenizer_config.json). */
  tokens: { bos_token?: string; eos_token?: string; pad_token?: string; unk_token?: string };
}

/** A special-token entry of tokenizer_config.json: a string or an AddedToken object. */
const tokenString = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : undefined;

/**
 * The chat template of a model or tokenizer directory: `chat_template.jinja`, else
 * tokenizer_config.json's `chat_template` (a string, or a list of named templates: "default");
 * null when it has none.
 */
export function loadChatTemplate(dir: string): ChatTemplate | null {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return null;
  const cfgFile = join(dir, 'tokenizer_config.json'), jinjaFile = join(dir, 'chat_template.jinja');
  let cfg: Record<string, unknown> = {};
  if (existsSync(cfgFile)) {
    const j = parseJson(readText(cfgFile), (msg, e) => { throw new DataError(msg, { file: cfgFile }, e && { cause: e.cause }); });
    if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new DataError('must be a JSON object', { file: cfgFile });
    cfg = j as Record<string, unknown>;
  }
  let source: string, text: string;
  if (existsSync(jinjaFile)) { source = jinjaFile; text = readText(jinjaFile); }
  else {
    const t = cfg['chat_template'];
    if (t === undefined || t === null) return null;
    source = cfgFile;
    if (typeof t === 'string') text = t;
    else if (Array.isArray(t)) {
      const named = t.find((x) => typeof x === 'object' && x !== null && (x as { name?: unknown }).name === 'default') as { template?: unknown } | undefined;
      if (typeof named?.template !== 'string') throw new DataError('a list of templates needs one named "default" with a string "template"', { file: cfgFile, field: 'chat_template' });
      text = named.template;
    } else throw new DataError(`must be a string or a list of named templates, got ${show(t)}`, { file: cfgFile, field: 'chat_template' });
  }
  let template: ChatTemplate['template'];
  try { template = new Template(text); } catch (e) {
    throw new DataError(`is not a template this Jinja reads: ${oneLine((e as Error).message).slice(0, 200)}`, { file: source, field: source === cfgFile ? 'chat_template' : undefined }, { cause: e });
  }
  const tokens: ChatTemplate['tokens'] = {};
  for (const k of ['bos_token', 'eos_token', 'pad_token', 'unk_token'] as const) { const s = tokenString(cfg[k]); if (s !== undefined) tokens[k] = s; }
  return { source, template, tokens };
}

/** The template applied to `messages` (the end-of-conversation prompt for the assistant when asked). */
export function renderChat(chat: ChatTemplate, messages: readonly ChatMessage[], addGenerationPrompt: boolean, where: { file?: string; line?: number } = {}): string {
  try {
    return chat.template.render({ messages: messages.map((m) => ({ role: m.role, content: m.content })), add_generation_prompt: addGenerationPrompt, ...chat.tokens });
  } catch (e) {
    throw new DataError(`the chat template (${chat.source}) failed on this conversation: ${oneLine((e as Error).message).slice(0, 200)}`, { ...where, field: 'messages' }, { cause: e });
  }
}

/** A conversation as one training sequence: ids, and mask[i] = 1 for the tokens of trained assistant turns. */
export function encodeChat(tok: Tokenizer, chat: ChatTemplate, turns: readonly ChatTurn[], where: { file?: string; line?: number } = {}): { ids: number[]; mask: number[] } {
  const whole = renderChat(chat, turns, false, where);
  const spans: [number, number][] = [];
  turns.forEach((t, i) => {
    if (!t.train) return;
    const before = renderChat(chat, turns.slice(0, i), true, where), upTo = renderChat(chat, turns.slice(0, i + 1), false, where);
    if (!upTo.startsWith(before) || !whole.startsWith(upTo)) {
      throw new DataError(`the chat template (${chat.source}) does not render this conversation as a prefix of itself, so assistant turn ${i} cannot be located`, { ...where, field: `messages[${i}]` });
    }
    spans.push([before.length, upTo.length]);
  });
  const ids: number[] = [], mask: number[] = [];
  const piece = (from: number, to: number, m: number) => {
    if (to <= from) return;
    for (const id of tok.encode(whole.slice(from, to), { allowSpecial: true })) { ids.push(id); mask.push(m); }
  };
  let at = 0;
  for (const [a, b] of spans) { piece(at, a, 0); piece(a, b, 1); at = b; }
  piece(at, whole.length, 0);
  return { ids, mask };
}

/** The files beside tokenizer.json that carry a model's chat template and special tokens. */
export const TOKENIZER_SIDE_FILES = ['tokenizer_config.json', 'chat_template.jinja', 'special_tokens_map.json', 'generation_config.json'] as const;

/** Copies the side files `from` has into `to` (a tuned or merged model keeps its chat template). */
export function copyTokenizerSideFiles(from: string, to: string): void {
  if (!existsSync(from) || !statSync(from).isDirectory()) return;
  for (const f of TOKENIZER_SIDE_FILES) {
    const src = join(from, f);
    if (existsSync(src)) writeFileAtomic(join(to, f), readFileSync(src));
  }
}

/** The id of a special-token string when the tokenizer has it as one token, else null. */
export function specialIdOf(tok: Tokenizer, s: string): number | null {
  const ids = tok.encode(s, { allowSpecial: true });
  return ids.length === 1 ? ids[0]! : null;
}
