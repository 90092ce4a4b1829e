import type { GPTConfig } from '../model/config.ts';

/** LoRA settings (PEFT's LoraConfig, the parts that shape the math). */
export interface LoraConfig {
  rank: number;
  alpha: number;
  dropout: number;
  /** Module names (last path component) to wrap, or ['all-linear']. */
  targets: string[];
  /** rsLoRA: scaling α/√r instead of α/r. */
  rslora: boolean;
  /** A initialization: PEFT's default Kaiming-uniform, or gaussian N(0, 1/r). */
  init: 'kaiming' | 'gaussian';
}

export const LORA_DEFAULTS: LoraConfig = { rank: 8, alpha: 16, dropout: 0, targets: ['default'], rslora: false, init: 'kaiming' };

/**
 * Default target modules per architecture: the attention projections (module names as PEFT
 * uses them; PEFT's own defaults are narrower: c_attn, q_proj + v_proj, query_key_value).
 */
export function defaultTargets(c: GPTConfig): string[] {
  switch (c.modelType) {
    case 'gpt2': return ['c_attn', 'c_proj'];
    case 'gpt_neox': return ['query_key_value', 'dense'];
    default: return ['q_proj', 'k_proj', 'v_proj', 'o_proj'];
  }
}

/** Every Linear of the blocks (PEFT's `all-linear` excludes the output head). */
export function allLinearTargets(c: GPTConfig): string[] {
  switch (c.modelType) {
    case 'gpt2': return ['c_attn', 'c_proj', 'c_fc'];
    case 'gpt_neox': return ['query_key_value', 'dense', 'dense_h_to_4h', 'dense_4h_to_h'];
    default: return ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
  }
}

export function resolveTargets(cfg: LoraConfig, model: GPTConfig): string[] {
  if (cfg.targets.includes('all-linear')) return allLinearTargets(model);
  if (cfg.targets.includes('default')) return defaultTargets(model);
  return cfg.targets;
}

export function loraScaling(cfg: Pick<LoraConfig, 'rank' | 'alpha' | 'rslora'>): number {
  return cfg.rslora ? cfg.alpha / Math.sqrt(cfg.rank) : cfg.alpha / cfg.rank;
}
