import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, DataError } from '../errors.ts';
import type { LabSummary } from './summary.ts';

/** The keys the report reads; more are allowed (summary.json may grow, DESIGN §2). */
const num = z.number();
const probes = z.record(z.string(), z.looseObject({ n: num }));
const schema = z.looseObject({
  version: z.literal(1),
  created: z.string(), backend: z.string(), threads: num, wall_seconds: num, drift_bound: num, fast: z.boolean(),
  corpus: z.looseObject({ dir: z.string(), seed: num, pretrain_lines: num, sft_rows: num }),
  base: z.looseObject({
    model_dir: z.string(), task_acc: num, gen_em: num, control_ppl: num, control_acc: num, adoption: num,
    adoption_gen_em: num, echo_em: num, params: num,
    pretrain: z.looseObject({ steps: num, seconds: num, tokens_per_s: num, final_loss: num, held_out_loss: num }),
    probes,
  }),
  arms: z.array(z.looseObject({
    name: z.string(), description: z.string(), method: z.enum(['lora', 'full']), lr: num, steps: num, replay: num, replay_text: z.string().nullable().optional(), lambda: num,
    rank: num.optional(), alpha: num.optional(), run_dir: z.string(), task_acc: num, gen_em: num, control_ppl: num, drift: num,
    adoption: num, adoption_gen_em: num, pass: z.boolean(), reasons: z.array(z.string()), trainable_params: num, seconds: num,
    kept_step: num.nullable(),
    evals: z.array(z.looseObject({ step: num, task_acc: num.optional(), gen_em: num.optional(), control_ppl: num.optional(), drift: num.optional() })),
    probes,
  })),
  search: z.array(z.looseObject({ name: z.string(), lr: num, steps: num, replay: num, lambda: num, task_acc: num, drift: num, pass: z.boolean() })),
  few_shot: z.looseObject({ k: num, task_acc: num, gen_em: num, n: num }),
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
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DataError(`invalid JSON: ${(e as Error).message}`, { file }, { cause: e });
  }
  return parseSummary(data, file);
}
