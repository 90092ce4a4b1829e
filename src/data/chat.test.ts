import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createJsBackend } from '../backend/js/index.ts';
import { DataError } from '../errors.ts';
import { saveModel } from '../model/checkpoint.ts';
import { GPT } from '../model/gpt.ts';
import { micro } from '../model/presets.ts';
import { toHfJson } from '../tokenizer/hf-json.ts';
import { Rng } from '../util/rng.ts';
import { trainBpe } from '../tokenizer/train.ts';
import { encodeChat, loadChatTemplate, renderChat, type ChatTurn } from './chat.ts';
import { parseJsonl } from './jsonl.ts';
import { encodeSftFile } from './sft-data.ts';
import { chatWithoutTemplate, sftExampleFromRow } from './sft-load.ts';

const tmp = mkdtempSync(join(tmpdir(), 'fmn-chat-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<s>', '</s>', '<|sep|>', '<|pad|>'];
const tok = trainBpe(['Hello there, how are you? I am fine. What is two plus two? It is four.', 'system user assistant [INST] [/INST]'], { vocabSize: 400, specials: SPECIALS });

/** SmolLM2 / Qwen2.5 style (ChatML). */
const CHATML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
/** Llama-2 chat style: BOS per exchange, the reply followed by EOS. */
const LLAMA2 = "{% for message in messages %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + ' ' + eos_token }}{% endif %}{% endfor %}";

function modelDir(name: string, config: object, jinja?: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  if (jinja !== undefined) writeFileSync(join(dir, 'chat_template.jinja'), jinja);
  return dir;
}

const convo: ChatTurn[] = [
  { role: 'system', content: 'Be brief.', train: false },
  { role: 'user', content: 'Hello there, how are you?', train: false },
  { role: 'assistant', content: 'I am fine.', train: true },
  { role: 'user', content: 'What is two plus two?', train: false },
  { role: 'assistant', content: 'It is four.', train: true },
];

/** The text of the masked (trained) and unmasked tokens. */
function split(ids: number[], mask: number[]) {
  return { trained: tok.decode(ids.filter((_, i) => mask[i] === 1)), rest: tok.decode(ids.filter((_, i) => mask[i] === 0)) };
}

describe('chat templates', () => {
  it('loads tokenizer_config.json\'s chat_template (string or named list) and its special tokens; chat_template.jinja wins', () => {
    const a = loadChatTemplate(modelDir('a', { chat_template: CHATML, eos_token: '<|im_end|>', bos_token: { content: '<s>', lstrip: false } }))!;
    expect(a.tokens).toEqual({ eos_token: '<|im_end|>', bos_token: '<s>' });
    expect(renderChat(a, [{ role: 'user', content: 'Hi' }], true)).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
    const b = loadChatTemplate(modelDir('b', { chat_template: [{ name: 'tool_use', template: 'x' }, { name: 'default', template: CHATML }] }))!;
    expect(renderChat(b, [{ role: 'user', content: 'Hi' }], false)).toBe('<|im_start|>user\nHi<|im_end|>\n');
    const c = loadChatTemplate(modelDir('c', { chat_template: 'ignored' }, LLAMA2))!;
    expect(c.source).toMatch(/chat_template\.jinja$/);
    expect(loadChatTemplate(modelDir('none', { eos_token: '</s>' }))).toBeNull();
    expect(() => loadChatTemplate(modelDir('bad', { chat_template: '{% for %}' }))).toThrow(DataError);
    expect(() => loadChatTemplate(modelDir('badtype', { chat_template: 5 }))).toThrow(/chat_template.*must be a string/);
  });

  it('ChatML: the loss falls on each assistant turn with its end-of-turn marker, and nowhere else', () => {
    const chat = loadChatTemplate(modelDir('chatml', { chat_template: CHATML, eos_token: '<|im_end|>' }))!;
    const { ids, mask } = encodeChat(tok, chat, convo);
    expect(split(ids, mask).trained).toBe('I am fine.<|im_end|>\nIt is four.<|im_end|>\n');
    // encoded piece by piece at the turns' edges, it is the whole rendered text's encoding
    expect(ids).toEqual(tok.encode(renderChat(chat, convo, false), { allowSpecial: true }));
    expect(split(ids, mask).rest).toBe('<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello there, how are you?<|im_end|>\n<|im_start|>assistant\n<|im_start|>user\nWhat is two plus two?<|im_end|>\n<|im_start|>assistant\n');
  });

  it('Llama-2 style: BOS from the config, the reply and its EOS trained', () => {
    const chat = loadChatTemplate(modelDir('llama2', { chat_template: LLAMA2, bos_token: '<s>', eos_token: '</s>' }))!;
    const { ids, mask } = encodeChat(tok, chat, convo);
    expect(split(ids, mask).trained).toBe(' I am fine. </s> It is four. </s>');
    expect(ids[0]).toBe(tok.encode('<s>', { allowSpecial: true })[0]);
  });

  it('a template that does not render a conversation as a prefix of itself is an error naming the row and turn', () => {
    const chat = loadChatTemplate(modelDir('counting', { chat_template: '{{ messages|length }}' + CHATML }))!;
    expect(() => encodeChat(tok, chat, convo, { file: 'x.jsonl', line: 7 })).toThrow(DataError);
    try { encodeChat(tok, chat, convo, { file: 'x.jsonl', line: 7 }); } catch (e) { expect(e).toMatchObject({ file: 'x.jsonl', line: 7, field: 'messages[2]' }); }
  });

  it('conversational prompt/completion rows train on the completion only; without a template the last message is the completion', () => {
    const rows = parseJsonl([
      JSON.stringify({ prompt: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello there' }, { role: 'user', content: 'How are you?' }], completion: [{ role: 'assistant', content: 'I am fine.' }] }),
      JSON.stringify({ messages: convo.map(({ role, content }) => ({ role, content })) }),
    ].join('\n'), 'c.jsonl');
    const [pc, multi] = rows.map((r) => sftExampleFromRow('c.jsonl', r));
    expect(pc).toMatchObject({ kind: 'chat', turns: [{ train: false }, { train: false }, { train: false }, { role: 'assistant', train: true }] });
    expect(chatWithoutTemplate(pc as Extract<typeof pc, { kind: 'chat' }>, 'c.jsonl')).toEqual({ prompt: 'Hi\nHello there\nHow are you?', completion: 'I am fine.' });
    expect(() => chatWithoutTemplate(multi as Extract<typeof multi, { kind: 'chat' }>, 'c.jsonl')).toThrow(/2 assistant turns to learn; without a chat template/);
  });

  it('encodeSftFile uses the template when given one; the mask is what the loss reads', () => {
    const file = join(tmp, 'sft.jsonl');
    writeFileSync(file, JSON.stringify({ messages: convo.map(({ role, content }) => ({ role, content })) }) + '\n' + JSON.stringify({ prompt: 'a', completion: 'b' }) + '\n');
    const chat = loadChatTemplate(join(tmp, 'chatml'))!;
    const { sequences } = encodeSftFile(file, tok, 256, false, chat);
    const [s] = sequences;
    expect(split([...s!.ids], [...s!.mask]).trained).toBe('I am fine.<|im_end|>\nIt is four.<|im_end|>\n');
    expect(() => encodeSftFile(file, tok, 256, false, null)).toThrow(/2 assistant turns to learn/);
  });

  it('fmn generate --chat renders the user message with the model\'s template; without one, --chat is a usage error', () => {
    const m = new GPT(createJsBackend(), { ...micro(tok.vocabSize), nCtx: 64 });
    m.initWeights(new Rng(2));
    const dir = join(tmp, 'model');
    saveModel(m, dir, { tokenizerJson: JSON.stringify(toHfJson(tok)) });
    const fmn = (...a: string[]) => spawnSync(process.execPath, [join(import.meta.dirname, '..', '..', 'bin', 'fmn.js'), ...a], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, FMN_BACKEND: 'js' } });
    const no = fmn('generate', '--model', dir, '--chat', '--prompt', 'Hi');
    expect(no.status).toBe(2);
    expect(no.stderr).toMatch(/"--chat".*has no chat template/);
    expect(fmn('generate', '--model', dir, '--system', 'Be brief.', '--prompt', 'Hi').stderr).toMatch(/"--system".*needs --chat/);
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: CHATML, eos_token: '<|im_end|>' }));
    const r = fmn('generate', '--model', dir, '--chat', '--system', 'Be brief.', '--prompt', 'Hi', '--max-tokens', '5', '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { ids: number[] };
    expect(out.ids.length).toBeGreaterThan(0);
    expect(out.ids.length).toBeLessThanOrEqual(5);
  });
});
