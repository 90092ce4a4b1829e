/**
 * The verb corpus on disk (`fmn corpus`):
 *
 *   DIR/pretrain.txt          one document a line (pretrain.ts)
 *   DIR/replay.txt            the curated tier: the same generator, irregular forms always
 *                             correct (replay text for fine-tuning; see ReplayOptions)
 *   DIR/sft.jsonl             {"prompt", "completion"} rows (sft.ts)
 *   DIR/probes/dev/{task,control,adoption,generalization,echo}.jsonl    the dev half (probe-gen.ts):
 *                             what selection reads (the gate, a search, "best arm")
 *   DIR/probes/test/…         the test half, the same groups: what is reported
 *   DIR/manifest.json         seed, options, counts, sha256 and size of each file
 *
 * Deterministic: the same options give byte-identical files (the manifest has no timestamps).
 * One seed drives everything: pretraining, SFT, probes and replay each get a sub-seed drawn from it.
 */
import { makeOutDir } from '../util/fs.ts';
import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { toJsonl } from '../data/jsonl.ts';
import { generateProbes, PROBE_DEFAULTS, PROBE_GROUPS, type ProbeGroup, type ProbeOptions } from './probe-gen.ts';
import { generatePretrain, PRETRAIN_DEFAULTS, type PretrainOptions, type PretrainStats } from './pretrain.ts';
import { Rng } from '../util/rng.ts';
import { generateSft, SFT_DEFAULTS, type SftOptions } from './sft.ts';

/**
 * replay.txt: a clean sample of the pretraining distribution — the "curated tier" that a real
 * pretraining mix has beside its web text. Same generator, sentence kinds, echo layout and
 * grammar notes as pretrain.txt, but every irregular past slot is written and written right
 * (irregularCorrectRate 1, overregularRate 0): this is the English the noisy pretraining text
 * thins out and corrupts. Fine-tuning replays it (`--replay-text`) to hold the model's
 * distribution in place without replaying the very errors the fine-tune corrects.
 */
export interface ReplayOptions {
  /** Target size in approximate tokens; 0 = no replay.txt. */
  tokens: number;
}
export const REPLAY_DEFAULTS: ReplayOptions = { tokens: 150_000 };

export interface CorpusOptions {
  seed: number;
  pretrain?: Partial<Omit<PretrainOptions, 'seed'>>;
  replay?: Partial<ReplayOptions>;
  sft?: Partial<Omit<SftOptions, 'seed'>>;
  probes?: Partial<Omit<ProbeOptions, 'seed'>>;
}

export interface Manifest {
  format: 'forgetmenot-verb-corpus/1';
  seed: number;
  options: { pretrain: Omit<PretrainOptions, 'seed'>; replay: ReplayOptions; sft: Omit<SftOptions, 'seed'>; probes: Omit<ProbeOptions, 'seed'> };
  counts: {
    pretrain: PretrainStats;
    replay: PretrainStats | null;
    /** unchanged includes the regular-verb rows, counted again in regular. */
    sft: { rows: number; corrected: number; unchanged: number; regular: number };
    /** split → group → kind → items. */
    probes: Record<string, Record<string, Record<string, number>>>;
  };
  files: Record<string, { bytes: number; sha256: string }>;
}

export const CORPUS_FILES = ['pretrain.txt', 'replay.txt', 'sft.jsonl',
  ...(['dev', 'test'] as const).flatMap((split) => PROBE_GROUPS.map((g) => `probes/${split}/${g}.jsonl` as const))] as const;

/** A probe file of a corpus directory: `probeFile(dir, 'test', 'task')`. */
export const probeFile = (dir: string, split: 'dev' | 'test', group: ProbeGroup): string => join(dir, 'probes', split, `${group}.jsonl`);

/** Builds every file in memory: relative path → content, plus the manifest. */
export function buildCorpus(opts: CorpusOptions): { files: Map<string, string>; manifest: Manifest } {
  const root = new Rng(opts.seed);
  const [pretrainSeed, sftSeed, probeSeed, replaySeed] = [root.nextUint32(), root.nextUint32(), root.nextUint32(), root.nextUint32()];
  const pretrainOpts = { ...PRETRAIN_DEFAULTS, ...opts.pretrain };
  const replayOpts = { ...REPLAY_DEFAULTS, ...opts.replay };
  if (!(Number.isInteger(replayOpts.tokens) && replayOpts.tokens >= 0)) throw new ConfigError(`must be a non-negative integer, got ${replayOpts.tokens}`, { field: 'replay.tokens' });
  const sftOpts = { ...SFT_DEFAULTS, ...opts.sft };
  const probeOpts = { ...PROBE_DEFAULTS, ...opts.probes };

  const pretrain = generatePretrain({ ...pretrainOpts, seed: pretrainSeed });
  const replay = replayOpts.tokens > 0
    ? generatePretrain({ ...pretrainOpts, tokens: replayOpts.tokens, irregularCorrectRate: 1, overregularRate: 0, seed: replaySeed })
    : null;
  const sft = generateSft({ ...sftOpts, seed: sftSeed });
  const probes = generateProbes({ ...probeOpts, seed: probeSeed });

  const files = new Map<string, string>([
    ['pretrain.txt', pretrain.text.join('\n') + '\n'],
    ...(replay ? [['replay.txt', replay.text.join('\n') + '\n'] as [string, string]] : []),
    ['sft.jsonl', toJsonl(sft)],
    ...(['dev', 'test'] as const).flatMap((split) => PROBE_GROUPS.map((g) => [`probes/${split}/${g}.jsonl`, toJsonl(probes[split][g])] as [string, string])),
  ]);
  const kinds = (items: readonly { kind: string }[]) => {
    const c: Record<string, number> = {};
    for (const it of items) c[it.kind] = (c[it.kind] ?? 0) + 1;
    return c;
  };
  const unchanged = sft.filter((r) => r.completion.endsWith(' (correct)')).length;
  const manifest: Manifest = {
    format: 'forgetmenot-verb-corpus/1',
    seed: opts.seed,
    options: { pretrain: pretrainOpts, replay: replayOpts, sft: sftOpts, probes: probeOpts },
    counts: {
      pretrain: pretrain.stats,
      replay: replay?.stats ?? null,
      sft: { rows: sft.length, corrected: sft.length - unchanged, unchanged, regular: Math.round(sftOpts.rows * sftOpts.regularShare) },
      probes: Object.fromEntries((['dev', 'test'] as const).map((split) => [split, Object.fromEntries(PROBE_GROUPS.map((g) => [g, kinds(probes[split][g])]))])),
    },
    files: {},
  };
  for (const [name, content] of files) {
    const buf = Buffer.from(content, 'utf8');
    manifest.files[name] = { bytes: buf.length, sha256: createHash('sha256').update(buf).digest('hex') };
  }
  return { files, manifest };
}

/** Writes the corpus under `dir` (created if needed) and returns the manifest. */
export function writeCorpus(dir: string, opts: CorpusOptions): Manifest {
  makeOutDir(dir);
  const { files, manifest } = buildCorpus(opts);
  for (const [name, content] of files) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}
