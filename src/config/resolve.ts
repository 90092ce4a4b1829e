import { parseArgv } from './argv.ts';
import { readConfigFile } from './file.ts';
import { resolveValues, type Schema, type Values, type Where } from './schema.ts';

export interface Resolved {
  /** null when --help was asked. */
  values: Values;
  where: Map<string, Where>;
  positionals: string[];
  help: boolean;
}

/**
 * A command line resolved against its schema: flags override the `--config` file (when the
 * schema has a `config` field), which overrides the defaults.
 */
export function resolveArgv(schema: Schema, argv: readonly string[]): Resolved {
  const p = parseArgv(schema, argv);
  if (p.help) return { values: {}, where: new Map(), positionals: p.positionals, help: true };
  const cfgFlag = p.flags.get('config');
  const file = cfgFlag !== undefined ? readConfigFile(String(cfgFlag.raw), schema) : undefined;
  const { values, where } = resolveValues(schema, { flags: p.flags, file });
  return { values, where, positionals: p.positionals, help: false };
}
