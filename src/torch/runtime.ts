import { native, type AllocatorCacheStats } from './native.js';
export type { AllocatorCacheStats } from './native.js';
import { readEnv } from '../util/env.js';
import { readCpuLimits, threadCount } from '../util/cpus.js';

/** Seed libtorch's default generator (init, randn, dropout, noise ops). One call seeds all tensor-side randomness. */
export function manualSeed(seed: number): void {
  native.manualSeed(seed);
}

/** The state of libtorch's default CPU generator, as bytes (for checkpoints). */
export function getRngState(): Uint8Array {
  return new Uint8Array(native.getRngState());
}

export function setRngState(state: Uint8Array): void {
  native.setRngState(state);
}

export function setNumThreads(n: number): void {
  native.setNumThreads(n);
}

export function getNumThreads(): number {
  return native.getNumThreads();
}

export function cudaAvailable(): boolean {
  return native.cudaAvailable();
}

export function cudaDeviceCount(): number {
  return native.cudaDeviceCount();
}

/** libtorch's version, e.g. "1.13.0". */
export function libtorchVersion(): string {
  return native.version();
}

/** libtorch's build configuration (at::show_config). */
export function libtorchConfig(): string {
  return native.config();
}

/**
 * Which kernels depthwise convolutions, average pooling, max pooling, affine-free batch norm and
 * F.weightedSum use on the CPU: 'native' (the addon's: a direct depthwise convolution, forward and both gradients,
 * the input gradient as a flipped-kernel convolution, average
 * pooling as a depthwise convolution, a vectorised max-pooling forward, an affine-free training-mode
 * batch norm that keeps its output instead of its input, a one-pass weighted sum; all differentiable
 * to any order; docs/speed.md) or 'libtorch' (its own, im2col for 5×5 and dilated depthwise
 * backward; the weighted sum as mul and add).
 * Returns the previous choice.
 */
export function setDepthwiseKernel(kind: DepthwiseKernel): DepthwiseKernel {
  return native.setDepthwiseKernel(kind === 'native') ? 'native' : 'libtorch';
}
export type DepthwiseKernel = 'native' | 'libtorch';
/** How many times the native depthwise weight-gradient kernel has run in this process. */
export function depthwiseKernelCalls(): number {
  return native.depthwiseKernelCalls();
}
/** How many times a native 1×1-convolution kernel (forward, input or weight gradient) has run in this process. */
export function pointwiseKernelCalls(): number {
  return native.pointwiseKernelCalls();
}
/** How many times the native max-pooling kernel has run in this process. */
export function maxPoolKernelCalls(): number {
  return native.maxPoolKernelCalls();
}
/** How many times the native batch norm (training mode, no affine parameters) has run in this process. */
export function batchNormKernelCalls(): number {
  return native.batchNormKernelCalls();
}
/** How many times the native weighted-sum kernel (F.weightedSum's forward) has run in this process. */
export function weightedSumKernelCalls(): number {
  return native.weightedSumKernelCalls();
}
/**
 * How many threads the addon's own kernels split their work over (a parallel loop of 64 items,
 * run now): getNumThreads() when the addon was built with OpenMP, 1 if it was not
 * (docs/speed.md#threads).
 */
export function addonParallelThreads(): number {
  return native.addonParallelThreads();
}
export const DEFAULT_DEPTHWISE_KERNEL: DepthwiseKernel = 'native';

/**
 * The allocator policy the addon set when it loaded (docs/speed.md#allocator): 'cache' (the
 * default: libtorch's CPU tensors come from the addon's caching allocator, which keeps freed
 * blocks for reuse), 'keep' (RDARTS_MALLOC=keep on glibc: glibc keeps freed memory instead of
 * unmapping it) or 'system' (RDARTS_MALLOC=system: libtorch's own allocator on glibc's defaults).
 */
export function allocatorPolicy(): 'cache' | 'keep' | 'system' {
  return native.allocatorPolicy();
}

/** The caching allocator's counters since the addon loaded (all zero under another policy). */
export function allocatorCacheStats(): AllocatorCacheStats {
  return native.allocatorCacheStats();
}

/** Hand the caching allocator's idle blocks back to the system (tensors in use are untouched). */
export function emptyAllocatorCache(): void {
  native.emptyAllocatorCache();
}

/** One operator's line of libtorch's profiler: calls, inclusive and self time (µs) over the profiled span. */
export interface OpProfile {
  name: string;
  calls: number;
  totalUs: number;
  selfUs: number;
}
/** Start libtorch's operator profiler (CPU; docs/speed.md#profiling). Throws if it is already running. */
export function profileStart(): void {
  native.profileStart();
}
/** Stop the profiler: one row per operator name, by self time, largest first. */
export function profileStop(): OpProfile[] {
  return native.profileStop();
}

/** Ask libtorch for deterministic algorithms where it has them (warns, never throws, where it has none). */
export function setDeterministic(on: boolean): void {
  native.setDeterministic(on);
}

// Debian's libtorch defaults to one intra-op thread. Use the CPUs this process may run on (affinity
// mask, cgroup quota, Slurm's CPUs per task), not the machine's core count; RDARTS_THREADS overrides.
// See docs/threads.md.
{
  const env = readEnv();
  native.setNumThreads(threadCount(env, readCpuLimits(env)));
  native.setDepthwiseKernel((env.depthwise ?? DEFAULT_DEPTHWISE_KERNEL) === 'native');
}
