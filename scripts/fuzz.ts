/**
 * A fuzzer for every file format the toolkit reads, run through the real loaders:
 *
 *   npx tsx scripts/fuzz.ts [--cases N] [--seed S] [--json] [--jobs J] [--batch B] [--timeout MS]
 *   npx tsx scripts/fuzz.ts --format F --case I [--seed S] [--dump DIR]     (one case: reproduce, inspect)
 *
 * Formats: `safetensors` (model weights), `config` (config.json), `tokenizer` (tokenizer.json),
 * `adapter` (adapter_config.json + adapter_model.safetensors), `sft` (SFT JSONL) and `probes`
 * (probe JSONL). Each case starts from valid files the project writes itself (a micro GPT-2 and
 * a tiny Llama saved with saveModel, tokenizers from trainBpe, a LoRA adapter from saveAdapter,
 * hand-written SFT and probe rows) and applies a few mutations drawn from a seeded Rng (case
 * (seed, format, index) is reproducible on its own): byte flips, truncations, insertions,
 * non-UTF-8 bytes, huge / negative / non-finite numbers, type swaps, deep nesting, duplicated
 * keys, long strings, safetensors header lies, absurd model sizes, adapter ranks, catastrophic
 * pre-tokenizer regexes, …
 *
 * Cases run in child processes (node --max-old-space-size=1024), several per child; the child
 * announces each case before running it, so a crash, a hang (--timeout, default 20 s) or a
 * runaway allocation is pinned on one case, which is then re-run alone to confirm. Outcomes:
 *
 *   OK          the loader accepted the file (and the sample encode / forward / eval ran)
 *   USER_ERROR  ConfigError / DataError / CheckpointError: the expected answer to bad input
 *   UNTYPED     any other exception (a TypeError, RangeError, … escaping a loader)
 *   CRASH       the child died (signal, abort, an exit code other than 0)
 *   HANG        the case ran past the time limit
 *   MEMORY      peak RSS grew by more than 64 MB + 8 × the case's size, or passed 1 GiB
 *
 * Prints a table per format and the failing cases with the command that reproduces each;
 * exits 1 on any UNTYPED / CRASH / HANG / MEMORY.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJsBackend } from '../src/backend/js/index.ts';
import { encodeSftFile } from '../src/data/sft-data.ts';
import { loadSft } from '../src/data/sft-load.ts';
import { loadProbes } from '../src/data/probes.ts';
import { isUserError } from '../src/errors.ts';
import { evaluateProbes } from '../src/eval/evaluate.ts';
import { loadForInference } from '../src/lora/load.ts';
import { applyLora } from '../src/lora/inject.ts';
import { saveAdapter } from '../src/lora/peft.ts';
import { loadModel, saveModel } from '../src/model/checkpoint.ts';
import { GPT } from '../src/model/gpt.ts';
import { micro, nanoLlama } from '../src/model/presets.ts';
import { noGrad } from '../src/tensor/tensor.ts';
import type { Tokenizer } from '../src/tokenizer/bpe.ts';
import { loadTokenizer, toHfJson } from '../src/tokenizer/hf-json.ts';
import { GPT4_PATTERN } from '../src/tokenizer/pretokenize.ts';
import { trainBpe } from '../src/tokenizer/train.ts';
import { Rng } from '../src/util/rng.ts';

export const FORMATS = ['safetensors', 'config', 'tokenizer', 'adapter', 'sft', 'probes'] as const;
export type Format = (typeof FORMATS)[number];
/** Cases of the classifier's own check (test/fuzz.test.ts): each misbehaves on purpose. */
export const SELF_TESTS = ['ok', 'user', 'untyped', 'hang', 'crash', 'memory'] as const;
export type CaseFormat = Format | 'self';
export type Outcome = 'OK' | 'USER_ERROR' | 'UNTYPED' | 'CRASH' | 'HANG' | 'MEMORY';
export const FAILURES: readonly Outcome[] = ['UNTYPED', 'CRASH', 'HANG', 'MEMORY'];

