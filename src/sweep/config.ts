/**
 * A sweep's config: fine-tuning settings common to every cell, and what varies — a grid (the
 * product of lists) or a list of cells — each cell an ordinary `fmn finetune` run. Every value
 * is checked by the finetune schema itself, so a bad value names the sweep file, its line and
 * the key as written (`grid.lr`), exactly as `fmn finetune --config` would.
 *
 *   base: models/base                      # any finetune key: the same in every cell
 *   data: corpus/sft.jsonl
 *   probes: {task: [t.jsonl], control: [c.jsonl], dev_task: [...], dev_control: [...]}
 *   fixed: {steps: 300, batch: 16}         # the same, grouped
 *   grid: {method: [lora, full], lr: [1e-4, 1e-3]}
 *   cells: [{method: lora, lr: 3e-3, rank: 16}]   # and/or an explicit list
 *   seeds: 3                               # every cell over seeds seed, seed+1, …
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';
import { RUN_FIELDS } from '../config/common.ts';
import { errorAt, fileKeys, resolveValues, suggest, type Field, type Given, type Schema, type Value, type Values } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import { FINETUNE_SCHEMA } from '../train/finetune-config.ts';
import { readText } from '../util/fs.ts';

/** Finetune keys a sweep sets itself or does not allow in a cell. */
const RESERVED = new Set(['config', 'out', 'seeds', 'resume', 'overwrite', 'stop_after', 'backend', 'threads', 'quiet', 'json']);

export const SWEEP_SCHEMA: Schema = {
  command: 'sweep',
  usage: ['sweep --config FILE --out DIR [--workers N]', 'sweep --config FILE --out DIR --queue redis://HOST:PORT --storage DIR', 'sweep --out DIR --status [--queue …]'],
  description: `Runs a grid (or a list) of fine-tunes on one base model and one probe set, each cell an ordinary run
directory (DIR/cells/NAME/run), and writes DIR/sweep.jsonl: one row per cell with its settings and its
test-split numbers (task accuracy ± se, drift with its interval, verdict), ‖Δθ‖, wall time and backend.
Resumable: run it again and finished cells are kept, a cell killed mid-run continues from its last
saved state. Locally with --workers N child processes (the cores split between them), or spread over
machines through a BullMQ queue on Redis (--queue; start \`fmn worker\` anywhere that mounts --storage).
\`fmn report DIR\` draws the learning–forgetting frontier. Config keys: any of fmn finetune's (common
to every cell), \`fixed:\` (the same), \`grid:\` (key → list of values: the cells are the product),
\`cells:\` (a list of settings), \`seeds:\` (every cell over seeds seed, seed+1, …), and the options below.`,
  fields: [
    { key: 'config', type: 'string', path: null, persist: false, metavar: 'FILE', section: 'sweep', help: 'the sweep: common finetune keys, fixed, grid, cells, seeds (YAML or JSON)' },
    { key: 'out', type: 'string', metavar: 'DIR', section: 'sweep', help: 'the sweep directory (cells, sweep.jsonl, report)' },
    { key: 'seeds', type: 'int', min: 1, max: 100, default: 1, section: 'sweep', help: 'every cell over this many seeds (seed, seed+1, …)' },
    { key: 'workers', type: 'int', min: 1, max: 64, default: 1, section: 'execution', help: 'cells run at once on this machine (child processes; threads split between them)' },
    { key: 'queue', type: 'string', metavar: 'URL', section: 'execution', help: 'redis://HOST:PORT: enqueue the cells for `fmn worker` processes instead of running them here' },
    { key: 'storage', type: 'string', metavar: 'DIR', section: 'execution', help: 'with --queue: the directory every worker mounts; the sweep\'s inputs and DIR must lie inside it' },
    { key: 'status', type: 'bool', default: false, persist: false, section: 'execution', help: 'print the cells\' progress (and the queue\'s, with --queue) and exit' },
    { key: 'overwrite', type: 'bool', default: false, persist: false, section: 'execution', help: 'start over: remove DIR\'s cells first' },
    ...RUN_FIELDS.filter((f) => f.key !== 'backend' && f.key !== 'threads'),
  ],
  check(v, at) {
    if (v.storage !== undefined && v.queue === undefined) throw errorAt(at('storage'), 'needs --queue');
  },
};

