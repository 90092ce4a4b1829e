import { loadProbes } from '../../data/probes.ts';
import { selectBackend } from '../../backend/select.ts';
import { ConfigError } from '../../errors.ts';
import { saveModel } from '../../model/checkpoint.ts';
import { mergeAndVerify, randomSequences } from '../../lora/merge.ts';
import { toHfJson } from '../../tokenizer/hf-json.ts';
import { EOT } from '../../tokenizer/special.ts';
import { loadForInference } from '../../train/load.ts';
import { log, numberFlag, parseFlags } from '../args.ts';
import type { Command } from '../main.ts';

const USAGE = `usage: fmn merge --base MODEL --adapter RUN --out MODEL [--probes FILE...] [--tolerance X]

Merges a LoRA adapter into its base (W += (alpha/r)·(B A)ᵀ) and writes a plain model directory.
Verifies it: the largest |Δlogit| between adapter-on and merged, over the probe texts (or 16
seeded random sequences), is reported, and above --tolerance (default 1e-3) it is an error
and nothing is written.

options:
  --json              {"out", "max_abs_diff", "max_abs_logit"} on stdout
  -h, --help          this help`;

export const command: Command = {
  summary: 'merge a LoRA adapter into its base model, verified',
  async run(argv) {
    const { values: v } = parseFlags('merge', argv, {
      base: { type: 'string' }, adapter: { type: 'string' }, out: { type: 'string' }, probes: { type: 'string', multiple: true },
      tolerance: { type: 'string' }, json: { type: 'boolean' },
    });
    if (v.help) { process.stdout.write(USAGE + '\n'); return 0; }
    for (const k of ['base', 'adapter', 'out'] as const) if (!v[k]) throw new ConfigError(`missing required option --${k}`, { field: `--${k}` });
    const tol = numberFlag('tolerance', v.tolerance, 1e-3, { min: 0 });
    const { model, tok, adapters } = loadForInference(v.base!, v.adapter!, { backend: selectBackend(), log });
    const eot = tok.specialId(EOT);
    const files = (v.probes ?? []).flatMap((p) => p.split(',')).filter((p) => p !== '');
    const texts = files.flatMap((f) => loadProbes(f)).flatMap((it) =>
      it.kind === 'pair' ? [it.good, ...it.bad] : it.kind === 'text' ? [it.text] : it.kind === 'generate' ? [it.prompt + it.expected] : [it.context, ...it.choices]);
    const seqs = texts.length > 0 ? texts.map((t) => [eot, ...tok.encode(t, { allowSpecial: true })]) : randomSequences(model.config.vocabSize, 16, Math.min(32, model.config.nCtx));
    const r = mergeAndVerify(model, adapters!, seqs, tol);
    saveModel(model, v.out!, { tokenizerJson: JSON.stringify(toHfJson(tok), null, 2) + '\n' });
    log(`merge: max |Δlogit| ${r.maxAbsDiff.toExponential(2)} (largest |logit| ${r.maxAbsLogit.toFixed(2)}) over ${seqs.length} sequences → ${v.out}`);
    if (v.json) process.stdout.write(JSON.stringify({ out: v.out, max_abs_diff: r.maxAbsDiff, max_abs_logit: r.maxAbsLogit, sequences: seqs.length }) + '\n');
    return 0;
  },
};