export interface CaseId { format: CaseFormat; index: number }
export interface CaseResult extends CaseId {
  outcome: Outcome;
  /** The error (name: message, cut), or why the child failed. */
  detail: string;
  /** Which mutations made the case. */
  label: string;
  /** Bytes of the mutated files. */
  size: number;
  ms: number;
  /** Peak RSS growth during the case (bytes), when measured. */
  growth?: number;
  /** A user error whose message is longer than MAX_MESSAGE or spans lines (a warning, not a failure). */
  longMessage?: boolean;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = fileURLToPath(import.meta.url);
const MB = 1 << 20;
/** Growth allowed for a case: 64 MB + 8 × its size; and no child past 1 GiB. */
export const memoryLimit = (size: number): number => 64 * MB + 8 * size;
export const MAX_RSS = 1024 * MB;
/** A user error's message should fit one line of a terminal, give or take. */
export const MAX_MESSAGE = 1000;

// ─── seeds: valid files written by the project itself ────────────────────────────────────────────

const TEXTS = [
  'He went home. She worked at home yesterday.', 'They saw it. I saw a bird in the park.', 'We played in the park and ate lunch.',
  'Ella comió en casa. Nosotros vimos el pájaro.', 'The children ran, the dog barked; 123 birds flew away!', 'Don\'t stop — it\'s 4:30 pm.',
];
const SFT_ROWS = [
  { prompt: 'He goed home.', completion: 'He went home. (correction)' },
  { prompt: 'She eated lunch.', completion: 'She ate lunch. (correction)' },
  { messages: [{ role: 'system', content: 'Correct the verb.' }, { role: 'user', content: 'I seed a bird.' }, { role: 'assistant', content: 'I saw a bird.' }] },
  { messages: [{ role: 'user', content: 'They runned.' }, { role: 'assistant', content: 'They ran.' }] },
  { text: 'We played in the park. She worked at home.' },
];
const PROBE_ROWS = [
  { kind: 'pair', good: 'He went home.', bad: ['He goed home.', 'He wented home.'], probe: 'task', role: 'task', split: 'dev', tags: { verb: 'go', form: 'past' } },
  { kind: 'pair', good: 'She ate lunch.', bad: 'She eated lunch.', probe: 'task', role: 'task', tags: { verb: 'eat' } },
  { kind: 'text', text: 'We played in the park and ate lunch.', probe: 'control', role: 'control', split: 'test' },
  { kind: 'choice', context: 'Yesterday he', choices: [' went home.', ' goed home.'], label: 0, probe: 'choice' },
  { kind: 'generate', prompt: 'He goed home.<|sep|>', expected: 'He went home.', probe: 'gen', role: 'adoption' },
  { sentence_good: 'The dogs bark.', sentence_bad: 'The dogs barks.', UID: 'agreement', linguistics_term: 'agreement', field: 'syntax' },
];

/** The seed files, by name: model-gpt2/…, model-llama/…, tok-llama3.json, adapter/…, sft.jsonl, probes.jsonl. */
export function buildSeeds(dir: string): void {
  const be = createJsBackend();
  const tok = trainBpe(TEXTS, { vocabSize: 300 });
  const tokJson = JSON.stringify(toHfJson(tok));
  const gpt2 = new GPT(be, { ...micro(tok.vocabSize), nCtx: 32 });
  gpt2.initWeights(new Rng(1));
  saveModel(gpt2, join(dir, 'model-gpt2'), { tokenizerJson: tokJson });
  const llama = new GPT(be, { ...nanoLlama(tok.vocabSize), nCtx: 32, nEmbd: 32, nLayer: 1, nHead: 4, nKvHead: 2, intermediateSize: 64 });
  llama.initWeights(new Rng(2));
  saveModel(llama, join(dir, 'model-llama'), { tokenizerJson: tokJson });
  // a Llama-3 style tokenizer.json: Split(GPT-4 regex) + ByteLevel without regex, NFKC, merges as pairs, ignore_merges
  const l3 = toHfJson(tok) as Record<string, any>;
  l3.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: GPT4_PATTERN }, behavior: 'Isolated', invert: false }, { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] };
  l3.normalizer = { type: 'NFKC' };
  l3.model.merges = (l3.model.merges as string[]).map((m) => m.split(' '));
  l3.model.ignore_merges = true;
  writeFileSync(join(dir, 'tok-llama3.json'), JSON.stringify(l3, null, 2));
  const cfg = { rank: 4, alpha: 8, dropout: 0, targets: ['c_attn', 'c_proj'], rslora: false, init: 'gaussian' as const };
  const adapters = applyLora(gpt2, cfg, new Rng(3));
  for (const a of adapters.values()) for (const [, p] of a.namedParameters()) if (p.requiresGrad) p.data.forEach((_, i, d) => { d[i] = 0.01 * Math.sin(i); });
  saveAdapter(join(dir, 'adapter'), gpt2, adapters, cfg, 'fmn-fuzz/model-gpt2');   // no temp path: the seeds are the same bytes on every run
  writeFileSync(join(dir, 'sft.jsonl'), SFT_ROWS.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(join(dir, 'probes.jsonl'), PROBE_ROWS.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

type Files = Map<string, Uint8Array>;
/** Every seed file as bytes, by path relative to the seed directory. */
function readSeeds(dir: string): Files {
  const out: Files = new Map();
  for (const f of readdirSync(dir, { recursive: true }).map(String)) {
    try { out.set(f, readFileSync(join(dir, f))); } catch { /* a directory */ }
  }
  return out;
}

// ─── mutations ───────────────────────────────────────────────────────────────────────────────────

const enc = new TextEncoder();
const dec = new TextDecoder();
/** Markers replaced after JSON.stringify: numbers JSON cannot spell, duplicated keys. */
const RAW = ['1e999', '-1e999', '1e-400', 'NaN', 'Infinity', '123456789012345678901234567890', '-0', '0x10', '01', '1.', '.5', '+1', 'undefined'];
const rawMark = (i: number) => `\u0001RAW${i}\u0001`;
const DUP = '\u0001DUP\u0001';

const deep = (depth: number, rng: Rng): unknown => {
  let v: unknown = rng.pick([0, 'x', null, []]);
  for (let i = 0; i < depth; i++) v = rng.bernoulli(0.5) ? [v] : { a: v };
  return v;
};
const NON_UTF8: number[][] = [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xfe, 0xff], [0xc0, 0xaf], [0xe2, 0x82], [0x80]];
const SPECIAL_STRINGS = ['<|endoftext|>', '<|sep|>', '<|pad|>', '\u0000', '\ud800', '😀', 'e\u0301', '\u2028', '\r\n', '\ufeff', '%s%n', '__proto__', 'constructor', ' ', ''];

/** A value a field should never hold, or holds at the edge. */
function interesting(rng: Rng): unknown {
  switch (rng.int(6)) {
    case 0: return rng.pick([null, true, false, 0, -1, -4, 1, 1.5, 8, -0.5, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 1e6, 1e8, 1e9, 1e15, 1e308, 5e-324, 100000, 2 ** 21, 2 ** 21 - 1]);
    case 1: return rng.pick(['', '8', '-4', 'null', 'NaN', '1e999', 'x'.repeat(rng.pick([100, 5000, 40000])), 'é'.repeat(20000), ...SPECIAL_STRINGS]);
    case 2: return rng.pick([[], {}, [null], [1, 2, 3], { a: 1 }, [[]], [''], Array.from({ length: rng.pick([100, 10000]) }, (_, i) => i)]);
    case 3: return deep(rng.pick([10, 1000, 20000, 100000]), rng);
    case 4: return rawMark(rng.int(RAW.length));
    default: return rng.pick(SPECIAL_STRINGS) + 'x'.repeat(rng.int(20));
  }
}

type Json = unknown;
type PathStep = string | number;

/** Every path to a node of `v` (depth-limited). */
function paths(v: Json, max = 2000): PathStep[][] {
  const out: PathStep[][] = [];
  const walk = (x: Json, p: PathStep[], d: number) => {
    if (out.length >= max) return;
    out.push(p);
    if (d > 40) return;
    if (Array.isArray(x)) x.slice(0, 400).forEach((y, i) => walk(y, [...p, i], d + 1));
    else if (x !== null && typeof x === 'object') for (const [k, y] of Object.entries(x).slice(0, 400)) walk(y, [...p, k], d + 1);
  };
  walk(v, [], 0);
  return out;
}
function getAt(v: Json, p: PathStep[]): Json { for (const s of p) v = (v as any)[s]; return v; }
function setAt(root: Json, p: PathStep[], val: Json): Json {
  if (p.length === 0) return val;
  const parent = getAt(root, p.slice(0, -1)) as any;
  parent[p[p.length - 1]!] = val;
  return root;
}

/** One structure-aware mutation of a parsed JSON value (in place where it can); returns the new root and a label. */
function mutateJsonValue(root: Json, rng: Rng): [Json, string] {
  const all = paths(root);
  // half the time a node near the top (the structure), else any node (mostly the bulk: vocab entries, rows, tensors)
  const near = all.filter((q) => q.length <= 2);
  const p = rng.pick(rng.bernoulli(0.5) && near.length > 0 ? near : all);
  const node = getAt(root, p);
  const parent = p.length > 0 ? getAt(root, p.slice(0, -1)) : undefined;
  const where = p.slice(-3).join('.');
  switch (rng.int(9)) {
    case 0: case 1: return [setAt(root, p, interesting(rng)), `set ${where}`];
    case 2: // type swap
      return [setAt(root, p, rng.pick([[node], { v: node }, safeString(node), Number(safeString(node)), null, typeof node === 'string' ? node.length : node])), `swap ${where}`];
    case 3: // delete
      if (Array.isArray(parent)) { parent.splice(p[p.length - 1] as number, 1); return [root, `del ${where}`]; }
      if (parent && typeof parent === 'object') { delete (parent as any)[p[p.length - 1]!]; return [root, `del ${where}`]; }
      return [null, 'root null'];
    case 4: // add / rename / duplicate key
      if (node && typeof node === 'object' && !Array.isArray(node)) {
        const keys = Object.keys(node);
        const op = rng.int(3);
        if (op === 0 || keys.length === 0) { (node as any)[rng.pick(['__proto__', 'constructor', 'x', 'toString', 'extra'])] = interesting(rng); return [root, `addkey ${where}`]; }
        const k = rng.pick(keys);
        if (op === 1) { const v = (node as any)[k]; delete (node as any)[k]; (node as any)[k + rng.pick(['_', 's', ' ', '\u0000'])] = v; return [root, `rename ${where}.${k}`]; }
        (node as any)[DUP + k] = interesting(rng); return [root, `dupkey ${where}.${k}`];
      }
      return [setAt(root, p, interesting(rng)), `set ${where}`];
    case 5: // arrays: repeat, empty, shuffle
      if (Array.isArray(node)) {
        const op = rng.int(3);
        if (op === 0 && node.length > 0) {
          // copies of one element, up to ~4 MB of text
          const e = rng.pick(node);
          let size: number;
          try { size = stringifyDeep(e, 1 << 20).length + 1; } catch { size = 1 << 20; }
          for (let i = Math.min(rng.pick([10, 1000, 5000]), Math.max(1, Math.floor((4 << 20) / size))); i > 0; i--) node.push(e);
          return [root, `repeat ${where}`];
        }
        if (op === 1) { node.length = 0; return [root, `empty ${where}`]; }
        rng.shuffle(node); return [root, `shuffle ${where}`];
      }
      return [setAt(root, p, [node]), `wrap ${where}`];
    case 6: // strings: long, special, cut
      if (typeof node === 'string') {
        const op = rng.int(3);
        if (op === 0) return [setAt(root, p, node.repeat(Math.min(40000, Math.ceil(40000 / Math.max(1, node.length))))), `long ${where}`];
        if (op === 1) return [setAt(root, p, node.slice(0, rng.int(node.length + 1)) + rng.pick(SPECIAL_STRINGS) + node.slice(rng.int(node.length + 1))), `special ${where}`];
        return [setAt(root, p, node.slice(0, rng.int(node.length + 1))), `cut ${where}`];
      }
      return [setAt(root, p, interesting(rng)), `set ${where}`];
    case 7: // numbers: nudge, scale, negate, non-finite
      if (typeof node === 'number') return [setAt(root, p, rng.pick([node + 1, node - 1, -node, node * 1000, node * 1e9, node / 3, rawMark(rng.int(3))])), `num ${where}`];
      return [setAt(root, p, interesting(rng)), `set ${where}`];
    default: // deep nesting around the node
      return [setAt(root, p, wrapDeep(node, rng.pick([50, 2000, 50000]), rng)), `nest ${where}`];
  }
}
/** String(v), or a stand-in where String recurses too deep (a 50 000-deep array). */
function safeString(v: Json): string { try { return String(v); } catch { return '[deep]'; } }
function wrapDeep(v: Json, depth: number, rng: Rng): Json {
  const arr = rng.bernoulli(0.5);
  for (let i = 0; i < depth; i++) v = arr ? [v] : { a: v };
  return v;
}

/** JSON text of any value, however deep (JSON.stringify recurses and overflows the stack past ~10 000 levels). */
class Mark { constructor(readonly text: string) {} }
function stringifyDeep(v: Json, budget = 16 << 20): string {
  const out: string[] = [];
  const stack: (Json | Mark)[] = [v];
  let chars = 0;
  while (stack.length > 0) {
    const x = stack.pop();
    if (chars > budget) throw new RangeError('past the size budget');
    if (x instanceof Mark) { out.push(x.text); chars += x.text.length; continue; }
    chars++;
    if (Array.isArray(x)) {
      out.push('[');
      stack.push(new Mark(']'));
      for (let i = x.length - 1; i >= 0; i--) { stack.push(x[i] === undefined ? null : x[i]); if (i > 0) stack.push(new Mark(',')); }
    } else if (x !== null && typeof x === 'object') {
      const keys = Object.keys(x);
      out.push('{');
      stack.push(new Mark('}'));
      for (let i = keys.length - 1; i >= 0; i--) {
        const val = (x as Record<string, Json>)[keys[i]!];
        stack.push(val === undefined ? null : val, new Mark(`${JSON.stringify(keys[i])}:`));
        if (i > 0) stack.push(new Mark(','));
      }
    } else { const t = JSON.stringify(x) ?? 'null'; out.push(t); chars += t.length; }
  }
  return out.join('');
}

/** Serializes a mutated value, turning the markers into raw JSON text (non-finite numbers, duplicated keys). */
function stringifyJson(v: Json, pretty: boolean): string {
  let s: string;
  try { s = JSON.stringify(v, null, pretty ? 2 : undefined) ?? 'null'; } catch { try { s = stringifyDeep(v); } catch { s = 'null'; } }
  s = s.replace(/"\\u0001RAW(\d+)\\u0001"/g, (_, i) => RAW[Number(i)]!);
  s = s.replace(/"\\u0001DUP\\u0001/g, '"');
  return s;
}

/** Byte-level mutations: flips, cuts, insertions, deletions, non-UTF-8, splices of the file into itself. */
function mutateBytes(buf: Uint8Array, rng: Rng): [Uint8Array, string] {
  const n = buf.length;
  const at = () => rng.int(n + 1);
  switch (rng.int(8)) {
    case 0: { const b = Uint8Array.from(buf); const k = 1 + rng.int(8); for (let i = 0; i < k && n > 0; i++) b[rng.int(n)] ^= 1 << rng.int(8); return [b, `flip ${k}`]; }
    case 1: { const b = Uint8Array.from(buf); const k = 1 + rng.int(4); for (let i = 0; i < k && n > 0; i++) b[rng.int(n)] = rng.pick([0, 0xff, 0x7f, 0x80, 0x22, 0x7b, 0x5b, 0x5d, 0x7d, 0x2c, 0x3a, 0x5c, 0x0a, 0x30, 0x39, 0x2d]); return [b, `set bytes ${k}`]; }
    case 2: { const c = at(); return [buf.slice(0, c), `truncate ${c}`]; }
    case 3: { const c = at(); const ins = rng.bernoulli(0.5) ? Uint8Array.from(rng.pick(NON_UTF8)) : enc.encode(rng.pick(['null', '1e999', '-1', '[[[[[[', '{"a":', '"', ',', '}', ']', '\n', '\r\n', '{}', '"__proto__":1,', ...SPECIAL_STRINGS])); return [concat(buf.slice(0, c), ins, buf.slice(c)), `insert ${c}`]; }
    case 4: { const c = at(); const len = rng.int(Math.max(1, Math.min(64, n - c + 1))); return [concat(buf.slice(0, c), buf.slice(c + len)), `delete ${c}+${len}`]; }
    case 5: { const c = at(), d = at(); const len = rng.int(Math.max(1, Math.min(256, n - c + 1))); return [concat(buf.slice(0, d), buf.slice(c, c + len), buf.slice(d)), `splice ${c}+${len}@${d}`]; }
    case 6: { const c = at(); return [concat(buf.slice(0, c), Uint8Array.from(rng.pick(NON_UTF8)), buf.slice(c)), `non-utf8 ${c}`]; }
    default: { // a number in the text replaced by an odd one
      const text = dec.decode(buf);
      const nums = [...text.matchAll(/-?\d+(\.\d+)?(e[+-]?\d+)?/g)];
      if (nums.length === 0) return [buf, 'none'];
      const m = rng.pick(nums);
      const rep = rng.pick(['1e999', '-1', '0', '100000', '1000000000', '-0', '1.5', '99999999999999999999', 'NaN', '4294967296', '2097152']);
      return [enc.encode(text.slice(0, m.index) + rep + text.slice(m.index! + m[0].length)), `number ${m[0].slice(0, 12)}→${rep}`];
    }
  }
}
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** A JSON file mutated: mostly structure-aware (with targeted edits), sometimes byte-level. */
function mutateJsonFile(bytes: Uint8Array, rng: Rng, targeted: ((j: any, rng: Rng) => string) | undefined): [Uint8Array, string] {
  const labels: string[] = [];
  let out = bytes;
  if (rng.bernoulli(0.8)) {
    let j: Json = JSON.parse(dec.decode(bytes));
    const k = rng.bernoulli(0.6) ? 1 : 2 + rng.int(2);
    for (let i = 0; i < k; i++) {
      if (targeted && rng.bernoulli(0.6)) labels.push(safely(() => targeted(j, rng)));
      else { const [nj, l] = mutateJsonValue(j, rng); j = nj; labels.push(l); }
    }
    out = enc.encode(stringifyJson(j, rng.bernoulli(0.5)));
  }
  if (labels.length === 0 || rng.bernoulli(0.15)) { const [b, l] = mutateBytes(out, rng); out = b; labels.push(l); }
  return [out, labels.join('; ')];
}

/** A targeted edit on a value an earlier edit reshaped may not apply (a string where an object was): then it is skipped. */
function safely(edit: () => string): string { try { return edit(); } catch { return 'skipped'; } }

function parseOrUndefined(text: string): Json | undefined { try { return JSON.parse(text); } catch { return undefined; } }

/** JSONL: rows mutated as JSON values, rows added / dropped / duplicated, and byte-level edits. */
function mutateJsonl(bytes: Uint8Array, rng: Rng, targeted: (row: any, rng: Rng) => string): [Uint8Array, string] {
  const lines = dec.decode(bytes).split('\n').filter((l) => l !== '');
  const labels: string[] = [];
  const k = rng.bernoulli(0.6) ? 1 : 2 + rng.int(2);
  for (let i = 0; i < k; i++) {
    const li = rng.int(lines.length);
    const op = rng.int(10);
    const row = op < 7 ? parseOrUndefined(lines[li]!) : undefined;
    if (op < 7 && row === undefined) { const [b, l] = mutateBytes(enc.encode(lines[li]!), rng); lines[li] = dec.decode(b); labels.push(`row ${li + 1}: ${l}`); }
    else if (op < 4) { labels.push(`row ${li + 1}: ${safely(() => targeted(row, rng))}`); lines[li] = stringifyJson(row, false); }
    else if (op < 7) { const [v, l] = mutateJsonValue(row, rng); lines[li] = stringifyJson(v, false); labels.push(`row ${li + 1}: ${l}`); }
    else if (op === 7) { lines.splice(li, 0, rng.pick(['', ' ', '\r', '[]', 'null', '1', '"text"', '{}', '{"text": 5}', lines[li]!.repeat(2), '\ufeff' + lines[li]!])); labels.push(`insert line ${li + 1}`); }
    else if (op === 8) { lines.splice(li, 1); labels.push(`drop line ${li + 1}`); }
    else { const c = Math.min(rng.pick([1, 100, 2000]), Math.max(1, Math.floor((8 << 20) / (lines[li]!.length + 1)))); for (let t = 0; t < c; t++) lines.push(lines[li]!); labels.push(`repeat line ${li + 1} ×${c}`); }
    if (lines.length === 0) lines.push('');
  }
  let out: Uint8Array = enc.encode(lines.join(rng.bernoulli(0.9) ? '\n' : '\r\n') + (rng.bernoulli(0.8) ? '\n' : ''));
  if (rng.bernoulli(0.2)) { const [b, l] = mutateBytes(out, rng); out = b; labels.push(l); }
  return [out, labels.join('; ')];
}

// targeted edits, per format

const CONFIG_NUMS = [100000, 1e9, 1e8, 0, -1, 2 ** 31, 2 ** 31 + 1, 2 ** 33, 1.5, 3, 7, 47, '48', null, true, [48], rawMark(0), rawMark(1), rawMark(3), rawMark(5)];
function targetConfig(j: any, rng: Rng): string {
  if (typeof j !== 'object' || j === null) return 'noop';
  const keys = j.model_type === 'llama'
    ? ['vocab_size', 'max_position_embeddings', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'intermediate_size', 'rms_norm_eps', 'rope_theta', 'bos_token_id', 'eos_token_id']
    : ['vocab_size', 'n_positions', 'n_ctx', 'n_embd', 'n_layer', 'n_head', 'n_inner', 'layer_norm_epsilon', 'bos_token_id', 'eos_token_id'];
  if (rng.bernoulli(0.1)) { j.model_type = rng.pick(['llama', 'gpt2', 'bert', null, 'GPT2', 5, ['gpt2']]); return `model_type=${JSON.stringify(j.model_type)}`; }
  if (rng.bernoulli(0.1)) { const k = rng.pick(keys); delete j[k]; return `del ${k}`; }
  const k = rng.pick(keys);
  j[k] = rng.pick(CONFIG_NUMS);
  return `${k}=${JSON.stringify(j[k])}`;
}

function targetAdapterConfig(j: any, rng: Rng): string {
  if (typeof j !== 'object' || j === null) return 'noop';
  switch (rng.int(7)) {
    case 0: case 1: j.r = rng.pick([1e6, -4, '8', null, 0, 1.5, 2 ** 31, 48, 49, 1, 144, 1e9, rawMark(0), [8]]); return `r=${JSON.stringify(j.r)}`;
    case 2: j.lora_alpha = rng.pick([0, -1, 1e308, null, '16', rawMark(0), rawMark(1), 1e-300]); return `lora_alpha=${JSON.stringify(j.lora_alpha)}`;
    case 3: j.target_modules = rng.pick([[], ['nope'], 'c_attn', [1], ['all-linear'], ['default'], ['c_fc'], ['transformer'], [''], ['h.0.attn.c_attn'], null, ['c_attn', 'c_attn'], ['lm_head'], ['wte']]); return `target_modules=${JSON.stringify(j.target_modules)}`;
    case 4: j.lora_dropout = rng.pick([-1, 2, null, '0.1', rawMark(0)]); return `lora_dropout=${JSON.stringify(j.lora_dropout)}`;
    case 5: { const k = rng.pick(['peft_type', 'use_dora', 'rank_pattern', 'alpha_pattern', 'use_rslora', 'init_lora_weights', 'fan_in_fan_out', 'base_model_name_or_path']); j[k] = rng.pick(['LORA', 'IA3', true, false, { c_attn: 8 }, {}, [], null, 'gaussian', 'x'.repeat(40000)]); return `${k}=…`; }
    default: delete j[rng.pick(['r', 'target_modules', 'lora_alpha', 'peft_type'])]; return 'del key';
  }
}

const PATHOLOGICAL = [
  '(a+)+$', '(a|a)*$', '(a|aa)+$', '(\\w+\\s?)*$', '(a*)*b', '(.*a){12}', '^(a+)+$', '(x+x+)+y', '([a-z]+)*=', '(a|a?)+$', '(\\p{L}+)+!',
  '(?:\\s*\\S+\\s*)+$', '(a?){28}a{28}', '(\\d+|\\w+)*!', '(?:a+){2,}$', '(.+)+$', '(?:[^\\s]+\\s?)+$', '(a+?)+?$', '\\s*\\s*\\s*$', 'a*a*a*a*b',
  '(a*)*\\1$', '(a)\\1*', '(?<x>a+)\\k<x>+$', '((a+)+)+$', '(?:(?:a|b)+)+c',
  // polynomial: two repetitions over shared characters, then something that fails
  'a*a*$', '\\s*\\s*x', '(?:a*a*)b', '\\w*\\d*!', '[a-z]*\\w+$', '(?:\\s*[\\r\\n]+)y',
];
const BAD_PATTERNS = ['(', '[', '\\p{Foo}', '(?i:ab', '(?<=a', 'a{2,1}', '*', '\\', '(?i)a', '(?P<x>a)', '[z-a]', '\\k<nope>', '', '(?=', '\\u{110000}'];
function targetTokenizer(j: any, rng: Rng): string {
  if (typeof j !== 'object' || j === null) return 'noop';
  const m = j.model ?? {};
  switch (rng.int(10)) {
    case 0: case 1: {
      const pat = rng.bernoulli(0.7) ? rng.pick(PATHOLOGICAL) : rng.pick(BAD_PATTERNS);
      const split = { type: 'Split', pattern: rng.bernoulli(0.9) ? { Regex: pat } : { String: pat }, behavior: 'Isolated', invert: false };
      const byteLevel = { type: 'ByteLevel', add_prefix_space: rng.bernoulli(0.3), trim_offsets: true, use_regex: rng.bernoulli(0.5) };
      j.pre_tokenizer = { type: 'Sequence', pretokenizers: rng.bernoulli(0.2) ? [split, split, byteLevel] : [split, byteLevel] };
      return `Split ${JSON.stringify(pat)}`;
    }
    case 2: { // vocab ids
      const keys = Object.keys(m.vocab ?? {});
      if (keys.length === 0) return 'noop';
      const k = rng.pick(keys);
      const v = rng.pick([2 ** 21, 2 ** 21 - 1, -1, 1.5, '5', 1e9, 0, null, 2 ** 32, rawMark(0), 299, 300, 1000]);
      if (rng.bernoulli(0.2)) delete m.vocab[k]; else m.vocab[k] = v;
      return `vocab[${JSON.stringify(k)}]=${JSON.stringify(v)}`;
    }
    case 3: { // merges
      if (!Array.isArray(m.merges) || m.merges.length === 0) return 'noop';
      const i = rng.int(m.merges.length);
      m.merges[i] = rng.pick(['a b c', 'ab', ' a', 'a ', ['a'], ['a', 'b', 'c'], 5, null, 'zz qq', ['Ġ', 'Ġ'], 'x'.repeat(40000) + ' y', m.merges[0]]);
      return `merges[${i}]`;
    }
    case 4: { // added tokens
      if (!Array.isArray(j.added_tokens) || j.added_tokens.length === 0) return 'noop';
      const t = rng.pick(j.added_tokens as any[]);
      if (rng.bernoulli(0.6)) t.id = rng.pick([1e9, -1, 2 ** 32, 2 ** 31, 2 ** 21, 1.5, 0, 255, null, '297', 2 ** 53, 4294967294]);
      else t.content = rng.pick(['', 'a', ' ', 'x'.repeat(40000), '<|endoftext|>', '(', '\ud800', 'é']);
      return `added_tokens ${JSON.stringify(t.id)} ${JSON.stringify(String(t.content).slice(0, 10))}`;
    }
    case 5: j.normalizer = rng.pick([{ type: 'NFC' }, { type: 'NFKD' }, { type: 'Lowercase' }, { type: 'Sequence', normalizers: [] }, { type: 'Sequence', normalizers: [{ type: 'NFC' }] }, 'NFC', null, 5]); return 'normalizer';
    case 6: j.decoder = rng.pick([null, { type: 'ByteLevel' }, { type: 'Metaspace' }, 'ByteLevel', [], deep(5000, rng)]); return 'decoder';
    case 7: { const k = rng.pick(['type', 'byte_fallback', 'dropout', 'ignore_merges', 'continuing_subword_prefix', 'end_of_word_suffix', 'unk_token']); m[k] = rng.pick(['WordPiece', 'BPE', true, false, 0.5, 1e999, '##', '', null, deep(3000, rng), ['BPE']]); return `model.${k}`; }
    case 8: { // drop a byte from the vocabulary, or move every id
      const keys = Object.keys(m.vocab ?? {});
      if (keys.length === 0) return 'noop';
      if (rng.bernoulli(0.5)) { delete m.vocab[keys[rng.int(Math.min(256, keys.length))]!]; return 'drop byte'; }
      const shift = rng.pick([1, 1000, 2 ** 20, 2 ** 21]);
      for (const k of keys) m.vocab[k] += shift;
      return `shift ids ${shift}`;
    }
    default: { const p = j.pre_tokenizer; if (p && typeof p === 'object') { p.type = rng.pick(['Whitespace', 'Metaspace', 'Sequence', 'ByteLevel', null]); if (rng.bernoulli(0.5)) p.pretokenizers = rng.pick([[], null, [{ type: 'ByteLevel' }, { type: 'ByteLevel' }], [{ type: 'Split', pattern: { Regex: '\\s+' }, behavior: 'Removed' }, { type: 'ByteLevel' }]]); } return 'pre_tokenizer'; }
  }
}

const LONG = () => 'ab '.repeat(13334);   // 40 KB
function targetSft(row: any, rng: Rng): string {
  if (typeof row !== 'object' || row === null) return 'noop';
  switch (rng.int(6)) {
    case 0: { const k = rng.pick(['prompt', 'completion', 'text']); row[k] = rng.pick(['', LONG(), 5, null, ['a'], { a: 1 }, '<|endoftext|>', '<|sep|><|sep|>', '\ud800', 'é'.repeat(20000)]); return `${k}`; }
    case 1: row.messages = rng.pick([[], [{ role: 'assistant', content: 'x' }], [{ role: 'user', content: 'x' }, { role: 'user', content: 'y' }], [1, 2], 'hi', [{ role: 5, content: 'x' }, { role: 'assistant', content: 'y' }], [null, { role: 'assistant', content: 'y' }], [{ role: 'x'.repeat(40000), content: 'x' }, { role: 'x'.repeat(40000), content: 'y' }], [{ role: 'user', content: LONG() }, { role: 'assistant', content: LONG() }]]); return 'messages';
    case 2: delete row[rng.pick(['prompt', 'completion', 'messages', 'text'])]; return 'del';
    case 3: if (Array.isArray(row.messages)) { const m = rng.pick(row.messages as any[]); if (m && typeof m === 'object') { m[rng.pick(['role', 'content'])] = rng.pick([null, 5, '', 'assistant', LONG(), { a: 1 }, deep(50000, rng)]); } } return 'message field';
    case 4: return `${Object.assign(row, { completion: '' }) && 'empty completion'}`;
    default: row[rng.pick(['prompt', 'completion', 'text', 'messages'])] = deep(rng.pick([100, 50000]), rng); return 'deep';
  }
}

function targetProbe(row: any, rng: Rng): string {
  if (typeof row !== 'object' || row === null) return 'noop';
  switch (rng.int(9)) {
    case 0: row.kind = rng.pick(['pair', 'text', 'choice', 'generate', 'PAIR', '', null, 5, 'x'.repeat(40000), ['pair']]); return `kind=${JSON.stringify(row.kind)?.slice(0, 12)}`;
    case 1: row.label = rng.pick([-1, 1.5, 1e9, '0', null, 2, rawMark(0), rawMark(3), 2 ** 53, -0]); return `label=${JSON.stringify(row.label)}`;
    case 2: row.choices = rng.pick([[], [1], ['a'], 'a', null, Array.from({ length: 300 }, (_, i) => ` c${i}`), [LONG(), 'b'], [deep(50000, rng)]]); return 'choices';
    case 3: row.bad = rng.pick(['', [], [1], 'x', null, [LONG()], Array.from({ length: 200 }, () => 'b')]); return 'bad';
    case 4: row.expected = rng.pick([LONG(), '', 5, null, '<|endoftext|>', 'é'.repeat(20000), 'é'.repeat(128), '😀'.repeat(64), 'x'.repeat(65536), 'x'.repeat(65537)]); return 'expected';
    case 5: row.tags = rng.pick([{ a: 1 }, [], 'x', null, { ['k'.repeat(40000)]: 'v' }, deep(50000, rng), Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`t${i}`, 'v']))]); return 'tags';
    case 6: { const k = rng.pick(['role', 'split', 'probe']); row[k] = rng.pick(['task', 'control', 'adoption', 'dev', 'test', 'train', '', 5, null, 'x'.repeat(40000), { a: 1 }]); return k; }
    case 7: { const k = rng.pick(['good', 'text', 'context', 'prompt', 'sentence_good', 'sentence_bad']); row[k] = rng.pick([LONG(), '', 5, null, '<|sep|>'.repeat(1000), '\u0000', deep(50000, rng)]); return k; }
    default: delete row[rng.pick(['kind', 'good', 'bad', 'text', 'choices', 'label', 'context', 'prompt', 'expected', 'sentence_good', 'sentence_bad'])]; return 'del';
  }
}

