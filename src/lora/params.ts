import { configParams, linearShapes, type GPTConfig } from '../model/config.ts';
import { ConfigError } from '../errors.ts';
import { resolveTargets, type LoraConfig } from './config.ts';
import { matchesTarget } from './inject.ts';

export interface ParamCountRow { layer: string; in: number; out: number; full: number; lora: number; share: number }

/**
 * Trainable parameters per targeted Linear under LoRA: r·(in + out) against in·out for full
 * fine-tuning; the share is r·(in + out)/(in·out). Totals over the whole model. Read off the
 * config: no model is built (a 124M-parameter GPT-2 is counted in a millisecond).
 */
export function loraParamCounts(config: GPTConfig, cfg: Pick<LoraConfig, 'rank' | 'targets'>): { rows: ParamCountRow[]; loraTotal: number; modelTotal: number } {
  const targets = new Set(resolveTargets({ ...cfg, alpha: 1, dropout: 0, rslora: false, init: 'kaiming' }, config));
  const rows: ParamCountRow[] = linearShapes(config).filter((l) => matchesTarget(l.path, targets)).map(({ path, in: i, out: o }) => (
    { layer: path, in: i, out: o, full: i * o, lora: cfg.rank * (i + o), share: (cfg.rank * (i + o)) / (i * o) }));
  if (rows.length === 0) throw new ConfigError(`no Linear layer matches ${[...targets].join(', ')}`, { field: 'targets' });
  return { rows, loraTotal: rows.reduce((s, r) => s + r.lora, 0), modelTotal: configParams(config) };
}
