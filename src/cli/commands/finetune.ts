import { z } from 'zod';
import { selectBackend } from '../../backend/select.ts';
import { ConfigError } from '../../errors.ts';
import { LORA_DEFAULTS } from '../../lora/config.ts';
import { DEFAULT_LR, finetune, FINETUNE_DEFAULTS, type FinetuneConfig, type Method } from '../../train/finetune.ts';
import { log, numberFlag, parseFlags } from '../args.ts';
import { readConfigFile } from '../config-file.ts';
import type { Command } from '../main.ts';

const USAGE = `usage: fmn finetune --base MODEL --data SFT.jsonl --method lora|full --out RUN [options]
       fmn finetune --config FILE [options]      (YAML or JSON; flags override the file)

Supervised fine-tuning: cross-entropy on the completion tokens, AdamW, warmup + cosine.
LoRA writes a PEFT adapter (adapter_config.json + adapter_model.safetensors) into RUN; full
fine-tuning writes a model directory. RUN also gets metrics.jsonl, config.resolved.json and
an exact-resume training state.

options:
  --lr X              peak learning rate (default: LoRA ${DEFAULT_LR.lora}, full ${DEFAULT_LR.full})
  --steps N           optimizer steps (default ${FINETUNE_DEFAULTS.steps})
  --batch N           rows per micro-batch (default ${FINETUNE_DEFAULTS.batch})
  --grad-accum N      micro-batches per step (default 1)
  --warmup N          warmup steps (default ${FINETUNE_DEFAULTS.warmup})
  --min-lr-ratio R    final LR / peak LR (default ${FINETUNE_DEFAULTS.minLrRatio})
  --weight-decay X    AdamW decoupled weight decay (default ${FINETUNE_DEFAULTS.weightDecay})
  --seed N            (default ${FINETUNE_DEFAULTS.seed})
  --rank R            LoRA rank (default ${LORA_DEFAULTS.rank})
  --alpha A           LoRA alpha (default ${LORA_DEFAULTS.alpha})
  --targets LIST      comma-separated module names, "all-linear" or "default" (attention)
  --dropout P         LoRA dropout (default 0)
  --rslora            scale by alpha/sqrt(r) instead of alpha/r
  --init-gaussian     gaussian A init instead of Kaiming-uniform
  --replay F          share of every batch drawn from --replay-text (default 0)
  --replay-text FILE  pretraining-distribution text for replay (fmn corpus writes replay.txt,
                      a clean sample; replaying text with the errors being corrected undoes them)
  --lora-l2 L         anchor regularizer L·||ΔW||²_F on LoRA updates (alpha/r inside the norm)
  --l2sp L            L2-SP L·||θ − θ0||² for full fine-tuning
  --probes FILE...    probe files for in-training evaluation (comma-separated)
  --eval-every N      evaluate every N steps (default: at the end)
  --drift-bound X     control-perplexity drift bound (default 0.05)
  --gate              stop when drift exceeds the bound; keep the best checkpoint within it
  --truncate          cut rows longer than the context instead of failing
  --resume            continue the run in --out from its saved training state
  --json              print the result as JSON on stdout
  -h, --help          this help`;

const loraSchema = z.strictObject({
  rank: z.number().int().positive().optional(), alpha: z.number().positive().optional(),
  dropout: z.number().min(0).lt(1).optional(), targets: z.array(z.string()).min(1).optional(),
  rslora: z.boolean().optional(), init: z.enum(['kaiming', 'gaussian']).optional(),
});
/** The config file: the same settings as the flags, snake_case or camelCase. */
export const finetuneFileSchema = z.strictObject({
  base: z.string().optional(), data: z.string().optional(), out: z.string().optional(),
  method: z.enum(['lora', 'full']).optional(), lora: loraSchema.optional(),
  lr: z.number().positive().optional(), steps: z.number().int().positive().optional(),
  batch: z.number().int().positive().optional(), grad_accum: z.number().int().positive().optional(),
  warmup: z.number().int().min(0).optional(), min_lr_ratio: z.number().min(0).max(1).optional(),
  weight_decay: z.number().min(0).optional(), clip: z.number().min(0).optional(), seed: z.number().int().optional(),
  replay: z.number().min(0).lt(1).optional(), replay_text: z.string().optional(),
  lora_l2: z.number().min(0).optional(), l2sp: z.number().min(0).optional(),
  probes: z.array(z.string()).optional(), eval_every: z.number().int().min(0).optional(),
  drift_bound: z.number().positive().optional(), gate: z.boolean().optional(), truncate: z.boolean().optional(),
});

