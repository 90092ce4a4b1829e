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

/** PEFT's default target modules per architecture (attention projections). */
export function defaultTargets(c: GPTConfig): string[] {
  return c.modelType === 'gpt2' ? ['c_attn', 'c_proj'] : ['q_proj', 'k_proj', 'v_proj', 'o_proj'];
}

/** Every Linear of the blocks (PEFT's `all-linear` excludes the output head). */
export function allLinearTargets(c: GPTConfig): string[] {
  return c.modelType === 'gpt2' ? ['c_attn', 'c_proj', 'c_fc'] : ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
}

export function resolveTargets(cfg: LoraConfig, model: GPTConfig): string[] {
  if (cfg.targets.includes('all-linear')) return allLinearTargets(model);
  if (cfg.targets.includes('default')) return defaultTargets(model);
  return cfg.targets;
}

export function loraScaling(cfg: Pick<LoraConfig, 'rank' | 'alpha' | 'rslora'>): number {
  return cfg.rslora ? cfg.alpha / Math.sqrt(cfg.rank) : cfg.alpha / cfg.rank;
}
