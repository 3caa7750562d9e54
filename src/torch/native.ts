import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TorchError } from '../errors.js';
import type { GeneratedNativeOps } from './native-ops.generated.js';
import { readEnv } from '../util/env.js';
import { applyOpenMpDefaults } from './openmp.js';

/** An opaque handle to one reference of a libtorch tensor. */
export type Handle = number & { readonly __tensorHandle: unique symbol };
type H = Handle;
type Num = number;
type MaybeH = H | null;

/**
 * The raw addon surface (see native/src/addon.cc; the element-wise, in-place and reduction ops
 * are generated from native/ops.json). Not part of the public API.
 */
/** The caching allocator's counters (docs/speed.md#allocator): allocations served from its cache / from the system, blocks handed back, bytes in tensors / held idle. */
export interface AllocatorCacheStats {
  hits: number;
  misses: number;
  released: number;
  liveBytes: number;
  idleBytes: number;
}

export interface NativeAddon extends GeneratedNativeOps<H> {
  setErrorClass(cls: new (message: string, hint: undefined, op: string) => Error): void;
  dispose(h: H): void;
  isDisposed(h: H): boolean;
  liveCount(): number;
  shape(h: H): number[];
  dtype(h: H): string;
  device(h: H): string;
  numel(h: H): number;
  requiresGrad(h: H): boolean;
  isLeaf(h: H): boolean;
  setRequiresGrad(h: H, v: boolean): void;
  fromArray(a: ArrayBufferView, shape: number[], dtype: string | null): H;
  fromBytes(a: Uint8Array, shape: number[], dtype: string): H;
  toBytes(h: H): Buffer;
  toArray(h: H): Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;
  item(h: H): number | boolean;
  zeros(shape: number[], dtype: string | null, device: string | null): H;
  ones(shape: number[], dtype: string | null, device: string | null): H;
  empty(shape: number[], dtype: string | null, device: string | null): H;
  full(shape: number[], dtype: string | null, device: string | null, value: number | boolean): H;
  randn(shape: number[], dtype: string | null, device: string | null): H;
  rand(shape: number[], dtype: string | null, device: string | null): H;
  arange(start: Num, end: Num, step: Num, dtype: string | null, device: string | null): H;
  bernoulli(h: H, p: number | null): H;
  normal(mean: Num, std: Num, shape: number[], dtype: string | null, device: string | null): H;
  uniform_(h: H, from: Num, to: Num): void;
  normal_(h: H, mean: Num, std: Num): void;
  where(c: H, a: H | number, b: H | number, aIsScalar: boolean, bIsScalar: boolean): H;
  clamp(h: H, lo: number | null, hi: number | null): H;
  clamp_(h: H, lo: number | null, hi: number | null): void;
  norm(h: H, p: Num, dims: number[] | null, keepdim: boolean): H;
  maxDim(h: H, dim: Num, keepdim: boolean, isMin: false): [H, H];
  minDim(h: H, dim: Num, keepdim: boolean, isMin: true): [H, H];
  argmax(h: H, dim: number | null, keepdim: boolean, isMin: false): H;
  argmin(h: H, dim: number | null, keepdim: boolean, isMin: true): H;
  topk(h: H, k: Num, dim: Num, largest: boolean, sorted: boolean): [H, H];
  sort(h: H, dim: Num, descending: boolean): [H, H];
  view(h: H, shape: number[]): H;
  reshape(h: H, shape: number[]): H;
  permute(h: H, dims: number[]): H;
  expand(h: H, shape: number[]): H;
  slice(h: H, dim: Num, start: number | null, end: number | null, step: Num): H;
  cat(hs: H[], dim: Num): H;
  stack(hs: H[], dim: Num): H;
  oneHot(h: H, numClasses: Num): H;
  to(h: H, dtype: string | null, device: string | null): H;
  getGrad(h: H): MaybeH;
  setGrad(h: H, g: MaybeH): void;
  backward(h: H, g: MaybeH, retain: boolean | null, create: boolean): void;
  grad(outs: H[], ins: H[], gradOuts: MaybeH[] | null, retain: boolean | null, create: boolean, allowUnused: boolean): MaybeH[];
  setGradEnabled(v: boolean): boolean;
  isGradEnabled(): boolean;
  conv2d(x: H, w: H, b: MaybeH, stride: number[], padding: number[], dilation: number[], groups: Num): H;
  convTranspose2d(x: H, w: H, b: MaybeH, stride: number[], padding: number[], outputPadding: number[], groups: Num, dilation: number[]): H;
  upsampleBilinear2d(x: H, size: number[], alignCorners: boolean): H;
  leakyRelu(x: H, negativeSlope: Num): H;
  setDepthwiseKernel(on: boolean): boolean;
  depthwiseKernelCalls(): number;
  pointwiseKernelCalls(): number;
  maxPoolKernelCalls(): number;
  batchNormKernelCalls(): number;
  weightedSum(terms: H[], w: H, index: number[]): H;
  weightedSumKernelCalls(): number;
  addonParallelThreads(): number;
  allocatorPolicy(): 'cache' | 'keep' | 'system';
  allocatorCacheStats(): AllocatorCacheStats;
  emptyAllocatorCache(): void;
  profileStart(): void;
  profileStop(): Array<{ name: string; calls: number; totalUs: number; selfUs: number }>;
  batchNorm(x: H, w: MaybeH, b: MaybeH, rm: MaybeH, rv: MaybeH, training: boolean, momentum: Num, eps: Num): H;
  maxPool2d(x: H, k: number[], s: number[], p: number[], d: number[], ceil: boolean): H;
  avgPool2d(x: H, k: number[], s: number[], p: number[], ceil: boolean, countIncludePad: boolean): H;
  adaptiveAvgPool2d(x: H, out: number[]): H;
  linear(x: H, w: H, b: MaybeH): H;
  dropout(x: H, p: Num, train: boolean): H;
  softmax(x: H, dim: Num): H;
  logSoftmax(x: H, dim: Num): H;
  crossEntropy(x: H, target: H, reduction: string, labelSmoothing: Num): H;
  embedding(w: H, idx: H): H;
  manualSeed(seed: Num): void;
  getRngState(): Buffer;
  setRngState(b: Uint8Array): void;
  setNumThreads(n: Num): void;
  getNumThreads(): number;
  cudaAvailable(): boolean;
  cudaDeviceCount(): number;
  setDeterministic(v: boolean): void;
  version(): string;
  config(): string;
  noop(): void;
  benchAdd(h: H, n: number): number;
}

