import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';

/**
 * Reads a YAML or JSON config file and validates it with a zod schema; an unknown key or a bad
 * value is a ConfigError naming the file and the key path (`lora.rank`).
 */
export function readConfigFile<S extends z.ZodType>(file: string, schema: S): z.infer<S> {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) {
    throw new ConfigError(`cannot read config: ${(e as Error).message}`, { file }, { cause: e });
  }
  let raw: unknown;
  try { raw = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text); } catch (e) {
    throw new ConfigError(`not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(e as Error).message}`, { file }, { cause: e });
  }
  const r = schema.safeParse(raw ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue.path.join('.');
    const keys = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys : [];
    const field = keys.length > 0 ? [path, keys[0]].filter((x) => x !== '').join('.') : path;
    const msg = keys.length > 0 ? `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}` : issue.message;
    throw new ConfigError(msg, { file, field: field === '' ? undefined : field });
  }
  return r.data;
}
