import type { Tensor } from '../tensor/tensor.ts';

/**
 * A module owns parameters and submodules under Hugging Face names, so a state dict maps key
 * for key onto a checkpoint (`transformer.h.0.attn.c_attn.weight`).
 */
export abstract class Module {
  #params = new Map<string, Tensor>();
  #children = new Map<string, Module>();

  protected param(name: string, t: Tensor): Tensor {
    this.#params.set(name, t);
    return t;
  }

  protected child<M extends Module>(name: string, m: M): M {
    this.#children.set(name, m);
    return m;
  }

  /** Replace a registered submodule (LoRA wraps a Linear in place). */
  replaceChild(name: string, m: Module): void {
    if (!this.#children.has(name)) throw new Error(`no child "${name}"`);
    this.#children.set(name, m);
  }

  /** A registered submodule by name (forward passes read Linear layers through this, so LoRA can wrap them in place). */
  getChild<M extends Module>(name: string): M {
    const m = this.#children.get(name);
    if (m === undefined) throw new Error(`no child "${name}"`);
    return m as M;
  }

  /** Direct submodules, in registration order. */
  children(): [string, Module][] { return [...this.#children]; }

  /** Every parameter under its dotted path, in registration order. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this.#params) out.push([prefix + n, t]);
    for (const [n, c] of this.#children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  /** Every submodule under its dotted path (this one is ''). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix.replace(/\.$/, ''), this]];
    for (const [n, c] of this.#children) out.push(...c.namedModules(`${prefix}${n}.`));
    return out;
  }

  parameters(): Tensor[] { return this.namedParameters().map(([, t]) => t); }
}
