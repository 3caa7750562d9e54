/** Free functions over tensors: joining (cat, stack), selection (where) and one-hot encoding. */
import { native } from './native.js';
import { Tensor } from './tensor.js';

export function cat(ts: Tensor[], dim = 0): Tensor {
  return new Tensor(native.cat(ts.map((t) => t.handle), dim));
}
export function stack(ts: Tensor[], dim = 0): Tensor {
  return new Tensor(native.stack(ts.map((t) => t.handle), dim));
}
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  return new Tensor(
    native.where(cond.handle, typeof a === 'number' ? a : a.handle, typeof b === 'number' ? b : b.handle, typeof a === 'number', typeof b === 'number'),
  );
}
export function oneHot(indices: Tensor, numClasses: number): Tensor {
  return new Tensor(native.oneHot(indices.handle, numClasses));
}