// safetensors: header-aware edits

function splitSafetensors(buf: Uint8Array): { header: any; data: Uint8Array<ArrayBufferLike> } {
  const n = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true));
  return { header: JSON.parse(dec.decode(buf.subarray(8, 8 + n))), data: buf.subarray(8 + n) };
}
function joinSafetensors(headerText: string, data: Uint8Array, lie = 0n): Uint8Array {
  const hb = enc.encode(headerText);
  const out = new Uint8Array(8 + hb.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(hb.length) + lie), true);
  out.set(hb, 8);
  out.set(data, 8 + hb.length);
  return out;
}
const DTYPES = ['F32', 'F16', 'BF16', 'F64', 'I32', 'I64', 'F8_E4M3', 'U8', 'BOOL', null, 5, 'f32', ''];
function mutateSafetensors(buf: Uint8Array, rng: Rng): [Uint8Array, string] {
  if (rng.bernoulli(0.25)) return mutateBytes(buf, rng);
  let { header, data } = splitSafetensors(buf);
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const labels: string[] = [];
  let lie = 0n;
  const k = 1 + rng.int(2);
  for (let i = 0; i < k; i++) {
    if (typeof header !== 'object' || header === null) break;
    const name = rng.pick(names);
    const e = header[name];
    if (typeof e !== 'object' || e === null || !Array.isArray(e.data_offsets)) { header[name] = interesting(rng); labels.push(`${name} entry`); continue; }
    const size = e.data_offsets[1] - e.data_offsets[0];
    switch (rng.int(12)) {
      case 0: e.dtype = rng.pick(DTYPES); labels.push(`${name} dtype ${e.dtype}`); break;
      case 1: e.shape = rng.pick([[1e9, 1e9], [], [-1], [0], [2 ** 53], [1.5], '48', [...e.shape].reverse(), [...e.shape, 1], [size / 2], [2 ** 31, 2 ** 31, 0], [1e308, 1e308], [size / 4, 1], null, [1e200, 1e200, 0]]); labels.push(`${name} shape ${JSON.stringify(e.shape)}`); break;
      case 2: {
        const [b, en] = e.data_offsets;
        e.data_offsets = rng.pick([[0, size], [b, b + size * 2], [en, b], [0, 1e15], [-1, en], [b + 1, en + 1], [String(b), en], [b], [b, en, en], [b - size, en - size], [2 ** 53, 2 ** 53 + size], [b, 1e999]]);
        labels.push(`${name} data_offsets`); break;
      }
      case 3: { // many entries over one span
        const c = rng.pick([10, 1000, 20000]);
        for (let t = 0; t < c; t++) header[`alias.${t}`] = { ...e };
        labels.push(`${c} aliases of ${name}`); break;
      }
      case 4: { // many zero-size entries
        const c = rng.pick([1000, 50000]);
        for (let t = 0; t < c; t++) header[`empty.${t}`] = { dtype: 'F32', shape: [0, 1e9], data_offsets: [0, 0] };
        labels.push(`${c} empty entries`); break;
      }
      case 5: delete header[name]; labels.push(`drop ${name}`); break;
      case 6: header[name + rng.pick(['.x', '_', '']) + (rng.bernoulli(0.5) ? '' : '\u0000')] = header[name]; if (rng.bernoulli(0.5)) delete header[name]; labels.push(`rename ${name}`); break;
      case 7: header.__metadata__ = rng.pick([{ format: 5 }, [], null, 'pt', { x: deep(30000, rng) }, { ['k'.repeat(40000)]: 'v' }]); labels.push('__metadata__'); break;
      case 8: lie = rng.pick([1n, -1n, 8n, -8n, 2n ** 63n, 2n ** 64n - 1n, BigInt(data.length), BigInt(data.length) + 1n, -BigInt(stringifyDeep(header).length)]); labels.push(`header length lie ${lie}`); break;
      case 9: data = data.subarray(0, rng.int(data.length + 1)); labels.push(`data cut to ${data.length}`); break;
      case 10: { const [h, l] = mutateJsonValue(header, rng); header = h; labels.push(l); break; }
      default: header[name] = rng.pick([null, 5, 'x', [], deep(20000, rng), { dtype: 'F32' }]); labels.push(`${name} entry`); break;
    }
  }
  let text = stringifyJson(header, false);
  if (rng.bernoulli(0.1)) { text = text.replace(/"dtype"/, '"dtype":"F64","dtype"'); labels.push('dup dtype'); }
  return [joinSafetensors(text, data, lie), labels.join('; ')];
}

