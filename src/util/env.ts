/**
 * The one place that reads environment variables. Nothing else touches process.env; the one write
 * (OpenMP defaults set before libtorch loads) goes through `setEnvDefault` here too.
 */
export interface Env {
  /** Intra-op thread count for libtorch (RDARTS_THREADS; default: the CPUs this process may use, see torch/threads). */
  threads: number | undefined;
  /** Folder where datasets are looked up when no --data-dir is given. */
  dataDir: string | undefined;
  /** Force plain progress lines even on a TTY. */
  plainProgress: boolean;
  /** RDARTS_ADDON: path of a libtorch addon to load instead of native/build's. */
  addon: string | undefined;
  /** RDARTS_DEBUG=1: print stack traces of unexpected errors. */
  debug: boolean;
  /** RDARTS_BUSY_WARNING=0 silences the "machine already busy" note a search prints when it starts. */
  busyWarning: boolean;
  /** SLURM_CPUS_PER_TASK inside a Slurm job (only when SLURM_JOB_ID is set too). */
  slurmCpusPerTask: number | undefined;
  /** This Slurm task as scontrol names it: <array job>_<task> in an array job, else SLURM_JOB_ID. */
  slurmTask: string | undefined;
  /** The user's own OpenMP waiting settings, if any (then rdarts sets none). */
  ompWaitPolicy: string | undefined;
  gompSpincount: string | undefined;
  /** RDARTS_THREAD_SHARE=0: keep the thread count while other rdarts runs share the machine (docs/threads.md#sharing). */
  threadShare: boolean;
  /**
   * RDARTS_DEPTHWISE: 'native' (the addon's kernels: depthwise convolution, pooling, batch norm, the weighted sum; docs/speed.md) or 'libtorch'; unset = the default.
   */
  depthwise: 'native' | 'libtorch' | undefined;
  /**
   * RDARTS_MALLOC: the allocator policy, read by the addon itself when it loads (docs/speed.md#allocator):
   * 'cache' (the default: the addon's caching allocator), 'keep' (glibc keeps freed memory) or 'system'.
   * RDARTS_CACHE_MB caps the memory the cache holds idle (default 1024).
   */
  malloc: string | undefined;
  cacheMb: string | undefined;
}

function positiveInt(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

export function readEnv(env: NodeJS.ProcessEnv = process.env): Env {
  return {
    threads: positiveInt(env.RDARTS_THREADS),
    dataDir: env.RDARTS_DATA_DIR || undefined,
    plainProgress: env.RDARTS_PLAIN_PROGRESS === '1' || env.CI === 'true',
    addon: env.RDARTS_ADDON || undefined,
    debug: env.RDARTS_DEBUG === '1',
    busyWarning: env.RDARTS_BUSY_WARNING !== '0',
    slurmCpusPerTask: env.SLURM_JOB_ID ? positiveInt(env.SLURM_CPUS_PER_TASK) : undefined,
    slurmTask: env.SLURM_ARRAY_JOB_ID ? `${env.SLURM_ARRAY_JOB_ID}_${env.SLURM_ARRAY_TASK_ID ?? ''}` : env.SLURM_JOB_ID || undefined,
    ompWaitPolicy: env.OMP_WAIT_POLICY || undefined,
    gompSpincount: env.GOMP_SPINCOUNT || undefined,
    threadShare: env.RDARTS_THREAD_SHARE !== '0',
    depthwise: env.RDARTS_DEPTHWISE === 'native' || env.RDARTS_DEPTHWISE === 'libtorch' ? env.RDARTS_DEPTHWISE : undefined,
    malloc: env.RDARTS_MALLOC || undefined,
    cacheMb: env.RDARTS_CACHE_MB || undefined,
  };
}

/** Set an environment variable for this process (and libraries loaded after) unless it is already set. */
export function setEnvDefault(name: string, value: string, env: NodeJS.ProcessEnv = process.env): void {
  if (env[name] === undefined || env[name] === '') env[name] = value;
}

/** A copy of this process's whole environment, for the child processes it starts. */
export function environment(): NodeJS.ProcessEnv {
  return { ...process.env };
}
