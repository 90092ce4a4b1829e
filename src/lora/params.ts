import { baseParameters } from '../model/checkpoint.ts';
import type { GPT } from '../model/gpt.ts';
import { ConfigError } from '../errors.ts';
import { resolveTargets, type LoraConfig } from './config.ts';
import { targetLinears } from './inject.ts';

export interface ParamCountRow { layer: string; in: number; out: number; full: number; lora: number; share: number }

/**
 * Trainable parameters per targeted Linear under LoRA: r·(in + out) against in·out for full
 * fine-tuning; the share is r·(in + out)/(in·out). Totals over the whole model.
 */
export function loraParamCounts(model: GPT, cfg: Pick<LoraConfig, 'rank' | 'targets'>): { rows: ParamCountRow[]; loraTotal: number; modelTotal: number } {
  const targets = new Set(resolveTargets({ ...cfg, alpha: 1, dropout: 0, rslora: false, init: 'kaiming' }, model.config));
  const rows: ParamCountRow[] = targetLinears(model, targets).map(({ path, linear }) => {
    const i = linear.inFeatures, o = linear.outFeatures;
    return { layer: path, in: i, out: o, full: i * o, lora: cfg.rank * (i + o), share: (cfg.rank * (i + o)) / (i * o) };
  });
  if (rows.length === 0) throw new ConfigError(`no Linear layer matches ${[...targets].join(', ')}`, { field: 'targets' });
  const modelTotal = baseParameters(model).reduce((s, [, p]) => s + p.size, 0);
  return { rows, loraTotal: rows.reduce((s, r) => s + r.lora, 0), modelTotal };
}