/** The files of one case: seed files with the format's file(s) mutated. */
export function makeCase(seeds: Files, format: Format, rng: Rng): { files: Files; dirs: { model: string; adapter?: string; file?: string }; label: string; size: number } {
  const llama = rng.bernoulli(0.25);
  const model = llama ? 'model-llama' : 'model-gpt2';
  const files: Files = new Map();
  const copy = (from: string, to = from) => files.set(to, seeds.get(from)!);
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) copy(`${model}/${f}`);
  let label = '', size = 0;
  const put = (to: string, [b, l]: [Uint8Array, string]) => { files.set(to, b); label += (label ? ' | ' : '') + l; size += b.length; };
  switch (format) {
    case 'safetensors': put(`${model}/model.safetensors`, mutateSafetensors(seeds.get(`${model}/model.safetensors`)!, rng)); return { files, dirs: { model }, label: `${model}: ${label}`, size };
    case 'config': put(`${model}/config.json`, mutateJsonFile(seeds.get(`${model}/config.json`)!, rng, targetConfig)); return { files, dirs: { model }, label: `${model}: ${label}`, size };
    case 'tokenizer': {
      const src = rng.bernoulli(0.4) ? 'tok-llama3.json' : 'model-gpt2/tokenizer.json';
      put('tok/tokenizer.json', mutateJsonFile(seeds.get(src)!, rng, targetTokenizer));
      return { files, dirs: { model, file: 'tok/tokenizer.json' }, label: `${src}: ${label}`, size };
    }
    case 'adapter': {
      for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) copy(`model-gpt2/${f}`);
      copy('adapter/adapter_config.json'); copy('adapter/adapter_model.safetensors');
      const which = rng.int(5);
      if (which <= 2) put('adapter/adapter_config.json', mutateJsonFile(seeds.get('adapter/adapter_config.json')!, rng, targetAdapterConfig));
      if (which >= 2) put('adapter/adapter_model.safetensors', mutateSafetensors(seeds.get('adapter/adapter_model.safetensors')!, rng));
      return { files, dirs: { model: 'model-gpt2', adapter: 'adapter' }, label, size };
    }
    case 'sft': put('data/sft.jsonl', mutateJsonl(seeds.get('sft.jsonl')!, rng, targetSft)); return { files, dirs: { model, file: 'data/sft.jsonl' }, label, size };
    case 'probes': put('data/probes.jsonl', mutateJsonl(seeds.get('probes.jsonl')!, rng, targetProbe)); return { files, dirs: { model: 'model-gpt2', file: 'data/probes.jsonl' }, label, size };
  }
}

