import { isUserError } from '../errors.ts';

/** A command: parses its own argv, returns the exit code (0 ok, 1 gate failed, 2 usage). */
export type Command = { summary: string; run: (argv: string[]) => Promise<number> };

const commands: Record<string, () => Promise<Command>> = {
  lab: async () => (await import('./commands/lab.ts')).command,
  corpus: async () => (await import('./commands/corpus.ts')).command,
  tokenizer: async () => (await import('./commands/tokenizer.ts')).command,
  pretrain: async () => (await import('./commands/pretrain.ts')).command,
  finetune: async () => (await import('./commands/finetune.ts')).command,
  eval: async () => (await import('./commands/eval.ts')).command,
  generate: async () => (await import('./commands/generate.ts')).command,
  merge: async () => (await import('./commands/merge.ts')).command,
  params: async () => (await import('./commands/params.ts')).command,
  report: async () => (await import('./commands/report.ts')).command,
};

async function usage(): Promise<string> {
  const rows = await Promise.all(Object.entries(commands).map(async ([name, load]) => `  ${name.padEnd(10)} ${(await load()).summary}`));
  return [
    'fmn — fine-tune causal language models and measure what they forget',
    '',
    'usage: fmn <command> [options]   (fmn <command> --help for its options)',
    '',
    'commands:',
    ...rows,
    '',
    'exit codes: 0 ok, 1 a gate failed, 2 bad input or usage, 3 internal error',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write((await usage()) + '\n');
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`fmn: unknown command "${name}"\n\n${await usage()}\n`);
    return 2;
  }
  try {
    return await (await load()).run(rest);
  } catch (e) {
    if (isUserError(e)) {
      process.stderr.write(`fmn ${name}: error: ${(e as Error).message}\n`);
      return 2;
    }
    process.stderr.write(`fmn ${name}: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return 3;
  }
}
