/**
 * Probe files (DESIGN §3): JSONL, one probe item a line, validated into typed items.
 *
 *   {"kind": "pair", "good": "...", "bad": ["..."], "probe": "task", "tags": {"verb": "go"}}
 *   {"kind": "text", "text": "...", "probe": "control"}
 *   {"kind": "choice", "context": "...", "choices": ["...", "..."], "label": 0}
 *   {"kind": "generate", "prompt": "...", "expected": "...", "probe": "task"}
 *   BLiMP rows {"sentence_good": "...", "sentence_bad": "...", "UID": "..."} are read as pairs.
 *   lm-eval's multiple-choice docs {"query": "...", "choices": ["...", "..."], "gold": 0} are read
 *   as choice items scoring query + " " + choice (lm-eval's default target delimiter).
 *
 * `probe` names the group an item is scored in; when absent it defaults to the loader's
 * `defaultProbe` (the file's base name). `role` says what the group is for — `task` (accuracy
 * should rise), `control` (perplexity should hold), `adoption` (over-application) — and is
 * what the gate and the verdict read, never the group's name; a role flag (`--control FILE`)
 * sets it for a whole file. `split` is `dev` (read by everything that selects: the gate, a
 * search, "best arm") or `test` (what is reported); the `--dev-*` flags set it for a file. Generate prompts are used verbatim: probe files made
 * by `fmn corpus` already end with the `<|sep|>` delimiter (see sftPrompt in sft-format.ts).
 */
import { basename } from 'node:path';
import { DataError } from '../errors.ts';
import { parseJsonl, RowReader, type JsonlRow } from './jsonl.ts';
import { readRows } from './rows.ts';

export type ProbeRole = 'task' | 'control' | 'adoption';
export const PROBE_ROLES: readonly ProbeRole[] = ['task', 'control', 'adoption'];
export type ProbeSplit = 'dev' | 'test';

interface ProbeBase {
  probe: string;
  /** What the group is for; undefined = scored and reported, read by no verdict. */
  role?: ProbeRole;
  split: ProbeSplit;
  tags: Record<string, string>;
  /** Where the item came from, for error messages and reports. */
  source: { file: string; line: number };
}
export interface PairProbe extends ProbeBase { kind: 'pair'; good: string; bad: string[] }
export interface TextProbe extends ProbeBase { kind: 'text'; text: string }
export interface ChoiceProbe extends ProbeBase { kind: 'choice'; context: string; choices: string[]; label: number }
export interface GenerateProbe extends ProbeBase { kind: 'generate'; prompt: string; expected: string }
export type ProbeItem = PairProbe | TextProbe | ChoiceProbe | GenerateProbe;

/** The JSON shape written to probe files (no `source`). */
export type ProbeRecord =
  (| { kind: 'pair'; good: string; bad: string[] }
  | { kind: 'text'; text: string }
  | { kind: 'choice'; context: string; choices: string[]; label: number }
  | { kind: 'generate'; prompt: string; expected: string })
  & { probe: string; role?: ProbeRole; split?: ProbeSplit; tags?: Record<string, string> };

/**
 * Longest `expected` answer of a generate item, in UTF-8 bytes: a sanity bound on the file. The
 * cost is bounded elsewhere: evaluation generates at most the model's context in tokens.
 */
export const MAX_EXPECTED_BYTES = 65_536;

/** How a file is read: its group name when items have none, and a role / split forced by a flag. */
export interface ProbeFileOptions { defaultProbe?: string; role?: ProbeRole; split?: ProbeSplit }