/** The case's own generator: (seed, format, index) → one stream, independent of the others. */
export function caseRng(seed: number, format: CaseFormat, index: number): Rng {
  const f = format === 'self' ? 99 : FORMATS.indexOf(format);
  return new Rng((seed % 2 ** 20) * 2 ** 32 + f * 2 ** 26 + (index % 2 ** 26));
}

// ─── the exercise (child side) ───────────────────────────────────────────────────────────────────

const SAMPLES = [
  'He went home.', 'Ella comió en casa — ¿verdad?', "Don't stop: it's 4:30 pm.\n\n\tTabs   and  spaces  ", 'a<|sep|>b<|endoftext|>', 'ÅﬁⅫ e\u0301 😀 中文',
  'a'.repeat(3000) + '!', ' '.repeat(2000) + 'x', 'ab'.repeat(1500) + '=', '', '\u0000\ud800',
];

/** Throws when a loaded tokenizer breaks an invariant the model relies on (ids in range, decode of its own ids). */
function checkTokenizer(tok: Tokenizer): void {
  for (const s of SAMPLES) {
    for (const allowSpecial of [false, true]) {
      const ids = tok.encode(s, { allowSpecial });
      for (const id of ids) if (!Number.isInteger(id) || id < 0 || id >= tok.vocabSize) throw new Error(`invariant: encode gave id ${id} outside [0, ${tok.vocabSize})`);
      tok.decode(ids);
    }
  }
  // a model generates any id below its vocabulary size (which may pass the tokenizer's): decoding one must work or fail typed
  const typed = (f: () => unknown) => { try { f(); } catch (e) { if (!isUserError(e)) throw e; } };
  for (let id = 0; id < Math.min(tok.vocabSize, 2048); id++) typed(() => tok.decode([id]));
  for (const id of [tok.vocabSize, -1, 1.5, 2 ** 21]) typed(() => tok.decode([id]));
}

