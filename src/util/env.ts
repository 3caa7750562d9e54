/**
 * The one place that reads RDARTS_* environment variables. Nothing else touches process.env.
 */
export interface Env {
  /** Intra-op thread count for libtorch (default: number of cores). */
  threads: number | undefined;
  /** Folder where datasets are looked up when no --data-dir is given. */
  dataDir: string | undefined;
  /** Force plain progress lines even on a TTY. */
  plainProgress: boolean;
}

export function readEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const threads = env.RDARTS_THREADS ? Number.parseInt(env.RDARTS_THREADS, 10) : undefined;
  return {
    threads: threads !== undefined && Number.isFinite(threads) && threads > 0 ? threads : undefined,
    dataDir: env.RDARTS_DATA_DIR || undefined,
    plainProgress: env.RDARTS_PLAIN_PROGRESS === '1' || env.CI === 'true',
  };
}
