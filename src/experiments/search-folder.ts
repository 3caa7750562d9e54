/**
 * The run-folder skeleton the searches of the other domains share (experiments/lm-search-run.ts,
 * experiments/disp-search-run.ts): start a search in a folder that holds no run — the data loaded
 * first, so missing data leaves no folder behind — and continue one from its newest intact
 * checkpoint with the same data (fingerprint checked). The caller holds the folder's lock.
 */
import { existsSync } from 'node:fs';
import { CheckpointError, ConfigError } from '../errors.js';
import { RunDir } from './run-dir.js';
import { RUN_FILES } from './run-format.js';
import { RunFolderRecorder } from './run-recorder.js';

/** What the skeleton needs of a trainer. */
export interface FolderTrainer<R> {
  describe(): Record<string, unknown>;
  run(): Promise<R>;
  resume(onSkip?: (epoch: number, err: Error) => void): number | null;
  dispose(): void;
}

type Note = ((e: { type: 'note'; message: string }) => void) | undefined;

/** Start a search in `out` (null: in memory): load, build, write config.json, run. */
export async function startInFolder<D, R>(out: string | null, load: () => D | Promise<D>, make: (data: D, recorder: RunFolderRecorder | null) => FolderTrainer<R>): Promise<R> {
  let runDir: RunDir | null = null;
  if (out) {
    runDir = new RunDir(out);
    if (runDir.exists()) throw new ConfigError(`${runDir.path} already holds a run (${RUN_FILES.config} exists)`, `continue it with --resume ${out}, or choose another --out`);
  }
  const data = await load();
  runDir?.ensure();
  const trainer = make(data, runDir ? new RunFolderRecorder(runDir) : null);
  try {
    runDir?.writeConfig(trainer.describe());
    return await trainer.run();
  } finally {
    trainer.dispose();
  }
}

/** Continue the search in `dir`: refuse a finished folder without checkpoints and other data; resume (or start over when no checkpoint exists), run. */
export async function resumeInFolder<D, R>(
  dir: string,
  fingerprint: string | null,
  what: string,
  load: () => D | Promise<D>,
  make: (data: D, recorder: RunFolderRecorder) => FolderTrainer<R>,
  onEvent: Note,
): Promise<R> {
  const runDir = new RunDir(dir);
  const recorder = new RunFolderRecorder(runDir);
  if (existsSync(runDir.file(RUN_FILES.result)) && recorder.listCheckpoints().length === 0) {
    throw new CheckpointError(`${runDir.path} has finished (${RUN_FILES.result}) and holds no checkpoint to continue from`);
  }
  const trainer = make(await load(), recorder);
  try {
    const fp = trainer.describe().dataFingerprint;
    if (fingerprint && fp !== fingerprint) throw new CheckpointError(`the ${what} differ from those this run started with (fingerprint ${String(fp)} vs ${fingerprint})`, 'point --data-dir at the same files the run used');
    const from = trainer.resume((e, err) => onEvent?.({ type: 'note', message: `skipping checkpoint of epoch ${e}: ${err.message}` }));
    if (from === null) {
      onEvent?.({ type: 'note', message: 'no checkpoint yet: starting from epoch 0' });
      recorder.truncateLogs({ metrics: 0, genotypes: 0 });
    }
    return await trainer.run();
  } finally {
    trainer.dispose();
  }
}
