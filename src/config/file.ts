/**
 * Config files (YAML or JSON — JSON is read as YAML, so errors carry lines in both): keys as the
 * schema spells them, or their TRL / PEFT aliases; sections for dotted keys. The "fmn" key holds
 * a resolved config's provenance and is ignored, so `--config RUN/config.resolved.json` works.
 */
import { readText } from '../util/fs.ts';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { ConfigError } from '../errors.ts';
import { fileKeys, suggest, type Given, type Schema } from './schema.ts';

/** Reads `file` into raw values by canonical key; unknown keys, duplicates and bad syntax are errors naming file, line and key. */
export function readConfigFile(file: string, schema: Schema): Map<string, Given> {
  let text: string;
  try { text = readText(file, '--config'); } catch (e) { throw new ConfigError((e as Error & { reason: string }).reason, { file, line: (e as { line?: number }).line }, { cause: e }); }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new ConfigError(`not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${e.message.split('\n')[0]}`, { file, line: e.linePos?.[0].line ?? lc.linePos(e.pos[0]).line }, { cause: e });
  }
  const out = new Map<string, Given>();
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return out;
  if (!isMap(root)) throw new ConfigError('must be a mapping of keys to values', { file, line: 1 });
  const keys = fileKeys(schema);
  const sections = new Set([...keys.keys()].flatMap((k) => k.split('.').slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join('.'))));
  const lineOf = (n: Node | null | undefined) => (n?.range ? lc.linePos(n.range[0]).line : 1);

  const walk = (map: typeof root, prefix: string) => {
    for (const pair of map.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : null;
      const line = lineOf(pair.key as Node);
      if (k === null) throw new ConfigError('keys must be plain names', { file, line });
      const key = prefix === '' ? k : `${prefix}.${k}`;
      if (prefix === '' && k === 'fmn') {
        const cmd = isMap(pair.value) ? pair.value.get('command') : undefined;
        if (typeof cmd === 'string' && cmd !== schema.command) {
          throw new ConfigError(`this config was written by "fmn ${cmd}", not "fmn ${schema.command}"`, { file, line, field: 'fmn.command' });
        }
        continue;
      }
      if (sections.has(key) && isMap(pair.value)) { walk(pair.value, key); continue; }
      const field = keys.get(key);
      if (field === undefined) {
        const hint = suggest(key, keys.keys());
        throw new ConfigError(`unknown key${hint ? ` (did you mean "${hint}"?)` : ''}`, { file, line, field: key });
      }
      if (out.has(field.key)) {
        const first = out.get(field.key)!.where as { key: string; line: number };
        throw new ConfigError(`"${field.key}" is given twice (as "${first.key}" on line ${first.line} and as "${key}")`, { file, line, field: key });
      }
      const v = pair.value as Node | null;
      const raw = v === null ? null : isSeq(v) ? v.toJSON() : isMap(v) ? v.toJSON() : isScalar(v) ? v.value : null;
      out.set(field.key, { raw, where: { file, line, key } });
    }
  };
  walk(root, '');
  return out;
}