export const command: Command = {
  summary: 'supervised fine-tuning, LoRA or full',
  async run(argv) {
    const { values: v } = parseFlags('finetune', argv, {
      base: { type: 'string' }, data: { type: 'string' }, method: { type: 'string' }, out: { type: 'string' },
      config: { type: 'string' }, lr: { type: 'string' }, steps: { type: 'string' }, batch: { type: 'string' },
      'grad-accum': { type: 'string' }, warmup: { type: 'string' }, 'min-lr-ratio': { type: 'string' },
      'weight-decay': { type: 'string' }, seed: { type: 'string' }, rank: { type: 'string' }, alpha: { type: 'string' },
      targets: { type: 'string' }, dropout: { type: 'string' }, rslora: { type: 'boolean' }, 'init-gaussian': { type: 'boolean' },
      replay: { type: 'string' }, 'replay-text': { type: 'string' }, 'lora-l2': { type: 'string' }, l2sp: { type: 'string' },
      probes: { type: 'string' }, 'eval-every': { type: 'string' }, 'drift-bound': { type: 'string' }, gate: { type: 'boolean' },
      truncate: { type: 'boolean' }, resume: { type: 'boolean' }, json: { type: 'boolean' },
    });
    if (v.help) { process.stdout.write(USAGE + '\n'); return 0; }
    const f = v.config !== undefined ? readConfigFile(v.config, finetuneFileSchema) : {};
    const pick = <T>(flag: T | undefined, file: T | undefined): T | undefined => flag ?? file;
    const required = (name: string, x: string | undefined): string => {
      if (x === undefined) throw new ConfigError(`missing required option --${name}`, { field: `--${name}` });
      return x;
    };
    const methodName = pick(v.method, f.method) ?? 'lora';
    if (methodName !== 'lora' && methodName !== 'full') throw new ConfigError(`must be lora or full, got "${methodName}"`, { field: '--method' });
    const fl = f.lora ?? {};
    const method: Method = methodName === 'full' ? { kind: 'full' } : {
      kind: 'lora',
      rank: numberFlag('rank', v.rank, fl.rank ?? LORA_DEFAULTS.rank, { int: true, min: 1 }),
      alpha: numberFlag('alpha', v.alpha, fl.alpha ?? LORA_DEFAULTS.alpha, { min: 1e-9 }),
      dropout: numberFlag('dropout', v.dropout, fl.dropout ?? LORA_DEFAULTS.dropout, { min: 0, max: 0.99 }),
      targets: v.targets !== undefined ? v.targets.split(',').map((s) => s.trim()).filter((s) => s !== '') : (fl.targets ?? LORA_DEFAULTS.targets),
      rslora: v.rslora ?? fl.rslora ?? false,
      init: v['init-gaussian'] ? 'gaussian' : (fl.init ?? 'kaiming'),
    };
    const d = FINETUNE_DEFAULTS;
    const cfg: FinetuneConfig = {
      base: required('base', pick(v.base, f.base)), data: required('data', pick(v.data, f.data)), out: required('out', pick(v.out, f.out)),
      method,
      lr: numberFlag('lr', v.lr, f.lr ?? DEFAULT_LR[method.kind], { min: 1e-12 }),
      steps: numberFlag('steps', v.steps, f.steps ?? d.steps, { int: true, min: 1 }),
      batch: numberFlag('batch', v.batch, f.batch ?? d.batch, { int: true, min: 1 }),
      gradAccum: numberFlag('grad-accum', v['grad-accum'], f.grad_accum ?? d.gradAccum, { int: true, min: 1 }),
      warmup: numberFlag('warmup', v.warmup, f.warmup ?? d.warmup, { int: true, min: 0 }),
      minLrRatio: numberFlag('min-lr-ratio', v['min-lr-ratio'], f.min_lr_ratio ?? d.minLrRatio, { min: 0, max: 1 }),
      weightDecay: numberFlag('weight-decay', v['weight-decay'], f.weight_decay ?? d.weightDecay, { min: 0 }),
      clip: f.clip ?? d.clip,
      seed: numberFlag('seed', v.seed, f.seed ?? d.seed, { int: true }),
      replay: numberFlag('replay', v.replay, f.replay ?? d.replay, { min: 0, max: 0.99 }),
      replayText: pick(v['replay-text'], f.replay_text),
      loraL2: numberFlag('lora-l2', v['lora-l2'], f.lora_l2 ?? d.loraL2, { min: 0 }),
      l2sp: numberFlag('l2sp', v.l2sp, f.l2sp ?? d.l2sp, { min: 0 }),
      probes: v.probes !== undefined ? v.probes.split(',').filter((s) => s !== '') : (f.probes ?? []),
      evalEvery: numberFlag('eval-every', v['eval-every'], f.eval_every ?? d.evalEvery, { int: true, min: 0 }),
      driftBound: numberFlag('drift-bound', v['drift-bound'], f.drift_bound ?? d.driftBound, { min: 1e-9 }),
      gate: v.gate ?? f.gate ?? false,
      truncate: v.truncate ?? f.truncate ?? false,
      resume: v.resume ?? false,
    };
    const r = finetune(cfg, { backend: selectBackend(), log });
    log(`finetune: ${r.steps} steps, final loss ${r.finalLoss.toFixed(4)}, ${Math.round(r.tokensPerSec)} tokens/s, ${r.seconds.toFixed(1)} s → ${r.runDir}`);
    if (v.json) process.stdout.write(JSON.stringify(r) + '\n');
    return 0;
  },
};