function packageRoot(): string {
  // dist/src/torch/native.js or src/torch/native.ts → walk up to the folder with package.json
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native'))) return dir;
    dir = resolve(dir, '..');
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

function load(): NativeAddon {
  const root = packageRoot();
  const candidates = [
    readEnv().addon,
    join(root, 'native', 'build', 'Release', 'rdarts_torch.node'),
    join(root, 'native', 'build', 'Debug', 'rdarts_torch.node'),
  ].filter((p): p is string => !!p);
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new Error(
      `the libtorch addon is not built (looked for ${candidates.join(', ')}).\n` +
        `help: run 'bash scripts/setup.sh' in ${root}; it installs libtorch-dev when missing and builds the addon`,
    );
  }
  const require = createRequire(import.meta.url);
  try {
    return require(path) as NativeAddon;
  } catch (e) {
    throw new Error(
      `could not load the libtorch addon ${path}: ${(e as Error).message}\n` +
        `help: the addon must be built against the libtorch it loads; re-run 'bash scripts/setup.sh' ` +
        `(set LIBTORCH=/path/to/libtorch for a non-Debian libtorch, and LIBTORCH_CXX11_ABI=0 for pip wheels built with the old ABI)`,
    );
  }
}

// libgomp reads its waiting policy when the addon loads it: set the default first (docs/threads.md)
applyOpenMpDefaults();
// the addon reads RDARTS_MALLOC as it loads (docs/speed.md#allocator): a misspelt policy is an error, not a silent default
{
  const policy = readEnv().malloc;
  if (policy !== undefined && !['cache', 'keep', 'system'].includes(policy)) {
    throw new Error(`RDARTS_MALLOC='${policy}' is not an allocator policy: use cache (the default), keep or system (docs/speed.md#allocator)`);
  }
  const cap = readEnv().cacheMb;
  if (cap !== undefined && !(Number.isFinite(Number(cap)) && Number(cap) >= 0)) {
    throw new Error(`RDARTS_CACHE_MB='${cap}' is not a size: give the MiB the caching allocator may hold idle, a number ≥ 0 (docs/speed.md#allocator)`);
  }
}
export const native: NativeAddon = load();
// native errors are TorchErrors named after the public op
native.setErrorClass(TorchError);
