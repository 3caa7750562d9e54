import { native } from './native.js';
import { Tensor, wrap } from './tensor.js';

export interface GradOptions {
  /** Weights for a vector-Jacobian product, one per output (null = ones for scalars). */
  gradOutputs?: Array<Tensor | null>;
  /** Keep the graph for another backward pass (default: createGraph). */
  retainGraph?: boolean;
  /** Build a graph of the gradient itself, for double backward (Hessian-vector products). */
  createGraph?: boolean;
  /** Return null for inputs the outputs do not depend on, instead of throwing. */
  allowUnused?: boolean;
}

/**
 * Gradients of `outputs` w.r.t. `inputs`, like `torch.autograd.grad`. With `createGraph`, the
 * returned gradients are differentiable again: grad(grad(L, α)·v, α) is a Hessian-vector product.
 */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor[], opts: GradOptions = {}): Array<Tensor | null> {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const res = native.grad(
    outs.map((t) => t.handle),
    inputs.map((t) => t.handle),
    opts.gradOutputs ? opts.gradOutputs.map((g) => (g ? g.handle : null)) : null,
    opts.retainGraph ?? null,
    opts.createGraph ?? false,
    opts.allowUnused ?? false,
  );
  return res.map((hd) => (hd ? wrap(hd) : null));
}

/** Run `fn` with gradient recording off (like `torch.no_grad()`); restores the previous mode. */
export function noGrad<T>(fn: () => T): T {
  const prev = native.setGradEnabled(false);
  try {
    return fn();
  } finally {
    native.setGradEnabled(prev);
  }
}

/** Run `fn` with gradient recording on (inside a noGrad block, for instance). */
export function enableGrad<T>(fn: () => T): T {
  const prev = native.setGradEnabled(true);
  try {
    return fn();
  } finally {
    native.setGradEnabled(prev);
  }
}

export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}
