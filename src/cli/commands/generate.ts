import { Rng } from '../../data/rng.ts';
import { selectBackend } from '../../backend/select.ts';
import { ConfigError } from '../../errors.ts';
import { generate } from '../../model/generate.ts';
import { loadForInference } from '../../train/load.ts';
import { EOT } from '../../tokenizer/special.ts';
import { log, numberFlag, parseFlags } from '../args.ts';
import type { Command } from '../main.ts';

const USAGE = `usage: fmn generate --model MODEL [--adapter RUN] --prompt TEXT [options]

Continues TEXT. Special tokens in TEXT are honoured (end a prompt with <|sep|> to ask a
fine-tuned model for its completion). Stops at <|endoftext|>.

options:
  --max-tokens N      new tokens at most (default 64)
  --temperature T     0 = greedy (default 0)
  --top-k K           sample among the K most likely (default 0 = all)
  --seed N            sampling seed (default 0)
  --json              {"prompt", "completion", "ids"} on stdout
  -h, --help          this help`;

export const command: Command = {
  summary: 'generate text (greedy, temperature, top-k)',
  async run(argv) {
    const { values: v } = parseFlags('generate', argv, {
      model: { type: 'string' }, adapter: { type: 'string' }, prompt: { type: 'string' }, 'max-tokens': { type: 'string' },
      temperature: { type: 'string' }, 'top-k': { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' },
    });
    if (v.help) { process.stdout.write(USAGE + '\n'); return 0; }
    if (!v.model) throw new ConfigError('missing required option --model MODEL', { field: '--model' });
    if (v.prompt === undefined) throw new ConfigError('missing required option --prompt TEXT', { field: '--prompt' });
    const { model, tok } = loadForInference(v.model, v.adapter, { backend: selectBackend(), log });
    const eot = tok.specialId(EOT);
    const ids = generate(model, tok.encode(v.prompt, { allowSpecial: true }), {
      maxNewTokens: numberFlag('max-tokens', v['max-tokens'], 64, { int: true, min: 1 }),
      temperature: numberFlag('temperature', v.temperature, 0, { min: 0 }),
      topK: numberFlag('top-k', v['top-k'], 0, { int: true, min: 0 }),
      stopIds: [eot], rng: new Rng(numberFlag('seed', v.seed, 0, { int: true })),
    });
    const completion = tok.decode(ids.filter((id) => id !== eot));
    if (v.json) process.stdout.write(JSON.stringify({ prompt: v.prompt, completion, ids }) + '\n');
    else process.stdout.write(completion + '\n');
    return 0;
  },
};