/** Validates one parsed row into a probe item; errors name file, line and field. */
export function probeFromRow(file: string, row: JsonlRow, o: ProbeFileOptions & { defaultProbe: string }): ProbeItem {
  const r = RowReader.of(file, row);
  const oneOf = <T extends string>(field: string, allowed: readonly T[]): T | undefined => {
    const v = r.optString(field);
    if (v !== undefined && !allowed.includes(v as T)) r.fail(field, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v.slice(0, 40))}`);
    return v as T | undefined;
  };
  const role = oneOf('role', PROBE_ROLES), split = oneOf('split', ['dev', 'test'] as const);
  if (o.role !== undefined && role !== undefined && role !== o.role) r.fail('role', `is "${role}" in a file given as --${o.role}`);
  if (o.split !== undefined && split !== undefined && split !== o.split) r.fail('split', `is "${split}" in a file given as ${o.split === 'dev' ? 'a --dev-* probe file' : 'a test probe file'}`);
  const base = (): ProbeBase => ({
    probe: r.optString('probe') ?? o.defaultProbe,
    role: o.role ?? role,
    split: o.split ?? split ?? 'test',
    tags: r.stringRecord('tags') ?? {},
    source: { file, line: row.line },
  });
  if (!r.has('kind') && r.has('sentence_good')) {
    // BLiMP: the paradigm id becomes a tag
    const tags: Record<string, string> = {};
    for (const k of ['UID', 'linguistics_term', 'field']) if (typeof r.obj[k] === 'string') tags[k] = r.obj[k] as string;
    return { ...base(), kind: 'pair', good: r.string('sentence_good'), bad: [r.string('sentence_bad')], tags };
  }
  if (!r.has('kind') && r.has('query') && r.has('gold')) {
    // lm-eval's multiple-choice docs (HellaSwag, ARC, … after process_docs): query, choices, gold;
    // scored as lm-eval does, query + target_delimiter " " + choice
    const choices = r.stringArray('choices');
    const label = r.integer('gold');
    if (label < 0 || label >= choices.length) r.fail('gold', `must index choices (0..${choices.length - 1}), got ${label}`);
    return { ...base(), kind: 'choice', context: r.string('query'), choices: choices.map((c) => ` ${c}`), label };
  }
  const kind = r.string('kind');
  switch (kind) {
    case 'pair': {
      const bad = r.obj['bad'];
      return { ...base(), kind, good: r.string('good'), bad: typeof bad === 'string' ? [bad] : r.stringArray('bad') };
    }
    case 'text':
      return { ...base(), kind, text: r.string('text') };
    case 'choice': {
      const choices = r.stringArray('choices');
      const label = r.integer('label');
      if (label < 0 || label >= choices.length) r.fail('label', `must index choices (0..${choices.length - 1}), got ${label}`);
      return { ...base(), kind, context: r.string('context'), choices, label };
    }
    case 'generate': {
      const expected = r.string('expected');
      const bytes = new TextEncoder().encode(expected).length;
      if (bytes > MAX_EXPECTED_BYTES) r.fail('expected', `is ${bytes.toLocaleString('en-US')} bytes of UTF-8; a generation probe's answer is at most ${MAX_EXPECTED_BYTES.toLocaleString('en-US')} (an answer is generated token by token and matched exactly)`);
      return { ...base(), kind, prompt: r.string('prompt'), expected };
    }
    default:
      return r.fail('kind', `unknown probe kind ${JSON.stringify(kind.length > 40 ? `${kind.slice(0, 40)}…` : kind)} (expected pair, text, choice or generate)`);
  }
}

/** Parses probe JSONL text. */
export function parseProbes(text: string, file = '<string>', o: ProbeFileOptions = {}): ProbeItem[] {
  return parseJsonl(text, file).map((row) => probeFromRow(file, row, { ...o, defaultProbe: o.defaultProbe ?? 'probe' }));
}

/** Observers of every probe file opened: a test's instrument (selection must never open a test file). */
export const probeFileObservers = new Set<(file: string) => void>();

/** Loads a probe file; items without `probe` are grouped under the file's base name. An empty file is an error. */
export function loadProbes(file: string, o: ProbeFileOptions = {}): ProbeItem[] {
  for (const observe of probeFileObservers) observe(file);
  const defaultProbe = o.defaultProbe ?? basename(file).replace(/\.(jsonl?|parquet)$/i, '');
  const rows = readRows(file);
  if (rows.length === 0) throw new DataError('no probe items in the file', { file });
  return rows.map((row) => probeFromRow(file, row, { ...o, defaultProbe }));
}

/** Groups items by their probe name, in first-seen order. */
export function groupProbes(items: readonly ProbeItem[]): Map<string, ProbeItem[]> {
  const groups = new Map<string, ProbeItem[]>();
  for (const it of items) {
    const g = groups.get(it.probe);
    if (g) g.push(it);
    else groups.set(it.probe, [it]);
  }
  return groups;
}
