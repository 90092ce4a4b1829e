import { readText } from '../../util/fs.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { outputFields } from '../../config/common.ts';
import { claimOutputDir } from '../../train/run-dir.ts';
import { coerce, type Schema } from '../../config/schema.ts';
import { loadSft } from '../../data/sft-load.ts';
import { ConfigError } from '../../errors.ts';
import { loadTokenizer, saveTokenizer } from '../../tokenizer/hf-json.ts';
import { DEFAULT_SPECIALS } from '../../tokenizer/special.ts';
import { trainBpe } from '../../tokenizer/train.ts';
import type { Command } from '../command.ts';
import { log, parseCommand, printJson } from '../run.ts';

const TOKENIZER = { key: 'tokenizer', type: 'string', required: true, metavar: 'PATH', help: 'tokenizer.json or a directory holding one' } as const;

export const TOKENIZER_SCHEMAS: Record<'train' | 'encode' | 'decode', Schema> = {
  train: {
    command: 'tokenizer train',
    usage: ['tokenizer train --text FILE… --vocab N --out DIR [--json]'],
    description: `Trains a byte-level BPE (GPT-2 pre-split regex) on the text files and writes DIR/tokenizer.json
(Hugging Face format). The vocabulary counts 256 bytes, the merges and the special tokens
${DEFAULT_SPECIALS.join(', ')} (ids after the merges); special-token strings in the text are
boundaries, never merged. A .jsonl file is read as SFT data (its prompts, completions and texts).`,
    fields: [
      { key: 'text', type: 'list', required: true, metavar: 'FILE…', help: 'training text, one or more files' },
      { key: 'vocab', type: 'int', required: true, min: 256 + DEFAULT_SPECIALS.length, max: 2 ** 20, help: 'total vocabulary size' },
      { key: 'out', type: 'string', required: true, metavar: 'DIR', help: 'output directory' },
      { key: 'min_frequency', type: 'int', min: 1, default: 2, help: 'least count of a pair to merge' },
      ...outputFields().filter((f) => f.key === 'json'),
    ],
  },
  encode: {
    command: 'tokenizer encode',
    usage: ['tokenizer encode --tokenizer PATH [--allow-special] TEXT'],
    description: 'Prints the ids of TEXT as JSON.',
    positionals: { name: 'TEXT', help: 'the text to encode (several arguments are joined with spaces)', min: 1 },
    fields: [TOKENIZER, { key: 'allow_special', type: 'bool', default: false, help: 'match special-token strings in TEXT (default: plain text)' }],
  },
  decode: {
    command: 'tokenizer decode',
    usage: ['tokenizer decode --tokenizer PATH ID…'],
    description: 'Prints the text of the ids.',
    positionals: { name: 'ID…', help: 'token ids', min: 1 },
    fields: [TOKENIZER],
  },
};

export const command: Command = {
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === undefined || sub === '--help' || sub === '-h') {
      process.stdout.write(`usage: fmn tokenizer train|encode|decode [options]   (fmn tokenizer <sub> --help)\n`);
      return sub === undefined ? 2 : 0;
    }
    if (!(sub in TOKENIZER_SCHEMAS)) throw new ConfigError(`unknown subcommand "${sub.slice(0, 40)}" (expected train, encode or decode)`, { field: 'subcommand' });
    const schema = TOKENIZER_SCHEMAS[sub as keyof typeof TOKENIZER_SCHEMAS];
    const r = parseCommand(schema, rest);
    if (r === null) return 0;
    const v = r.values;
    if (sub === 'encode' || sub === 'decode') {
      const tok = loadTokenizer(v.tokenizer as string);
      if (sub === 'encode') {
        process.stdout.write(JSON.stringify(tok.encode(r.positionals.join(' '), { allowSpecial: v.allow_special as boolean })) + '\n');
      } else {
        const id = { key: 'ID', type: 'int', min: 0, max: tok.vocabSize - 1, help: '' } as const;
        process.stdout.write(tok.decode(r.positionals.map((x) => coerce(id, x, { flag: 'ID' }) as number)) + '\n');
      }
      return 0;
    }
    const files = v.text as string[];
    const texts = files.map((file) => {
      if (/\.jsonl$/i.test(file)) return loadSft(file).map((e) => (e.kind === 'text' ? e.text : e.kind === 'chat' ? e.turns.map((t) => t.content).join('\n') : `${e.prompt}\n${e.completion}`)).join('\n');
      return readText(file, '--text');
    });
    const t0 = performance.now();
    const tok = trainBpe(texts, { vocabSize: v.vocab as number, minFrequency: v.min_frequency as number });
    // an earlier tokenizer in --out is replaced; a directory of anything else is refused
    const release = claimOutputDir(v.out as string, { kind: 'a tokenizer directory', owns: (d) => existsSync(join(d, 'tokenizer.json')) }, log);
    let file: string;
    try { file = saveTokenizer(tok, v.out as string); } finally { release(); }
    let tokens = 0;
    for (const t of texts) tokens += tok.encode(t, { allowSpecial: true }).length;
    const bytes = texts.reduce((s, t) => s + Buffer.byteLength(t), 0);
    log(`tokenizer: ${file}: vocab ${tok.vocabSize} (${tok.config.merges.length} merges) from ${bytes} bytes → ${tokens} tokens in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    printJson(v, { out: file, vocab_size: tok.vocabSize, merges: tok.config.merges.length, bytes, tokens });
    return 0;
  },
};
