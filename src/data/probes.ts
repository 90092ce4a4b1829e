/**
 * Probe files (DESIGN §3): JSONL, one probe item a line, validated into typed items.
 *
 *   {"kind": "pair", "good": "...", "bad": ["..."], "probe": "task", "tags": {"verb": "go"}}
 *   {"kind": "text", "text": "...", "probe": "control"}
 *   {"kind": "choice", "context": "...", "choices": ["...", "..."], "label": 0}
 *   {"kind": "generate", "prompt": "...", "expected": "...", "probe": "task"}
 *   BLiMP rows {"sentence_good": "...", "sentence_bad": "...", "UID": "..."} are read as pairs.
 *
 * `probe` names the group an item is scored in; when absent it defaults to the loader's
 * `defaultProbe` (the file's base name). Generate prompts are used verbatim: probe files made
 * by `fmn corpus` already end with the `<|sep|>` delimiter (see sftPrompt in sft-format.ts).
 */
import { basename } from 'node:path';
import { parseJsonl, readJsonl, RowReader, type JsonlRow } from './jsonl.ts';

interface ProbeBase {
  probe: string;
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
  | { kind: 'pair'; good: string; bad: string[]; probe: string; tags?: Record<string, string> }
  | { kind: 'text'; text: string; probe: string; tags?: Record<string, string> }
  | { kind: 'choice'; context: string; choices: string[]; label: number; probe: string; tags?: Record<string, string> }
  | { kind: 'generate'; prompt: string; expected: string; probe: string; tags?: Record<string, string> };

/** Validates one parsed row into a probe item; errors name file, line and field. */
export function probeFromRow(file: string, row: JsonlRow, defaultProbe: string): ProbeItem {
  const r = RowReader.of(file, row);
  const base = (): ProbeBase => ({
    probe: r.optString('probe') ?? defaultProbe,
    tags: r.stringRecord('tags') ?? {},
    source: { file, line: row.line },
  });
  if (!r.has('kind') && r.has('sentence_good')) {
    // BLiMP: the paradigm id becomes a tag
    const tags: Record<string, string> = {};
    for (const k of ['UID', 'linguistics_term', 'field']) if (typeof r.obj[k] === 'string') tags[k] = r.obj[k] as string;
    return { ...base(), kind: 'pair', good: r.string('sentence_good'), bad: [r.string('sentence_bad')], tags };
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
    case 'generate':
      return { ...base(), kind, prompt: r.string('prompt'), expected: r.string('expected') };
    default:
      return r.fail('kind', `unknown probe kind "${kind}" (expected pair, text, choice or generate)`);
  }
}

/** Parses probe JSONL text. */
export function parseProbes(text: string, file = '<string>', defaultProbe = 'probe'): ProbeItem[] {
  return parseJsonl(text, file).map((row) => probeFromRow(file, row, defaultProbe));
}

/** Loads a probe file; items without `probe` are grouped under the file's base name. */
export function loadProbes(file: string): ProbeItem[] {
  const defaultProbe = basename(file).replace(/\.jsonl?$/, '');
  return readJsonl(file).map((row) => probeFromRow(file, row, defaultProbe));
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
