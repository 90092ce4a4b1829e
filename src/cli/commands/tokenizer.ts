import { readFileSync } from 'node:fs';
import { ConfigError, DataError } from '../../errors.ts';
import { loadTokenizer, saveTokenizer } from '../../tokenizer/hf-json.ts';
import { DEFAULT_SPECIALS } from '../../tokenizer/special.ts';
import { trainBpe } from '../../tokenizer/train.ts';
import { loadSft } from '../../data/sft-load.ts';
import { log, numberFlag, parseFlags } from '../args.ts';
import type { Command } from '../main.ts';

const USAGE = `usage: fmn tokenizer train --text FILE… --vocab N --out DIR [--json]
       fmn tokenizer encode --tokenizer PATH [--allow-special] TEXT    ids as JSON
       fmn tokenizer decode --tokenizer PATH ID…                       text

Trains a byte-level BPE (GPT-2 pre-split regex) on the text files and writes DIR/tokenizer.json
(Hugging Face format). The vocabulary counts 256 bytes, the merges and the special tokens
${DEFAULT_SPECIALS.join(', ')} (ids after the merges); special-token strings in the text are
boundaries, never merged.

options:
  --text FILE…     training text, one or more files (repeat --text or list the files after it);
                   a .jsonl file is read as SFT data (its prompts, completions and texts)
  --vocab N        total vocabulary size (≥ ${256 + DEFAULT_SPECIALS.length})
  --out DIR        output directory
  --min-frequency N  least count of a pair to merge (default 2)
  --tokenizer PATH  tokenizer.json or a directory holding one (encode, decode)
  --allow-special  encode: match special-token strings in TEXT (default: plain text)
  --json           train: print {"out", "vocab_size", "merges", "bytes", "tokens"} on stdout
  -h, --help       this help`;

export const command: Command = {
  summary: 'train a byte-level BPE tokenizer (tokenizer.json)',
  async run(argv) {
    const { values, positionals } = parseFlags('tokenizer', argv, {
      text: { type: 'string', multiple: true },
      vocab: { type: 'string' },
      out: { type: 'string' },
      'min-frequency': { type: 'string' },
      tokenizer: { type: 'string' },
      'allow-special': { type: 'boolean' },
      json: { type: 'boolean' },
    }, true);
    if (values.help) { process.stdout.write(USAGE + '\n'); return 0; }
    const [sub, ...extra] = positionals;
    if (sub === 'encode' || sub === 'decode') {
      if (!values.tokenizer) throw new ConfigError('missing required option --tokenizer PATH', { field: '--tokenizer' });
      const tok = loadTokenizer(values.tokenizer);
      if (sub === 'encode') {
        process.stdout.write(JSON.stringify(tok.encode(extra.join(' '), { allowSpecial: values['allow-special'] ?? false })) + '\n');
      } else {
        const ids = extra.map((x) => numberFlag('ID', x, 0, { int: true, min: 0, max: tok.vocabSize - 1 }));
        process.stdout.write(tok.decode(ids) + '\n');
      }
      return 0;
    }
    if (sub !== 'train') {
      throw new ConfigError(sub === undefined ? 'missing subcommand (expected train, encode or decode)' : `unknown subcommand "${sub}" (expected train, encode or decode)`, { field: 'subcommand' });
    }
    const files = [...(values.text ?? []), ...extra];
    if (files.length === 0) throw new ConfigError('missing required option --text FILE…', { field: '--text' });
    if (values.vocab === undefined) throw new ConfigError('missing required option --vocab N', { field: '--vocab' });
    if (!values.out) throw new ConfigError('missing required option --out DIR', { field: '--out' });
    const vocabSize = numberFlag('vocab', values.vocab, 0, { int: true, min: 256 + DEFAULT_SPECIALS.length, max: 2 ** 20 });
    const minFrequency = numberFlag('min-frequency', values['min-frequency'], 2, { int: true, min: 1 });

    // a .jsonl file is SFT data: its prompts, completions and texts are the training text
    const texts = files.map((file) => {
      if (/\.jsonl$/i.test(file)) return loadSft(file).map((e) => (e.kind === 'text' ? e.text : `${e.prompt}\n${e.completion}`)).join('\n');
      try { return readFileSync(file, 'utf8'); } catch (e) {
        throw new DataError(`cannot read text: ${(e as Error).message}`, { file }, { cause: e });
      }
    });
    const t0 = performance.now();
    const tok = trainBpe(texts, { vocabSize, minFrequency });
    const file = saveTokenizer(tok, values.out);
    let tokens = 0;
    for (const t of texts) tokens += tok.encode(t, { allowSpecial: true }).length;
    const bytes = texts.reduce((s, t) => s + Buffer.byteLength(t), 0);
    log(`tokenizer: ${file}: vocab ${tok.vocabSize} (${tok.config.merges.length} merges) from ${bytes} bytes → ${tokens} tokens in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    if (values.json) {
      process.stdout.write(JSON.stringify({ out: file, vocab_size: tok.vocabSize, merges: tok.config.merges.length, bytes, tokens }) + '\n');
    }
    return 0;
  },
};