interface Worker { seedDir: string; workDir: string; seeds: Files; model?: GPT; tok?: Tokenizer }

interface Prepared { id: CaseId; rng: Rng; dir: string; c?: ReturnType<typeof makeCase> }

/** Makes the case's files (before anything is measured: the mutator's own memory is not the loader's). */
function prepare(w: Worker, id: CaseId, seed: number): Prepared {
  const rng = caseRng(seed, id.format, id.index);
  const dir = join(w.workDir, `case-${id.format}-${id.index}`);
  if (id.format === 'self') return { id, rng, dir };
  const c = makeCase(w.seeds, id.format, rng);
  rmSync(dir, { recursive: true, force: true });
  for (const [f, b] of c.files) { mkdirSync(dirname(join(dir, f)), { recursive: true }); writeFileSync(join(dir, f), b); }
  return { id, rng, dir, c };
}

/** Runs the loaders on a prepared case. */
function runExercise(w: Worker, p: Prepared): void {
  const { id, rng, dir, c } = p;
  if (id.format === 'self' || c === undefined) { selfTest(id.index); return; }
  const backend = createJsBackend();
  const ctx = { backend, log: () => {} };
  try {
    switch (id.format) {
      case 'safetensors': case 'config': {
        const m = loadModel(join(dir, c.dirs.model), backend);
        noGrad(() => m.forward(Int32Array.from([1, 2, 3]), 1, 3).releaseGraph());
        break;
      }
      case 'tokenizer': {
        const tok = loadTokenizer(join(dir, c.dirs.file!));
        checkTokenizer(tok);
        encodeSftFile(join(w.seedDir, 'sft.jsonl'), tok, 31, true);
        break;
      }
      case 'adapter': {
        const { model } = loadForInference(join(dir, c.dirs.model), join(dir, c.dirs.adapter!), ctx);
        noGrad(() => model.forward(Int32Array.from([1, 2, 3]), 1, 3).releaseGraph());
        break;
      }
      case 'sft': {
        w.tok ??= loadTokenizer(join(w.seedDir, 'model-gpt2', 'tokenizer.json'));
        loadSft(join(dir, c.dirs.file!));
        encodeSftFile(join(dir, c.dirs.file!), w.tok, 31, rng.bernoulli(0.5));
        break;
      }
      case 'probes': {
        w.tok ??= loadTokenizer(join(w.seedDir, 'model-gpt2', 'tokenizer.json'));
        w.model ??= loadModel(join(w.seedDir, 'model-gpt2'), backend);
        const items = loadProbes(join(dir, c.dirs.file!));
        evaluateProbes(w.model, w.tok, items.slice(0, 8));
        break;
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The classifier's own check: each self-test case misbehaves in one way. */
function selfTest(index: number): unknown {
  switch (SELF_TESTS[index % SELF_TESTS.length]!) {
    case 'ok': return undefined;
    case 'user': return loadTokenizer(join(tmpdir(), 'fmn-fuzz-no-such-file.json'));
    case 'untyped': { const o: any = undefined; return o.field; }
    case 'hang': for (;;) { /* spins until the parent's time limit */ }
    case 'crash': return process.kill(process.pid, 'SIGKILL');   // (not abort(): no core file)
    case 'memory': { const keep: Float64Array[] = []; for (let i = 0; i < 25; i++) { const a = new Float64Array(MB); a.fill(i); keep.push(a); } return keep.length; }
  }
}

/** Classifies a thrown value: a typed user error, or anything else (a bug). */
export function classifyError(e: unknown): Outcome {
  return isUserError(e) ? 'USER_ERROR' : 'UNTYPED';
}

const describe = (e: unknown): string => {
  if (!(e instanceof Error)) return `non-error thrown: ${String(e).slice(0, 200)}`;
  const top = (e.stack ?? '').split('\n').slice(1, 4).map((l) => l.trim()).join(' ← ');
  return `${e.name}: ${e.message.slice(0, 300)}${isUserError(e) ? '' : ` [${top.slice(0, 400)}]`}`;
};

const MARK = '\u0001FUZZ ';

/** The child: reads case ids from argv, announces each, runs it, reports its outcome on stdout. */
async function workerMain(argv: string[]): Promise<void> {
  const [seedDir, workDir, seedText, list] = argv;
  const seed = Number(seedText);
  const w: Worker = { seedDir: seedDir!, workDir: workDir!, seeds: readSeeds(seedDir!) };
  const ids: CaseId[] = list!.split(',').map((s) => { const [f, i] = s.split(':'); return { format: f as CaseFormat, index: Number(i) }; });
  const gc = (globalThis as { gc?: () => void }).gc;
  for (const id of ids) {
    process.stdout.write(`${MARK}${JSON.stringify({ start: id })}\n`);
    let outcome: Outcome = 'OK', detail = '', message = '';
    let p: Prepared;
    try { p = prepare(w, id, seed); } catch (e) {
      // the mutator's own failure: a bug of this script, reported as one
      p = { id, rng: new Rng(0), dir: '' };
      outcome = 'UNTYPED'; detail = `fuzzer: ${describe(e)}`;
    }
    const label = id.format === 'self' ? `self-test ${SELF_TESTS[id.index % SELF_TESTS.length]}` : p.c?.label ?? '', size = p.c?.size ?? 0;
    gc?.();
    const rss0 = process.memoryUsage.rss();
    const peak0 = process.resourceUsage().maxRSS * 1024;
    const t0 = performance.now();
    if (outcome === 'OK') {
      try {
        runExercise(w, p);
      } catch (e) {
        outcome = classifyError(e);
        detail = describe(e);
        message = e instanceof Error ? e.message : '';
      }
    }
    const ms = performance.now() - t0;
    const peak = process.resourceUsage().maxRSS * 1024;
    const growth = peak > peak0 ? peak - rss0 : 0;
    if (growth > memoryLimit(size) || (peak > peak0 && peak > MAX_RSS)) { outcome = 'MEMORY'; detail = `peak RSS ${(peak / MB).toFixed(0)} MB, grew ${(growth / MB).toFixed(0)} MB (limit ${(memoryLimit(size) / MB).toFixed(0)} MB)${detail ? `; ${detail}` : ''}`; }
    const longMessage = outcome === 'USER_ERROR' && (message.length > MAX_MESSAGE || message.includes('\n'));
    const r: CaseResult = { ...id, outcome, detail, label: label.slice(0, 300), size, ms: Math.round(ms), growth, ...(longMessage ? { longMessage } : {}) };
    process.stdout.write(`${MARK}${JSON.stringify({ done: r })}\n`);
  }
}

// ─── the parent: children, time limits, memory watch, re-runs ────────────────────────────────────

export interface RunOptions {
  seed: number;
  /** Per case, in ms (default 20 000). */
  timeoutMs?: number;
  /** Cases per child (default 100). */
  batch?: number;
  /** Children at once (default: the CPU count). */
  jobs?: number;
  /** Where seeds and case files go (default: a fresh temp directory, removed after). */
  workDir?: string;
  onResult?: (r: CaseResult) => void;
}

interface BatchOutcome { results: CaseResult[]; /** the case the child died or hung on, and how */ failed?: { id: CaseId; outcome: Outcome; detail: string } }

function readVmRss(pid: number): number {
  try { const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8')); return m ? Number(m[1]) * 1024 : 0; } catch { return 0; }
}

/** Runs a list of cases in one child until it finishes, or until one case crashes, hangs or runs away with memory. */
function runBatch(ids: CaseId[], o: Required<Pick<RunOptions, 'seed' | 'timeoutMs'>> & { seedDir: string; workDir: string }): Promise<BatchOutcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--max-old-space-size=1024', '--expose-gc', '--import', 'tsx', SCRIPT, '--worker', o.seedDir, o.workDir, String(o.seed), ids.map((c) => `${c.format}:${c.index}`).join(',')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const results: CaseResult[] = [];
    let current: CaseId | undefined;
    let killedFor: { outcome: Outcome; detail: string } | undefined;
    let stderr = '', buf = '';
    let timer: NodeJS.Timeout | undefined;
    const kill = (outcome: Outcome, detail: string) => { if (!killedFor) { killedFor = { outcome, detail }; child.kill('SIGKILL'); } };
    const arm = (ms = o.timeoutMs) => { clearTimeout(timer); timer = setTimeout(() => kill('HANG', `no result after ${ms} ms`), ms); };
    const watch = setInterval(() => { const rss = child.pid ? readVmRss(child.pid) : 0; if (rss > 1.5 * MAX_RSS) kill('MEMORY', `RSS ${(rss / MB).toFixed(0)} MB (watched from outside)`); }, 100);
    arm(Math.max(o.timeoutMs, 60_000));   // the child's startup (tsx, the modules, the seeds)
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl); buf = buf.slice(nl + 1);
        if (!line.startsWith(MARK)) continue;
        const msg = JSON.parse(line.slice(MARK.length));
        if (msg.start) { current = msg.start; arm(); } else if (msg.done) { results.push(msg.done); current = undefined; }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => { stderr = (stderr + d).slice(-4000); });
    child.on('close', (code, signal) => {
      clearTimeout(timer); clearInterval(watch);
      const next = current ?? ids[results.length];
      if (results.length === ids.length && code === 0) return resolve({ results });
      if (next === undefined) return resolve({ results });
      const oom = /heap out of memory|Allocation failed|Array buffer allocation failed/.test(stderr);
      const outcome: Outcome = killedFor?.outcome ?? (oom ? 'MEMORY' : 'CRASH');
      const detail = killedFor?.detail ?? `child exited ${signal ?? code}: ${stderr.trim().split('\n').slice(-3).join(' / ').slice(0, 400)}`;
      resolve({ results, failed: { id: next, outcome, detail } });
    });
  });
}

