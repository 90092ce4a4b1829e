/**
 * The verb corpus on disk (`fmn corpus`):
 *
 *   DIR/pretrain.txt          one document a line (pretrain.ts)
 *   DIR/sft.jsonl             {"prompt", "completion"} rows (sft.ts)
 *   DIR/probes/task.jsonl, control.jsonl, adoption.jsonl, echo.jsonl   (probe-gen.ts)
 *   DIR/manifest.json         seed, options, counts, sha256 and size of each file
 *
 * Deterministic: the same options give byte-identical files (the manifest has no timestamps).
 * One seed drives everything: pretraining, SFT and probes each get a sub-seed drawn from it.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { toJsonl } from './jsonl.ts';
import { generateProbes, PROBE_DEFAULTS, type ProbeOptions } from './probe-gen.ts';
import { generatePretrain, PRETRAIN_DEFAULTS, type PretrainOptions, type PretrainStats } from './pretrain.ts';
import { Rng } from './rng.ts';
import { generateSft, SFT_DEFAULTS, type SftOptions } from './sft.ts';

export interface CorpusOptions {
  seed: number;
  pretrain?: Partial<Omit<PretrainOptions, 'seed'>>;
  sft?: Partial<Omit<SftOptions, 'seed'>>;
  probes?: Partial<Omit<ProbeOptions, 'seed'>>;
}

export interface Manifest {
  format: 'forgetmenot-verb-corpus/1';
  seed: number;
  options: { pretrain: Omit<PretrainOptions, 'seed'>; sft: Omit<SftOptions, 'seed'>; probes: Omit<ProbeOptions, 'seed'> };
  counts: {
    pretrain: PretrainStats;
    sft: { rows: number; corrected: number; unchanged: number };
    probes: Record<string, Record<string, number>>;
  };
  files: Record<string, { bytes: number; sha256: string }>;
}

export const CORPUS_FILES = ['pretrain.txt', 'sft.jsonl', 'probes/task.jsonl', 'probes/control.jsonl', 'probes/adoption.jsonl', 'probes/echo.jsonl'] as const;

/** Builds every file in memory: relative path → content, plus the manifest. */
export function buildCorpus(opts: CorpusOptions): { files: Map<string, string>; manifest: Manifest } {
  const root = new Rng(opts.seed);
  const [pretrainSeed, sftSeed, probeSeed] = [root.nextUint32(), root.nextUint32(), root.nextUint32()];
  const pretrainOpts = { ...PRETRAIN_DEFAULTS, ...opts.pretrain };
  const sftOpts = { ...SFT_DEFAULTS, ...opts.sft };
  const probeOpts = { ...PROBE_DEFAULTS, ...opts.probes };

  const pretrain = generatePretrain({ ...pretrainOpts, seed: pretrainSeed });
  const sft = generateSft({ ...sftOpts, seed: sftSeed });
  const probes = generateProbes({ ...probeOpts, seed: probeSeed });

  const files = new Map<string, string>([
    ['pretrain.txt', pretrain.text.join('\n') + '\n'],
    ['sft.jsonl', toJsonl(sft)],
    ['probes/task.jsonl', toJsonl(probes.task)],
    ['probes/control.jsonl', toJsonl(probes.control)],
    ['probes/adoption.jsonl', toJsonl(probes.adoption)],
    ['probes/echo.jsonl', toJsonl(probes.echo)],
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
    options: { pretrain: pretrainOpts, sft: sftOpts, probes: probeOpts },
    counts: {
      pretrain: pretrain.stats,
      sft: { rows: sft.length, corrected: sft.length - unchanged, unchanged },
      probes: { task: kinds(probes.task), control: kinds(probes.control), adoption: kinds(probes.adoption), echo: kinds(probes.echo) },
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
  const { files, manifest } = buildCorpus(opts);
  for (const [name, content] of files) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}
