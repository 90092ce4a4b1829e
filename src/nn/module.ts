import type { Tensor } from '../tensor/tensor.ts';

/**
 * A typed place for a submodule that may be replaced in place — a Linear that LoRA wraps. The
 * forward pass reads `slot.layer`, so what runs is whatever the slot holds now, and the type
 * says what it may hold: no lookup by name string.
 */
export class Slot<M extends Module> {
  constructor(public layer: M) {}
}

/**
 * A module owns parameters and submodules under Hugging Face names, so a state dict maps key
 * for key onto a checkpoint (`transformer.h.0.attn.c_attn.weight`).
 */
export abstract class Module {
  #params = new Map<string, Tensor>();
  #children = new Map<string, { slot: Slot<Module>; replaceable: boolean }>();

  protected param(name: string, t: Tensor): Tensor {
    this.#params.set(name, t);
    return t;
  }

  /** A fixed submodule. */
  protected child<M extends Module>(name: string, m: M): M {
    this.#children.set(name, { slot: new Slot<Module>(m), replaceable: false });
    return m;
  }

  /** A replaceable submodule: the forward pass reads it through the returned slot. */
  protected slot<M extends Module>(name: string, m: M): Slot<M> {
    const s = new Slot<M>(m);
    this.#children.set(name, { slot: s as unknown as Slot<Module>, replaceable: true });
    return s;
  }

  /** Puts `m` in the slot `name` (LoRA wraps a Linear in place); only slots can be replaced. */
  replaceChild(name: string, m: Module): void {
    const c = this.#children.get(name);
    if (c === undefined || !c.replaceable) throw new Error(`no replaceable child "${name}"`);
    c.slot.layer = m;
  }

  /** Direct submodules, in registration order, with whether each sits in a replaceable slot. */
  children(): [string, Module, boolean][] { return [...this.#children].map(([n, c]) => [n, c.slot.layer, c.replaceable]); }

  /** Every parameter under its dotted path, in registration order. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this.#params) out.push([prefix + n, t]);
    for (const [n, c] of this.#children) out.push(...c.slot.layer.namedParameters(`${prefix}${n}.`));
    return out;
  }

  /** Every submodule under its dotted path (this one is ''). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix.replace(/\.$/, ''), this]];
    for (const [n, c] of this.#children) out.push(...c.slot.layer.namedModules(`${prefix}${n}.`));
    return out;
  }

  parameters(): Tensor[] { return this.namedParameters().map(([, t]) => t); }
}
