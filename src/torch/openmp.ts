/**
 * OpenMP's waiting policy for libtorch's worker threads (docs/threads.md). libgomp reads its
 * variables once, when it is loaded with the addon, so native.ts applies these before loading.
 * This module loads no addon (the threads bench imports it).
 */
import { readEnv, setEnvDefault } from '../util/env.js';

/**
 * What rdarts sets for libgomp's waiting policy when the user has set neither variable: nothing.
 * Measured on 2 cores (docs/threads.md#measurements): libgomp's own spinning is the fastest
 * lone run; PASSIVE costs a lone run ~20 %; a bounded spin (GOMP_SPINCOUNT=10000) costs a lone
 * run too and still collapses with two runs at once (2.8×). What stops the collapse is threads:
 * each run keeps to its share of the CPUs while others run (util/cpus.ts ThreadShare).
 */
export const OPENMP_DEFAULTS: Readonly<Record<string, string>> = {};

/** Set OPENMP_DEFAULTS in the environment unless the user has set OMP_WAIT_POLICY or GOMP_SPINCOUNT. */
export function applyOpenMpDefaults(env?: NodeJS.ProcessEnv): void {
  const e = readEnv(env); // undefined: this process's environment
  if (e.ompWaitPolicy !== undefined || e.gompSpincount !== undefined) return;
  for (const [name, value] of Object.entries(OPENMP_DEFAULTS)) setEnvDefault(name, value, env);
}
