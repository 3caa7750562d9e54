/**
 * The run-folder implementation of `RunRecorder` (search/recorder.ts): logs and result go to
 * the folder's files (run-dir.ts), checkpoints to its checkpoints/ folder (checkpoint.ts).
 */
import type { Tensor } from '../torch/index.js';
import type { CheckpointData, LogLengths, RunRecorder } from '../search/recorder.js';
import { RunDir } from './run-dir.js';
import { listCheckpoints, loadCheckpoint, loadLatestCheckpoint, pruneCheckpoints, removeCheckpoint, saveCheckpoint } from './checkpoint.js';

export class RunFolderRecorder implements RunRecorder {
  readonly dir: RunDir;

  /** Record into `dir` (a RunDir or a path; the folder must exist: see RunDir.ensure). */
  constructor(dir: RunDir | string) {
    this.dir = typeof dir === 'string' ? new RunDir(dir) : dir;
  }

  get location(): string {
    return this.dir.path;
  }

  appendMetrics(line: Record<string, unknown>): void {
    this.dir.appendMetrics(line);
  }

  appendGenotype(line: Record<string, unknown>): void {
    this.dir.appendGenotype(line);
  }

  writeResult(result: unknown): void {
    this.dir.writeResult(result);
  }

  lengths(): LogLengths {
    return this.dir.lengths();
  }

  truncateLogs(lengths: LogLengths): void {
    this.dir.truncateLogs(lengths);
  }

  saveCheckpoint<S>(epoch: number, tensors: Map<string, Tensor>, state: S): void {
    saveCheckpoint(this.dir.checkpointsDir, epoch, tensors, state);
  }

  loadCheckpoint<S>(epoch: number): CheckpointData<S> {
    return loadCheckpoint<S>(this.dir.checkpointsDir, epoch);
  }

  loadLatestCheckpoint<S>(onSkip?: (epoch: number, err: Error) => void): CheckpointData<S> | null {
    return loadLatestCheckpoint<S>(this.dir.checkpointsDir, onSkip);
  }

  listCheckpoints(): number[] {
    return listCheckpoints(this.dir.checkpointsDir);
  }

  removeCheckpoint(epoch: number): void {
    removeCheckpoint(this.dir.checkpointsDir, epoch);
  }

  pruneCheckpoints(keep: number, pinned?: Set<number>): void {
    pruneCheckpoints(this.dir.checkpointsDir, keep, pinned);
  }
}
