import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunContext } from '../backend/context.ts';
import { RUN_FIELDS } from '../config/common.ts';
import { errorAt, type Schema } from '../config/schema.ts';
import type { ProbeSplit } from '../data/probes.ts';
import { loadForInference } from '../lora/load.ts';
import { makeOutDir, writeFileAtomic } from '../util/fs.ts';
import { versions } from '../util/version.ts';
import { evaluateProbes, type EvalResult, type ItemScore } from './evaluate.ts';
import { hasAny, loadProbeSplit, needRole, probeFields, probeFilesOf, type ProbeFiles } from './probe-files.ts';
import { DEFAULT_DRIFT_BOUND, groupChanges, verdict, type GroupChange, type Verdict } from './verdict.ts';

/** `fmn eval`'s settings. */
export interface EvalConfig {
  model: string;
  adapter?: string;
  baseline?: string;
  probes: ProbeFiles;
  driftBound: number;
  level: number;
  bootstrap: number;
  gate: boolean;
  logSamples?: string;
  maxNewTokens?: number;
}

export const EVAL_SCHEMA: Schema = {
  command: 'eval',
  usage: ['eval --model MODEL [--adapter RUN] [--baseline MODEL] --task FILE… --control FILE… [options]', 'eval --config FILE [options]'],
  description: `Scores probe files (JSONL: pair, text, choice, generate items, and BLiMP rows): pair and choice
accuracy with its standard error (lm-eval's acc_stderr; a tie counts as wrong), acc_norm, token-
weighted perplexity, bits per byte and word / byte perplexity over text items (scored whole, in
rolling windows past the context), greedy generation exact match, per-tag breakdowns. Numbers are
reported per split: test (the role flags) and dev (the --dev-* flags). With --baseline: control
drift = (PPL − PPL_baseline) / PPL_baseline with a paired bootstrap interval, the task gain with a
paired test, and a verdict: PASS (drift's upper bound within the bound and a significant gain),
INCONCLUSIVE (a significant gain, but the drift interval straddles the bound), or FAIL.`,
  fields: [
    { key: 'config', type: 'string', path: null, persist: false, metavar: 'FILE', section: 'inputs', help: 'YAML or JSON settings (keys as below; flags override)' },
    { key: 'model', type: 'string', required: true, metavar: 'MODEL', section: 'inputs', help: 'the model to score (a model directory or a llama2.c .bin)' },
    { key: 'adapter', type: 'string', metavar: 'RUN', section: 'inputs', help: 'a PEFT LoRA adapter applied to MODEL' },
    { key: 'baseline', type: 'string', metavar: 'MODEL', section: 'inputs', help: 'the model before fine-tuning: drift, task gain and the verdict' },
    ...probeFields('probes'),
    { key: 'drift_bound', type: 'number', gt: 0, default: DEFAULT_DRIFT_BOUND, section: 'verdict', help: 'bound on control-perplexity drift' },
    { key: 'level', type: 'number', gt: 0.5, lt: 1, default: 0.95, section: 'verdict', help: 'confidence level of the intervals; the task gain is significant at 1 − level' },
    { key: 'bootstrap', type: 'int', min: 100, max: 1_000_000, default: 2000, section: 'verdict', help: 'bootstrap replicates of the drift interval' },
    { key: 'gate', type: 'bool', default: false, section: 'verdict', help: 'exit 1 unless the verdict is PASS (FAIL and INCONCLUSIVE both gate)' },
    { key: 'log_samples', type: 'string', metavar: 'DIR', section: 'output', help: 'write DIR/results.json (numbers + provenance) and DIR/samples_<split>.jsonl (one line per item), as lm-eval\'s --log_samples' },
    { key: 'max_new_tokens', type: 'int', min: 1, max: 4096, section: 'output', help: 'longest generation (default: the longest expected answer + 4 tokens)' },
    ...RUN_FIELDS.filter((f) => f.key !== 'quiet'),
  ],
  check(v, at) {
    const any = ['task', 'control', 'adoption', 'probes', 'dev_task', 'dev_control', 'dev_adoption', 'dev_probes'].some((k) => (v[k] as string[]).length > 0);
    if (!any) throw errorAt(at('task'), 'give probe files: --task, --control, --adoption or --probes (test split), or their --dev-* twins');
    if (v.gate && v.baseline === undefined) throw errorAt(at('gate'), '--gate compares with the model before fine-tuning: give --baseline MODEL');
  },
};

