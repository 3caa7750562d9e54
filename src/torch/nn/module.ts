import { Tensor, type DType, type Device } from '../tensor.js';
import { keep } from '../scopes.js';
import { noGrad } from '../autograd.js';
import { CheckpointError, ConfigError } from '../../errors.js';

function checkName(kind: string, name: string): void {
  if (!name || name.includes('.')) {
    throw new ConfigError(`register${kind}: invalid name '${name}' (names must be non-empty and contain no '.')`);
  }
}

/**
 * Base class of every layer: a named tree of parameters, buffers and sub-modules, with keys
 * equal to PyTorch's (`cells.0.ops.1.weight`), so state dicts round-trip with Python.
 * Parameters and buffers are kept out of scopes: they live until `dispose()`.
 */
export class Module {
  training = true;
  private readonly _params = new Map<string, Tensor | null>();
  private readonly _buffers = new Map<string, Tensor | null>();
  private readonly _modules = new Map<string, Module>();

  registerParameter(name: string, t: Tensor | null): Tensor {
    checkName('Parameter', name);
    if (t) {
      keep(t);
      if (!t.requiresGrad) t.requiresGrad = true;
    }
    this._params.set(name, t);
    return t as Tensor;
  }

  registerBuffer(name: string, t: Tensor | null): Tensor {
    checkName('Buffer', name);
    if (t) keep(t);
    this._buffers.set(name, t);
    return t as Tensor;
  }

  registerModule<M extends Module>(name: string, m: M): M {
    checkName('Module', name);
    this._modules.set(name, m);
    return m;
  }

  /** Parameter or buffer by local name (for layers that read their own state). */
  protected param(name: string): Tensor | null {
    return this._params.get(name) ?? null;
  }
  protected buffer(name: string): Tensor | null {
    return this._buffers.get(name) ?? null;
  }

  *namedChildren(): IterableIterator<[string, Module]> {
    yield* this._modules.entries();
  }

  *namedModules(prefix = ''): IterableIterator<[string, Module]> {
    yield [prefix, this];
    for (const [n, m] of this._modules) yield* m.namedModules(prefix ? `${prefix}.${n}` : n);
  }

  modules(): Module[] {
    return [...this.namedModules()].map(([, m]) => m);
  }

  *namedParameters(prefix = ''): IterableIterator<[string, Tensor]> {
    for (const [n, p] of this._params) if (p) yield [prefix ? `${prefix}.${n}` : n, p];
    for (const [n, m] of this._modules) yield* m.namedParameters(prefix ? `${prefix}.${n}` : n);
  }

  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  *namedBuffers(prefix = ''): IterableIterator<[string, Tensor]> {
    for (const [n, b] of this._buffers) if (b) yield [prefix ? `${prefix}.${n}` : n, b];
    for (const [n, m] of this._modules) yield* m.namedBuffers(prefix ? `${prefix}.${n}` : n);
  }

  buffers(): Tensor[] {
    return [...this.namedBuffers()].map(([, b]) => b);
  }

  /** Total number of parameter elements. */
  numParameters(): number {
    let n = 0;
    for (const p of this.parameters()) n += p.numel();
    return n;
  }

  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Set every parameter's gradient to null (like `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Parameters and buffers by dotted name (the live tensors, not copies). */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [n, p] of this.namedParameters()) out.set(n, p);
    for (const [n, b] of this.namedBuffers()) out.set(n, b);
    return out;
  }

  /**
   * Copy values into this module's parameters and buffers. With `strict` (default), missing and
   * unexpected keys are both listed before refusing; shapes must match exactly.
   */
  loadStateDict(sd: Map<string, Tensor> | Record<string, Tensor>, strict = true): { missing: string[]; unexpected: string[] } {
    const src = sd instanceof Map ? sd : new Map(Object.entries(sd));
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !src.has(k));
    const unexpected = [...src.keys()].filter((k) => !own.has(k));
    if (strict && (missing.length || unexpected.length)) {
      throw new CheckpointError(
        `state dict does not fit the model: missing keys [${missing.join(', ')}], unexpected keys [${unexpected.join(', ')}]`,
        'the checkpoint was written for a different model configuration (space, layers, channels or dataset)',
      );
    }
    noGrad(() => {
      for (const [k, t] of own) {
        const v = src.get(k);
        if (!v) continue;
        const a = t.shape.join(',');
        const b = v.shape.join(',');
        if (a !== b) throw new CheckpointError(`state dict: '${k}' has shape [${b}], the model needs [${a}]`);
        t.copy_(v);
      }
    });
    return { missing, unexpected };
  }

  /** Convert every parameter and buffer (floating ones only for a dtype) in place; do this before building optimisers. */
  to(target: DType | Device): this {
    const isDevice = target === 'cpu' || target.startsWith('cuda');
    for (const m of this.modules()) {
      for (const map of [m._params, m._buffers]) {
        for (const [n, t] of map) {
          if (!t) continue;
          if (!isDevice && !(t.dtype === 'float32' || t.dtype === 'float64')) continue;
          const isParam = map === m._params;
          const moved = noGrad(() => t.to(target).detach());
          keep(moved);
          if (isParam) moved.requiresGrad = true;
          t.dispose();
          map.set(n, moved);
        }
      }
    }
    return this;
  }

  /** Free every parameter and buffer. */
  dispose(): void {
    for (const m of this.modules()) {
      for (const t of m._params.values()) t?.dispose();
      for (const t of m._buffers.values()) t?.dispose();
    }
  }
}

/** A module with a single-tensor forward. */
export abstract class Layer extends Module {
  abstract forward(x: Tensor): Tensor;
}
