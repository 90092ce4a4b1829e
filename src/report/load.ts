import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, DataError } from '../errors.ts';
import { readText } from '../util/fs.ts';
import { parseJson } from '../util/json.ts';
import type { LabSummary } from './summary.ts';

/** The keys the report reads; more are allowed (summary.json may grow, DESIGN §2). */
// NaN (an sd over one seed, an interval with too few items) is written as null by JSON.stringify
const num = z.number().nullable();
const probes = z.record(z.string(), z.looseObject({ n: num }));
const pair = z.tuple([num, num]);
const schema = z.looseObject({
  version: z.literal(2),
  created: z.string(), backend: z.string(), threads: num, wall_seconds: num, drift_bound: num, level: num, fast: z.boolean(), seeds: z.array(num),
  corpus: z.looseObject({ dir: z.string(), seed: num, pretrain_lines: num, sft_rows: num }),
  base: z.looseObject({
    model_dir: z.string(), task_acc: num, task_se: num, gen_em: num, control_ppl: num, control_acc: num, adoption: num,
    adoption_gen_em: num, generalization: num, generalization_se: num, echo_em: num, params: num,
    pretrain: z.looseObject({ steps: num, seconds: num, tokens_per_s: num, final_loss: num, held_out_loss: num }),
    probes, dev: z.looseObject({ task_acc: num, control_ppl: num, probes }),
  }),
  arms: z.array(z.looseObject({
    name: z.string(), description: z.string(), kind: z.enum(['factorial', 'reference', 'aggressive']), method: z.enum(['lora', 'full']),
    recipe: z.enum(['none', 'replay', 'replay-pretrain', 'anchor']), lr: num, steps: num, replay: num, replay_text: z.string().nullable(), lambda: num,
    rank: num.optional(), alpha: num.optional(), run_dir: z.string(), split: z.literal('test'),
    seeds: z.array(z.looseObject({ seed: num, run_dir: z.string(), task_acc: num, gen_em: num, drift: num, dev: z.looseObject({ task_acc: num, drift: num }) })),
    task_acc: num, task_acc_sd: num, task_acc_se: num, gen_em: num, gen_em_sd: num, control_ppl: num, drift: num, drift_sd: num, drift_ci: pair,
    adoption: num, adoption_gen_em: num, generalization: num, generalization_se: num, generalization_gen_em: num,
    task_gain: z.looseObject({ diff: num, lo: num, hi: num, p: num }), verdict: z.enum(['PASS', 'FAIL', 'INCONCLUSIVE']), pass: z.boolean(),
    reasons: z.array(z.string()), dev: z.looseObject({ task_acc: num, drift: num }), trainable_params: num, seconds: num,
    evals: z.array(z.looseObject({ step: num, task_acc: num.optional(), control_ppl: num.optional(), drift: num.optional() })),
    probes, samples: z.array(z.looseObject({ probe: z.string(), prompt: z.string(), base: z.string(), tuned: z.string() })),
  })),
  calibration: z.looseObject({ rows: z.array(z.looseObject({ method: z.enum(['lora', 'full']), lr: num, recipe: z.string(), dev_task_acc: num, dev_drift: num, chosen: z.boolean() })), chosen: z.looseObject({ lora: num, full: num }) }),
  contrasts: z.array(z.looseObject({ factor: z.enum(['method', 'mitigation']), a: z.string(), b: z.string(), task: z.looseObject({ diff: num, lo: num, hi: num, p: num }), drift: z.looseObject({ diff: num, lo: num, hi: num }) })),
  best: z.string().nullable(),
  story: z.array(z.string()),
  few_shot: z.looseObject({ k: num, task_acc: num, task_se: num, gen_em: num, n: num }),
  params: z.looseObject({
    rank: num, total_params: num, lora_params: num,
    rows: z.array(z.looseObject({ layer: z.string(), in: num, out: num, full: num, lora: num, share: num })),
  }),
  target: z.looseObject({ met: z.boolean(), arm: z.string().nullable(), note: z.string() }),
});

/** Checks an already parsed summary and returns it unchanged; `file` names it in errors. */
export function parseSummary(data: unknown, file: string): LabSummary {
  const r = schema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new DataError(`not a lab summary: ${issue.message}`, { file, field: issue.path.join('.') || undefined });
  }
  return data as LabSummary;  // as written: unknown keys and key order kept
}

/** Reads DIR/summary.json: a missing file is a usage error, a malformed one a data error. */
export function readSummary(dir: string): LabSummary {
  const file = join(dir, 'summary.json');
  if (!existsSync(file)) throw new ConfigError(`no summary.json here (is ${dir} the output directory of fmn lab?)`, { file });
  const data = parseJson(readText(file), (msg, e) => { throw new DataError(msg, { file }, e && { cause: e.cause }); });
  return parseSummary(data, file);
}
