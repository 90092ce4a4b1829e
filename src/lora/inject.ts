import type { Buf } from '../backend/backend.ts';
import type { Rng } from '../util/rng.ts';
import { ConfigError } from '../errors.ts';
import type { GPT } from '../model/gpt.ts';
import { Linear } from '../nn/layers.ts';
import type { Module } from '../nn/module.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { loraScaling, resolveTargets, type LoraConfig } from './config.ts';
import { LoraLinear } from './linear.ts';

/** The adapters of a model, by module path (`transformer.h.0.attn.c_attn`). */
export type Adapters = Map<string, LoraLinear>;

/**
 * Wraps every Linear whose name is in the targets with a LoraLinear, freezes every base
 * parameter, and returns the adapters. The model's own parameters are never copied.
 */
export function applyLora(model: GPT, cfg: LoraConfig, rng: Rng, dropoutRng?: Rng): Adapters {
  const targets = new Set(resolveTargets(cfg, model.config));
  for (const p of model.parameters()) p.requiresGrad = false;
  const adapters: Adapters = new Map();
  const scaling = loraScaling(cfg);
  const layers = targetLinears(model, targets);
  // a rank past a layer's width adds parameters and no expressiveness: refused before any allocation
  const narrow = layers.reduce((m, l) => Math.min(m, l.linear.inFeatures, l.linear.outFeatures), Infinity);
  if (layers.length > 0 && cfg.rank > narrow) {
    throw new ConfigError(`rank ${cfg.rank} exceeds ${narrow}, the width of the narrowest targeted layer`, { field: 'rank' });
  }
  for (const { path, parent, name, linear } of layers) {
    const lora = new LoraLinear(linear, { rank: cfg.rank, scaling, dropout: cfg.dropout, init: cfg.init, rng, dropoutRng });
    parent.replaceChild(name, lora);
    adapters.set(path, lora);
  }
  if (adapters.size === 0) {
    throw new ConfigError(`no Linear layer matches ${[...targets].join(', ')}`, { field: 'targets' });
  }
  return adapters;
}

/**
 * The Linear layers the targets select: those in replaceable slots (the blocks' projections;
 * never the output head) whose path matches, with the module holding each.
 */
export function targetLinears(model: GPT, targets: ReadonlySet<string>): { path: string; parent: Module; name: string; linear: Linear }[] {
  const out: { path: string; parent: Module; name: string; linear: Linear }[] = [];
  for (const [path, mod] of model.namedModules()) {
    for (const [name, child, replaceable] of mod.children()) {
      const full = path === '' ? name : `${path}.${name}`;
      if (replaceable && child instanceof Linear && matchesTarget(full, targets)) out.push({ path: full, parent: mod, name, linear: child });
    }
  }
  return out;
}

/**
 * PEFT's rule: a target matches a module whose full path equals it or ends with "." + it, so
 * `c_proj` wraps both attn.c_proj and mlp.c_proj while `attn.c_proj` wraps only the first.
 */
export function matchesTarget(path: string, targets: ReadonlySet<string>): boolean {
  for (const t of targets) if (path === t || path.endsWith(`.${t}`)) return true;
  return false;
}

/** The trainable adapter parameters under their PEFT names (without the base_model.model. prefix). */
export function adapterParameters(adapters: Adapters): [string, Tensor][] {
  const out: [string, Tensor][] = [];
  for (const [path, a] of adapters) {
    out.push([`${path}.lora_A.weight`, a.loraA], [`${path}.lora_B.weight`, a.loraB]);
  }
  return out;
}

/**
 * The weight matrices a LoRA run leaves fixed: every 2-D parameter of the model without a
 * gradient (the base's linears and embeddings), for Backend.freezeOperands.
 */
export function frozenMatrices(model: Module): Buf[] {
  return model.namedParameters().filter(([, p]) => !p.requiresGrad && p.ndim === 2).map(([, p]) => p.data);
}

export function setLoraTraining(adapters: Adapters, training: boolean): void {
  for (const a of adapters.values()) a.training = training;
}

/** Switches every adapter off (forward = base model) or back on. */
export function setLoraDisabled(adapters: Adapters, disabled: boolean): void {
  for (const a of adapters.values()) a.disabled = disabled;
}

export function mergeAll(adapters: Adapters): void { for (const a of adapters.values()) a.merge(); }
export function unmergeAll(adapters: Adapters): void { for (const a of adapters.values()) a.unmerge(); }