/** Runs cases in batches on `jobs` children; a crash / hang / memory case is re-run alone to confirm, and the batch resumes after it. */
export async function runCases(ids: CaseId[], opts: RunOptions): Promise<CaseResult[]> {
  const ownDir = opts.workDir === undefined;
  const workDir = opts.workDir ?? mkdtempSync(join(tmpdir(), 'fmn-fuzz-'));
  const seedDir = join(workDir, 'seeds');
  mkdirSync(seedDir, { recursive: true });
  buildSeeds(seedDir);
  const o = { seed: opts.seed, timeoutMs: opts.timeoutMs ?? 20_000, seedDir, workDir };
  const batch = opts.batch ?? 100, jobs = opts.jobs ?? availableParallelism();
  const queue: CaseId[][] = [];
  for (let i = 0; i < ids.length; i += batch) queue.push(ids.slice(i, i + batch));
  const results: CaseResult[] = [];
  const report = (r: CaseResult) => { results.push(r); opts.onResult?.(r); };
  const lane = async () => {
    for (let q = queue.shift(); q !== undefined; q = queue.shift()) {
      let rest = q;
      while (rest.length > 0) {
        const b = await runBatch(rest, o);
        b.results.forEach(report);
        if (!b.failed) break;
        const at = Math.max(b.results.length, rest.findIndex((c) => c.format === b.failed!.id.format && c.index === b.failed!.id.index));
        // confirm alone (the batch's neighbours, load from the other lane, are out of the picture)
        const solo = rest.length === 1 ? b : await runBatch([b.failed.id], o);
        const r = solo.results[0] ?? { ...b.failed.id, outcome: solo.failed?.outcome ?? b.failed.outcome, detail: solo.failed?.detail ?? b.failed.detail, label: '', size: 0, ms: 0 };
        if (!solo.results[0] && r.format !== 'self') { try { const c = makeCase(readSeeds(seedDir), r.format, caseRng(o.seed, r.format, r.index)); r.label = c.label; r.size = c.size; } catch { /* keep empty */ } }
        report(r);
        rest = rest.slice(at + 1);
      }
    }
  };
  try { await Promise.all(Array.from({ length: Math.max(1, jobs) }, lane)); } finally { if (ownDir) rmSync(workDir, { recursive: true, force: true }); }
  const order = (c: CaseId) => (c.format === 'self' ? -1 : FORMATS.indexOf(c.format)) * 1e9 + c.index;
  return results.sort((a, b) => order(a) - order(b));
}

