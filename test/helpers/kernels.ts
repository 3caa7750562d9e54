/** Helpers of the tests that compare engine ops with a reference: libtorch's own kernels, loops, finite differences (test/torch/). */
import assert from 'node:assert/strict';
import { setDepthwiseKernel, type DepthwiseKernel } from '../../src/torch/index.js';

/** Run f with the given kernels (setDepthwiseKernel), restoring the previous choice after. */
export function withKernel<T>(kind: DepthwiseKernel, f: () => T): T {
  const prev = setDepthwiseKernel(kind);
  try {
    return f();
  } finally {
    setDepthwiseKernel(prev);
  }
}

/** max |a − b| / max |b| (the lengths must agree) */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length mismatch');
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / Math.max(den, 1e-30);
}
