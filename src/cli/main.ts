import { isUserError } from '../errors.ts';
import { exitWithParent } from '../util/parent.ts';
import type { Command } from './command.ts';

/** Every command with its one-line summary; a command's module is imported only when it runs. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  lab: { summary: 'run the whole learning-vs-forgetting experiment and write its report', load: async () => (await import('./commands/lab.ts')).command },
  corpus: { summary: 'generate the verb corpus, SFT data and probes (dev and test)', load: async () => (await import('./commands/corpus.ts')).command },
  tokenizer: { summary: 'train a byte-level BPE tokenizer (tokenizer.json); encode, decode', load: async () => (await import('./commands/tokenizer.ts')).command },
  pretrain: { summary: 'train a model from scratch on plain text', load: async () => (await import('./commands/pretrain.ts')).command },
  finetune: { summary: 'supervised fine-tuning, LoRA or full', load: async () => (await import('./commands/finetune.ts')).command },
  analyze: { summary: 'where an update lives (diff) and where the forgetting comes from (ablate, interpolate, truncate)', load: async () => (await import('./commands/analyze.ts')).command },
  sweep: { summary: 'a grid of fine-tunes, resumable, local or over a BullMQ queue; sweep.jsonl and the frontier', load: async () => (await import('./commands/sweep.ts')).command },
  worker: { summary: 'take sweep cells from a BullMQ queue and run them', load: async () => (await import('./commands/worker.ts')).command },
  eval: { summary: 'score probes: accuracy ± se, perplexity, generation, drift with its interval, verdict', load: async () => (await import('./commands/eval.ts')).command },
  generate: { summary: 'generate text (greedy, temperature, top-k)', load: async () => (await import('./commands/generate.ts')).command },
  merge: { summary: 'merge a LoRA adapter into its base model, verified', load: async () => (await import('./commands/merge.ts')).command },
  convert: { summary: 'write a llama2.c checkpoint (and its tokenizer) as a Hugging Face model directory', load: async () => (await import('./commands/convert.ts')).command },
  params: { summary: 'parameter counts and the LoRA trainable share', load: async () => (await import('./commands/params.ts')).command },
  report: { summary: 'rebuild lab reports from saved runs', load: async () => (await import('./commands/report.ts')).command },
};

export const COMMAND_NAMES = Object.keys(COMMANDS);

function usage(version: string): string {
  return [
    `fmn ${version} — fine-tune causal language models and measure what they forget`,
    '',
    'usage: fmn <command> [options]   (fmn <command> --help for its options)',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`),
    '',
    'exit codes: 0 ok, 1 a gate failed, 2 bad input or usage, 3 internal error',
  ].join('\n');
}

export async function main(argv: string[], version: string): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') { process.stdout.write(`${version}\n`); return 0; }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage(version) + '\n');
    return name === undefined ? 2 : 0;
  }
  exitWithParent();
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`fmn: unknown command "${name}"\n\n${usage(version)}\n`);
    return 2;
  }
  try {
    return await (await entry.load()).run(rest);
  } catch (e) {
    if (isUserError(e)) {
      process.stderr.write(`fmn ${name}: error: ${(e as Error).message}\n`);
      return 2;
    }
    process.stderr.write(`fmn ${name}: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return 3;
  }
}