export interface FormatSummary { format: Format; cases: number; ok: number; user_errors: number; untyped: number; crash: number; hang: number; memory: number; long_messages: number }
export interface Summary { seed: number; cases: number; seconds: number; formats: FormatSummary[]; failures: (CaseResult & { repro: string })[]; long_messages: (CaseResult & { repro: string })[]; passed: boolean }

export const reproCommand = (seed: number, r: CaseId): string => `npx tsx scripts/fuzz.ts --seed ${seed} --format ${r.format} --case ${r.index}`;

export function summarize(results: readonly CaseResult[], seed: number, seconds: number): Summary {
  const formats = FORMATS.map((f): FormatSummary => {
    const of = results.filter((r) => r.format === f);
    const n = (o: Outcome) => of.filter((r) => r.outcome === o).length;
    return { format: f, cases: of.length, ok: n('OK'), user_errors: n('USER_ERROR'), untyped: n('UNTYPED'), crash: n('CRASH'), hang: n('HANG'), memory: n('MEMORY'), long_messages: of.filter((r) => r.longMessage).length };
  });
  const failures = results.filter((r) => FAILURES.includes(r.outcome)).map((r) => ({ ...r, repro: reproCommand(seed, r) }));
  const long_messages = results.filter((r) => r.longMessage).map((r) => ({ ...r, repro: reproCommand(seed, r) }));
  return { seed, cases: results.length, seconds, formats, failures, long_messages, passed: failures.length === 0 };
}

export function formatTable(s: Summary): string {
  const cols = ['format', 'cases', 'ok', 'user_errors', 'untyped', 'crash', 'hang', 'memory', 'long_messages'] as const;
  const rows = [cols.map(String), ...s.formats.map((f) => cols.map((c) => String(f[c])))];
  const total = cols.map((c) => (c === 'format' ? 'total' : String(s.formats.reduce((a, f) => a + (f[c] as number), 0))));
  rows.push(total);
  const w = cols.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join('  ');
  const out = [line(rows[0]!), w.map((x) => '-'.repeat(x)).join('  '), ...rows.slice(1, -1).map(line), w.map((x) => '-'.repeat(x)).join('  '), line(rows.at(-1)!)];
  out.push('', `${s.cases} cases, seed ${s.seed}, ${s.seconds.toFixed(1)} s: ${s.passed ? 'no failures' : `${s.failures.length} FAILURES`}`);
  for (const f of s.failures) out.push(`  ${f.outcome} ${f.format} #${f.index}: ${f.detail}`, `      mutations: ${f.label}`, `      repro: ${f.repro}`);
  if (s.long_messages.length > 0) {
    out.push(`${s.long_messages.length} user errors with a message over ${MAX_MESSAGE} characters or several lines (warnings):`);
    for (const f of s.long_messages.slice(0, 10)) out.push(`  ${f.format} #${f.index}: ${f.detail.slice(0, 160)}…  (${f.repro})`);
  }
  return out.join('\n');
}

/** The cases of a campaign: N split evenly over the six formats. */
export function campaign(n: number, formats: readonly Format[] = FORMATS): CaseId[] {
  const ids: CaseId[] = [];
  formats.forEach((format, fi) => { const k = Math.floor(n / formats.length) + (fi < n % formats.length ? 1 : 0); for (let i = 0; i < k; i++) ids.push({ format, index: i }); });
  // interleave the formats so that each batch mixes them (slow and fast cases spread over the lanes)
  return ids.sort((a, b) => a.index - b.index || FORMATS.indexOf(a.format as Format) - FORMATS.indexOf(b.format as Format));
}

async function main(argv: string[]): Promise<number> {
  const flag = (name: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : undefined; };
  const num = (name: string, def: number) => { const v = flag(name); if (v === undefined) return def; const n = Number(v); if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got ${v}`); return n; };
  const seed = num('seed', 1), json = argv.includes('--json');
  const only = flag('format');
  if (only !== undefined && !FORMATS.includes(only as Format)) throw new Error(`--format must be one of ${FORMATS.join(', ')}`);
  const one = flag('case');
  if (one !== undefined) {
    // reproduce one case (in a child, as the campaign runs it); --dump DIR writes its files
    const id: CaseId = { format: (only ?? 'safetensors') as Format, index: Number(one) };
    const dump = flag('dump');
    if (dump !== undefined) {
      const sd = mkdtempSync(join(tmpdir(), 'fmn-fuzz-seeds-'));
      buildSeeds(sd);
      const c = makeCase(readSeeds(sd), id.format as Format, caseRng(seed, id.format, id.index));
      for (const [f, b] of c.files) { mkdirSync(dirname(join(dump, f)), { recursive: true }); writeFileSync(join(dump, f), b); }
      rmSync(sd, { recursive: true, force: true });
      process.stderr.write(`wrote ${[...c.files.keys()].join(', ')} under ${dump}\nmutations: ${c.label}\n`);
    }
    const [r] = await runCases([id], { seed, timeoutMs: num('timeout', 20_000) });
    process.stdout.write(json ? JSON.stringify(r, null, 2) + '\n' : `${r!.outcome} ${r!.format} #${r!.index} (${r!.ms} ms): ${r!.detail}\nmutations: ${r!.label}\n`);
    return FAILURES.includes(r!.outcome) ? 1 : 0;
  }
  const n = num('cases', 18_000);
  const ids = campaign(n, only ? [only as Format] : FORMATS);
  const t0 = performance.now();
  let done = 0, fails = 0;
  const tty = process.stderr.isTTY;
  const results = await runCases(ids, {
    seed, timeoutMs: num('timeout', 20_000), batch: num('batch', 100), jobs: num('jobs', availableParallelism()),
    onResult: (r) => {
      done++;
      if (FAILURES.includes(r.outcome)) { fails++; process.stderr.write(`${tty ? '\r' : ''}${r.outcome} ${r.format} #${r.index}: ${r.detail.slice(0, 200)}\n`); }
      if (done % 500 === 0 || done === ids.length) process.stderr.write(`${tty ? '\r' : ''}${done}/${ids.length} cases, ${fails} failures, ${((performance.now() - t0) / 1000).toFixed(0)} s${tty ? '' : '\n'}`);
    },
  });
  if (tty) process.stderr.write('\n');
  const s = summarize(results, seed, (performance.now() - t0) / 1000);
  process.stdout.write(json ? JSON.stringify(s, null, 2) + '\n' : formatTable(s) + '\n');
  return s.passed ? 0 : 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === SCRIPT) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--worker') await workerMain(argv.slice(1));
  else process.exitCode = await main(argv);
}
