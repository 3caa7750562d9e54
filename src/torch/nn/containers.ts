/** Containers that hold sub-modules without a forward of their own. */
import { Module } from './module.js';

/** A plain list of modules whose children are named '0', '1', … (PyTorch's ModuleList). */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items;
    items.forEach((m, i) => this.registerModule(String(i), m));
  }
  get length(): number {
    return this.items.length;
  }
}
