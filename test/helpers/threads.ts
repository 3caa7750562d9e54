/**
 * The one place that pins the tests' threads. Test files run two at a time (scripts/test.sh),
 * often on two cores shared with other work; tiny networks run fastest on one thread, and with
 * more, OpenMP spin-waiting under contention slows them down a hundredfold. So every test process
 * and every child it starts (our CLI, python3) uses one libtorch / OpenMP / BLAS thread.
 */
import { getNumThreads, setNumThreads } from '../../src/torch/runtime.js';

export const TEST_THREADS = 1;

/** Pin this process's libtorch intra-op threads (call once at the top of a test file). */
export function pinTestThreads(): void {
  setNumThreads(TEST_THREADS);
}

/** The environment for a child process (our CLI, python3): the parent's, threads pinned, plus `extra`. */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, RDARTS_THREADS: String(TEST_THREADS), OMP_NUM_THREADS: String(TEST_THREADS), ...extra };
}

/** Run f with this process's libtorch intra-op threads set to n, restoring the previous count after. */
export function withThreads<T>(n: number, f: () => T): T {
  const prev = getNumThreads();
  setNumThreads(n);
  try {
    return f();
  } finally {
    setNumThreads(prev);
  }
}