/** One cell: its finetune values (paths resolved; `out` set by the runner) and what sets it apart. */
export interface Cell {
  index: number;
  /** Directory name under DIR/cells: c007-lr0.001-method=full-s1235 style. */
  name: string;
  /** The settings that vary between cells, seed included. */
  axis: Record<string, Value>;
  /** Every finetune value of the cell (without `out`). */
  values: Values;
}

export interface SweepPlan {
  file: string;
  /** Sweep-level settings (out, workers, queue, …). */
  settings: Values;
  cells: Cell[];
  /** The keys that vary across cells, in the order they were given (seed last when seeds > 1). */
  axes: string[];
}

interface Spot { line: number; key: string }
type Given1 = { raw: unknown; at: Spot };

/**
 * Reads a sweep config and expands it into cells, each checked by the finetune schema; errors
 * name the file, line and key. `flags` are the sweep-level flags (they override the file).
 */
export function readSweepPlan(file: string, flags: Map<string, Given>): SweepPlan {
  const text = readText(file, '--config');
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new ConfigError(`not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${e.message.split('\n')[0]}`, { file, line: e.linePos?.[0].line ?? lc.linePos(e.pos[0]).line }, { cause: e });
  }
  const lineOf = (n: unknown) => ((n as Node | null)?.range ? lc.linePos((n as Node).range![0]).line : 1);
  const fail = (at: Spot, msg: string): never => { throw new ConfigError(msg, { file, line: at.line, field: at.key }); };
  const root = doc.contents;
  if (!isMap(root)) return fail({ line: 1, key: '(root)' }, 'must be a mapping of keys to values');

  const ftKeys = fileKeys(FINETUNE_SCHEMA);
  const sweepKeys = fileKeys(SWEEP_SCHEMA);
  const common = new Map<string, Given1>();
  const sweepFile = new Map<string, Given>();
  const grid: { key: string; values: Given1[] }[] = [];
  const list: Map<string, Given1>[] = [];

  /** A finetune key as written → its field, refusing the ones a sweep sets itself. */
  const ftField = (k: string, at: Spot): Field => {
    const f = ftKeys.get(k);
    if (f === undefined) {
      const hint = suggest(k, [...ftKeys.keys()].filter((x) => !RESERVED.has(x)));
      return fail(at, `not a fmn finetune key${hint ? ` (did you mean "${hint}"?)` : ''}`);
    }
    if (RESERVED.has(f.key)) fail(at, f.key === 'seeds' ? 'a cell is one run: give seeds: N at the top of the sweep (every cell over N seeds)' : `set by the sweep itself, not in a cell`);
    return f;
  };
  const entries = (m: YAMLMap, prefix: string): { k: string; v: unknown; at: Spot }[] =>
    m.items.map((p) => {
      const k = isScalar(p.key) ? String(p.key.value) : fail({ line: lineOf(p.key), key: prefix || '(root)' }, 'keys must be plain names');
      return { k, v: p.value, at: { line: lineOf(p.key), key: prefix ? `${prefix}.${k}` : k } };
    });
  const plain = (v: unknown) => (v === null || v === undefined ? null : isSeq(v) || isMap(v) ? (v as { toJSON(): unknown }).toJSON() : isScalar(v) ? v.value : null);
  const setCommon = (k: string, v: unknown, at: Spot) => {
    const f = ftField(k, at);
    if (common.has(f.key)) fail(at, `"${f.key}" is given twice (first on line ${common.get(f.key)!.at.line})`);
    common.set(f.key, { raw: plain(v), at });
  };

  for (const { k, v, at } of entries(root, '')) {
    if (k === 'fmn') continue;
    if (k === 'fixed') {
      if (!isMap(v)) fail(at, 'must be a mapping of fmn finetune keys to values');
      for (const e of entries(v as YAMLMap, 'fixed')) setCommon(e.k, e.v, e.at);
    } else if (k === 'probes' && isMap(v)) {
      for (const e of entries(v as YAMLMap, 'probes')) setCommon(e.k, e.v, e.at);
    } else if (k === 'grid') {
      if (!isMap(v)) fail(at, 'must be a mapping of fmn finetune keys to lists of values');
      for (const e of entries(v as YAMLMap, 'grid')) {
        const f = ftField(e.k, e.at);
        if (!isSeq(e.v) || e.v.items.length === 0) fail(e.at, 'must be a non-empty list of values');
        if (grid.some((g) => g.key === f.key)) fail(e.at, `"${f.key}" is in the grid twice`);
        grid.push({ key: f.key, values: (e.v as { items: unknown[] }).items.map((item) => ({ raw: plain(item), at: { line: lineOf(item), key: e.at.key } })) });
      }
    } else if (k === 'cells') {
      if (!isSeq(v) || v.items.length === 0) fail(at, 'must be a non-empty list of settings');
      (v as { items: unknown[] }).items.forEach((item, i) => {
        const here = { line: lineOf(item), key: `cells[${i}]` };
        if (!isMap(item)) fail(here, 'must be a mapping of fmn finetune keys to values');
        const m = new Map<string, Given1>();
        for (const e of entries(item as YAMLMap, `cells[${i}]`)) {
          const f = ftField(e.k, e.at);
          if (m.has(f.key)) fail(e.at, `"${f.key}" is given twice`);
          m.set(f.key, { raw: plain(e.v), at: e.at });
        }
        list.push(m);
      });
    } else if (sweepKeys.has(k) && k !== 'config') {
      sweepFile.set(sweepKeys.get(k)!.key, { raw: plain(v), where: { file, line: at.line, key: k } });
    } else setCommon(k, v, at);
  }

  const { values: settings } = resolveValues(SWEEP_SCHEMA, { flags, file: sweepFile });
  for (const g of grid) if (common.has(g.key)) fail(g.values[0]!.at, `"${g.key}" is both fixed (line ${common.get(g.key)!.at.line}) and in the grid`);

  // the varying part of each cell: the grid's product, then each listed cell (each crossed with the grid when both are given)
  let variants: Map<string, Given1>[] = [new Map()];
  for (const g of grid) variants = variants.flatMap((m) => g.values.map((x) => new Map([...m, [g.key, x]])));
  if (list.length > 0) variants = variants.flatMap((m) => list.map((c) => new Map([...m, ...c])));
  const seeds = settings.seeds as number;
  const axes = [...new Set([...grid.map((g) => g.key), ...list.flatMap((c) => [...c.keys()])])];
  if (seeds > 1 && !axes.includes('seed')) axes.push('seed');

  const cells: Cell[] = [];
  for (const v of variants) {
    for (let s = 0; s < seeds; s++) {
      const given = new Map<string, Given>();
      for (const [k, g] of [...common, ...v]) given.set(k, { raw: g.raw, where: { file, line: g.at.line, key: g.at.key } });
      given.set('out', { raw: '-', where: { default: 'out' } });                       // set per cell by the runner
      const { values } = resolveValues(FINETUNE_SCHEMA, { file: given });
      delete values.out;
      if (s > 0) values.seed = (values.seed as number) + s;
      const axis: Record<string, Value> = {};
      for (const k of axes) if (values[k] !== undefined) axis[k] = values[k] as Value;
      cells.push({ index: cells.length, name: '', axis, values });
    }
  }
  const width = String(cells.length - 1).length;
  for (const c of cells) c.name = cellName(c, width);
  return { file, settings, cells, axes };
}

/** A readable, filesystem-safe, unique directory name: c003-lr0.001-method=full-seed1235. */
function cellName(c: Cell, width: number): string {
  const part = (k: string, v: Value) => {
    const s = Array.isArray(v) ? v.join('+') : String(v);
    return `${k}${typeof v === 'number' ? '' : '='}${s}`.replace(/[^A-Za-z0-9.=+_-]+/g, '_');
  };
  const tail = Object.entries(c.axis).map(([k, v]) => part(k, v)).join('-');
  return `c${String(c.index).padStart(width, '0')}${tail ? `-${tail}` : ''}`.slice(0, 120);
}
