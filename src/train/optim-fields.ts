import type { Field } from '../config/schema.ts';
import type { AdamWOptions } from '../optim/adamw.ts';

/**
 * The schedule and AdamW fields every training recipe shares (TRL's names as aliases), typed
 * at `lr`, `warmup`, `minLrRatio`, `adamw.*` and `clip`; `d` holds the recipe's own defaults.
 */
export function optimizerFields(d: { warmup: number } & AdamWOptions): Field[] {
  const s = 'optimization';
  return [
    { key: 'warmup', type: 'int', min: 0, default: d.warmup, aliases: ['warmup_steps'], section: s, help: 'linear warmup steps, then cosine decay' },
    { key: 'min_lr_ratio', type: 'number', min: 0, max: 1, default: 0.1, section: s, help: 'final learning rate / peak' },
    { key: 'weight_decay', type: 'number', path: 'adamw.weightDecay', min: 0, default: d.weightDecay, section: s, help: 'AdamW decoupled weight decay (matrices only)' },
    { key: 'adam_beta1', type: 'number', path: 'adamw.beta1', min: 0, lt: 1, default: d.beta1, section: s, help: 'AdamW β1' },
    { key: 'adam_beta2', type: 'number', path: 'adamw.beta2', min: 0, lt: 1, default: d.beta2, section: s, help: 'AdamW β2' },
    { key: 'adam_epsilon', type: 'number', path: 'adamw.eps', gt: 0, default: d.eps, aliases: ['adam_eps'], section: s, help: 'AdamW ε' },
    { key: 'clip', type: 'number', min: 0, default: 1, aliases: ['max_grad_norm'], section: s, help: 'global gradient-norm clip (0 = off)' },
  ];
}
