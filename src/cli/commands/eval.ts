import { loadProbes, type ProbeItem } from '../../data/probes.ts';
import { selectBackend } from '../../backend/select.ts';
import { ConfigError } from '../../errors.ts';
import { evaluateProbes, type EvalResult } from '../../eval/evaluate.ts';
import { DEFAULT_DRIFT_BOUND, verdict } from '../../eval/verdict.ts';
import { loadForInference } from '../../train/load.ts';
import { log, numberFlag, parseFlags } from '../args.ts';
import type { Command } from '../main.ts';

const USAGE = `usage: fmn eval --model MODEL [--adapter RUN] --probes FILE... [--baseline MODEL] [options]

Scores probe files (JSONL: pair, text, choice, generate items, and BLiMP rows): pair accuracy
by log-likelihood, choice acc / acc_norm, token-weighted perplexity and bits per byte over
text items, greedy generation exact match, per-tag breakdowns. With --baseline: control
perplexity drift = (PPL − PPL_baseline) / PPL_baseline and a verdict against the bound.

options:
  --probes FILE,...   probe files (comma-separated or repeated)
  --adapter RUN       a PEFT LoRA adapter applied to MODEL
  --baseline MODEL    the model before fine-tuning (for drift and deltas)
  --drift-bound X     (default ${DEFAULT_DRIFT_BOUND})
  --control NAME      probe group whose perplexity is the control (default control)
  --task NAME         probe group whose accuracy is the task (default task)
  --gate              exit 1 when the verdict fails
  --json              machine-readable result on stdout
  -h, --help          this help`;

export const command: Command = {
  summary: 'score probes: accuracy, perplexity, generation, drift',
  async run(argv) {
    const { values: v } = parseFlags('eval', argv, {
      model: { type: 'string' }, adapter: { type: 'string' }, probes: { type: 'string', multiple: true },
      baseline: { type: 'string' }, 'drift-bound': { type: 'string' }, control: { type: 'string' }, task: { type: 'string' },
      gate: { type: 'boolean' }, json: { type: 'boolean' },
    });
    if (v.help) { process.stdout.write(USAGE + '\n'); return 0; }
    if (!v.model) throw new ConfigError('missing required option --model MODEL', { field: '--model' });
    const files = (v.probes ?? []).flatMap((p) => p.split(',')).filter((p) => p !== '');
    if (files.length === 0) throw new ConfigError('missing required option --probes FILE', { field: '--probes' });
    const bound = numberFlag('drift-bound', v['drift-bound'], DEFAULT_DRIFT_BOUND, { min: 0 });
    const items: ProbeItem[] = files.flatMap((f) => loadProbes(f));
    const ctx = { backend: selectBackend(), log };
    const { model, tok } = loadForInference(v.model, v.adapter, ctx);
    const result: EvalResult & { drift?: number | null; pass?: boolean; baseline?: EvalResult; reasons?: string[] } = evaluateProbes(model, tok, items);
    const names = { control: v.control ?? 'control', task: v.task ?? 'task' };
    if (v.baseline) {
      const b = loadForInference(v.baseline, undefined, ctx);
      const base = evaluateProbes(b.model, b.tok, items);
      const vd = verdict(base, result, bound, names);
      Object.assign(result, { baseline: base, drift: vd.drift, pass: vd.pass, reasons: vd.reasons });
    }
    for (const [name, p] of Object.entries(result.probes)) {
      const parts = [`n ${p.n}`];
      if (p.acc !== undefined) parts.push(`acc ${p.acc.toFixed(3)}`);
      if (p.acc_norm !== undefined) parts.push(`acc_norm ${p.acc_norm.toFixed(3)}`);
      if (p.ppl !== undefined) parts.push(`ppl ${p.ppl.toFixed(4)}`, `bpb ${p.bpb!.toFixed(4)}`);
      if (p.gen_em !== undefined) parts.push(`gen_em ${p.gen_em.toFixed(3)}`);
      log(`${name}: ${parts.join('  ')}`);
    }
    if (result.drift !== undefined) {
      log(`drift ${result.drift === null ? 'n/a' : (100 * result.drift).toFixed(2) + '%'} (bound ${(100 * bound).toFixed(1)}%): ${result.pass ? 'PASS' : 'FAIL'}${result.reasons?.length ? ' — ' + result.reasons.join('; ') : ''}`);
    }
    if (v.json) process.stdout.write(JSON.stringify(result) + '\n');
    return v.gate && result.pass === false ? 1 : 0;
  },
};
