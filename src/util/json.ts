/**
 * JSON the loaders can trust: a depth check before JSON.parse, messages on one line, and values
 * shown in an error message short and safe on any input.
 */

/** Deepest JSON nesting the loaders accept (tokenizer.json, config.json, adapter_config.json, a safetensors header, a JSONL row are a few levels deep). */
export const MAX_JSON_DEPTH = 100;

/**
 * The deepest nesting of `[` / `{` in JSON text (strings skipped), in one pass, stopping once
 * past `limit`. Read before JSON.parse: every format here is a few levels deep, and a file of
 * thousands of nested `[[[…` parses into an object per two bytes (~30 times the file in memory).
 */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0, max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < text.length; i++) { const d = text.charCodeAt(i); if (d === 0x5c) i++; else if (d === 0x22) break; }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) { max = depth; if (max > limit) return max; }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** A parser's message on one line (V8 quotes the text around the error, line ends included). */
export const oneLine = (msg: string): string => msg.replace(/[\u0000-\u001f\u2028\u2029]/g,
  (c) => ({ '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** A value for an error message: short, one line, and safe on any JSON (a 100 000-deep array stringifies by recursion). */
export function show(v: unknown, max = 60): string {
  if (typeof v === 'string') return JSON.stringify(v.length > max ? `${v.slice(0, max)}…` : v);
  if (v === null || typeof v !== 'object') return String(v);
  return Array.isArray(v) ? `an array of ${v.length}` : 'an object';
}

/**
 * JSON.parse after the depth check; a problem goes to `fail` (which throws the caller's error
 * class, naming its file and line): "nested more than 100 levels deep" or "invalid JSON: …",
 * with V8's character position when it gives one.
 */
export function parseJson(text: string, fail: (msg: string, e?: { cause: unknown; position?: number }) => never, invalid = 'invalid JSON'): unknown {
  if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) return fail(`nested more than ${MAX_JSON_DEPTH} levels deep`);
  try {
    return JSON.parse(text);
  } catch (cause) {
    const msg = (cause as Error).message;
    const pos = /position (\d+)/.exec(msg);
    return fail(`${invalid}: ${oneLine(msg)}`, { cause, ...(pos && { position: Number(pos[1]) }) });
  }
}