/** What one split scored, and the verdict against the baseline on the same items. */
export interface SplitEval {
  probes: EvalResult['probes']; roles: EvalResult['roles'];
  baseline?: { probes: EvalResult['probes']; roles: EvalResult['roles'] };
  /** Per group, against the baseline: accuracy change (paired test) or perplexity drift (paired bootstrap interval). */
  changes?: Record<string, GroupChange>;
  verdict?: Verdict;
}

/** `fmn eval --json` (DESIGN §2): the test split's numbers at the top, the dev split's under "dev". */
export interface EvalReport {
  split: ProbeSplit | null;
  probes: EvalResult['probes'];
  roles: EvalResult['roles'];
  drift?: number | null;
  drift_ci?: [number, number] | null;
  verdict?: Verdict['verdict'];
  pass?: boolean;
  reasons?: string[];
  task_gain?: Verdict['task_gain'];
  dev?: SplitEval;
  test?: SplitEval;
}

const strip = (r: EvalResult) => ({ probes: r.probes, roles: r.roles });

/** Scores the model (and the baseline) on each split given; writes --log-samples files. */
export function runEval(c: EvalConfig, ctx: RunContext): EvalReport {
  const tuned = loadForInference(c.model, c.adapter, ctx);
  const base = c.baseline !== undefined ? loadForInference(c.baseline, undefined, ctx) : null;
  const out: EvalReport = { split: null, probes: {}, roles: {} };
  const samples: Record<string, ItemScore[]> = {};
  const splits = (['dev', 'test'] as const).filter((s) => hasAny(c.probes, s)).map((split) => ({ split, items: loadProbeSplit(c.probes, split) }));
  // the verdict reads the test split when there is one (what is reported), else dev
  if (c.gate) needRole(splits.at(-1)!.items, 'control', splits.at(-1)!.split, '--gate');
  for (const { split, items } of splits) {
    const r = evaluateProbes(tuned.model, tuned.tok, items, { maxNewTokens: c.maxNewTokens });
    samples[split] = r.items;
    const s: SplitEval = strip(r);
    if (base) {
      const b = evaluateProbes(base.model, base.tok, items, { maxNewTokens: c.maxNewTokens });
      s.baseline = strip(b);
      s.changes = groupChanges(b, r, { level: c.level, B: c.bootstrap });
      s.verdict = verdict(b, r, { bound: c.driftBound, level: c.level, B: c.bootstrap });
    }
    out[split] = s;
  }
  // the headline: the test split when given (what is reported), else dev — labelled either way
  const head = out.test ?? out.dev!;
  out.split = out.test ? 'test' : 'dev';
  out.probes = head.probes;
  out.roles = head.roles;
  if (head.verdict) {
    const v = head.verdict;
    Object.assign(out, { drift: v.drift, drift_ci: v.drift_ci, verdict: v.verdict, pass: v.pass, reasons: v.reasons, task_gain: v.task_gain });
  }
  if (c.logSamples !== undefined) writeSamples(c, out, samples);
  return out;
}

/** lm-eval-style sample logs: results.json with provenance, one samples_<split>.jsonl per split. */
function writeSamples(c: EvalConfig, report: EvalReport, samples: Record<string, ItemScore[]>): void {
  const dir = c.logSamples!;
  makeOutDir(dir, '--log-samples');
  const files = (['dev', 'test'] as const).flatMap((split) => probeFilesOf(c.probes, split).map(({ key, file }) => ({
    file, split, flag: key, sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
  })));
  writeFileAtomic(join(dir, 'results.json'), JSON.stringify({
    results: report,
    config: { model: c.model, adapter: c.adapter ?? null, baseline: c.baseline ?? null, drift_bound: c.driftBound, level: c.level, bootstrap: c.bootstrap },
    probe_files: files, versions: versions(), date: new Date().toISOString(),
  }, null, 2) + '\n');
  for (const [split, items] of Object.entries(samples)) {
    const lines = items.map((s, i) => JSON.stringify({
      doc_id: i, probe: s.probe, role: s.role ?? null, split: s.split, kind: s.kind, source: s.source, tags: s.tags,
      resps: s.logprobs ?? (s.output !== undefined ? [s.output] : null),
      metrics: {
        ...(s.correct !== undefined ? { acc: s.correct ? 1 : 0 } : {}), ...(s.correct_norm !== undefined ? { acc_norm: s.correct_norm ? 1 : 0 } : {}),
        ...(s.nll !== undefined ? { nll: s.nll, tokens: s.tokens, bytes: s.bytes, words: s.words } : {}),
        ...(s.gen_ok !== undefined ? { exact_match: s.gen_ok ? 1 : 0 } : {}),
      },
    }));
    writeFileAtomic(join(dir, `samples_${split}.jsonl`), lines.join('\n') + '\n');
  }
}
