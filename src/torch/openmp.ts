/**
 * OpenMP's waiting policy for libtorch's worker threads (docs/threads.md). libgomp reads its
 * variables once, when it is loaded with the addon, so native.ts applies these before loading.
 * This module loads no addon (the threads bench imports it).
 */
import { readEnv, setEnvDefault } from '../util/env.js';

/**
 * A bounded spin before a waiting worker sleeps: libgomp's own default (OMP_WAIT_POLICY unset)
 * spins 300000 times (~ms), which makes concurrent runs that together want more threads than
 * there are CPUs burn each other's time slices; PASSIVE (no spin) costs a lone run 10–20 %.
 */
export const OPENMP_DEFAULTS: Readonly<Record<string, string>> = { GOMP_SPINCOUNT: '10000' };

/** Set OPENMP_DEFAULTS in the environment unless the user has set OMP_WAIT_POLICY or GOMP_SPINCOUNT. */
export function applyOpenMpDefaults(env?: NodeJS.ProcessEnv): void {
  const e = readEnv(env); // undefined: this process's environment
  if (e.ompWaitPolicy !== undefined || e.gompSpincount !== undefined) return;
  for (const [name, value] of Object.entries(OPENMP_DEFAULTS)) setEnvDefault(name, value, env);
}
