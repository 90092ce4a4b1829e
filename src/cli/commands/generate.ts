import { RUN_FIELDS } from '../../config/common.ts';
import type { Schema } from '../../config/schema.ts';
import { loadChatTemplate, renderChat, specialIdOf } from '../../data/chat.ts';
import { ConfigError } from '../../errors.ts';
import { loadForInference } from '../../lora/load.ts';
import { generate } from '../../model/generate.ts';
import { encodeGenerationPrompt, sequenceTokens } from '../../data/sft-format.ts';
import { isUserError } from '../../errors.ts';
import { Rng } from '../../util/rng.ts';
import type { Command } from '../command.ts';
import { contextOf, parseCommand } from '../run.ts';

export const GENERATE_SCHEMA: Schema = {
  command: 'generate',
  usage: ['generate --model MODEL [--adapter RUN] --prompt TEXT [options]', 'generate --model MODEL --chat [--system TEXT] --prompt TEXT [options]'],
  description: `Continues TEXT. Special tokens in TEXT are honoured (end a prompt with <|sep|> to ask a
fine-tuned model for its completion). Stops at <|endoftext|>, which is not printed. With --chat,
TEXT is a user message rendered with the model's own chat template (tokenizer_config.json or
chat_template.jinja) and the assistant's reply is generated, up to the template's end-of-turn
token.`,
  fields: [
    { key: 'model', type: 'string', required: true, metavar: 'MODEL', help: 'a model directory or a llama2.c .bin' },
    { key: 'adapter', type: 'string', metavar: 'RUN', help: 'a PEFT LoRA adapter applied to MODEL' },
    { key: 'prompt', type: 'string', required: true, metavar: 'TEXT', help: 'the text to continue' },
    { key: 'chat', type: 'bool', default: false, help: 'TEXT is a user message: apply the model\'s chat template and generate the reply' },
    { key: 'system', type: 'string', metavar: 'TEXT', help: 'with --chat: a system message first' },
    { key: 'max_tokens', type: 'int', min: 1, max: 1 << 16, default: 64, help: 'new tokens at most' },
    { key: 'temperature', type: 'number', min: 0, default: 0, help: '0 = greedy' },
    { key: 'top_k', type: 'int', min: 0, default: 0, help: 'sample among the K most likely (0 = all)' },
    { key: 'seed', type: 'int', min: 0, default: 0, help: 'sampling seed' },
    ...RUN_FIELDS.filter((f) => f.key !== 'quiet'),
  ],
};

export const command: Command = {
  async run(argv) {
    const r = parseCommand(GENERATE_SCHEMA, argv);
    if (r === null) return 0;
    const v = r.values;
    const { model, tok } = loadForInference(v.model as string, v.adapter as string | undefined, contextOf(v));
    if (v.system !== undefined && !v.chat) throw new ConfigError('needs --chat', { field: '--system' });
    let text = v.prompt as string;
    const stops: (number | null)[] = [];
    try { stops.push(sequenceTokens(tok).end); } catch (e) { if (!isUserError(e)) throw e; }   // no end token: stop at --max-tokens
    if (v.chat) {
      const chat = loadChatTemplate(v.model as string);
      if (chat === null) throw new ConfigError(`${v.model} has no chat template (tokenizer_config.json "chat_template" or chat_template.jinja)`, { field: '--chat' });
      text = renderChat(chat, [...(v.system !== undefined ? [{ role: 'system', content: v.system as string }] : []), { role: 'user', content: text }], true);
      if (chat.tokens.eos_token !== undefined) stops.push(specialIdOf(tok, chat.tokens.eos_token));
    }
    const ids = generate(model, v.chat ? tok.encode(text, { allowSpecial: true }) : encodeGenerationPrompt(tok, text), {
      maxNewTokens: v.max_tokens as number, temperature: v.temperature as number, topK: v.top_k as number,
      stopIds: stops.filter((x): x is number => x !== null), rng: new Rng(v.seed as number),
    });
    const completion = tok.decode(ids);
    if (v.json) process.stdout.write(JSON.stringify({ prompt: v.prompt, completion, ids }) + '\n');
    else process.stdout.write(completion + '\n');
    return 0;
  },
};
