/**
 * What a training loop (the bilevel search trainer, the evaluation trainer) needs from the place
 * its run is recorded. `search` writes through this interface only and opens no files;
 * `experiments` implements it with run folders (see experiments/run-recorder.ts). A loop given no
 * recorder keeps everything in memory (no checkpoints, no resume).
 */
import type { Tensor } from '../torch/index.js';

/** Byte lengths of the append-only logs, stored in each checkpoint so a resume can cut them back. */
export interface LogLengths {
  metrics: number;
  genotypes: number;
}

export interface CheckpointData<S> {
  epoch: number;
  tensors: Map<string, Tensor>;
  state: S;
}

export interface RunRecorder {
  /** Human-readable location (a folder path), for messages and result records. */
  readonly location: string;
  /** Append one line to the metrics log. */
  appendMetrics(line: Record<string, unknown>): void;
  /** Append one line to the genotype log. */
  appendGenotype(line: Record<string, unknown>): void;
  /** Write (replace) the run's final result record. */
  writeResult(result: unknown): void;
  /** Current lengths of the logs. */
  lengths(): LogLengths;
  /** Cut the logs back to lengths recorded earlier (by a checkpoint). */
  truncateLogs(lengths: LogLengths): void;
  /** Write the checkpoint of a completed epoch atomically. */
  saveCheckpoint<S>(epoch: number, tensors: Map<string, Tensor>, state: S): void;
  /** Load one epoch's checkpoint; throws CheckpointError when missing or corrupt. */
  loadCheckpoint<S>(epoch: number): CheckpointData<S>;
  /** The newest intact checkpoint (corrupt ones are reported through onSkip and passed over), or null. */
  loadLatestCheckpoint<S>(onSkip?: (epoch: number, err: Error) => void): CheckpointData<S> | null;
  /** Epochs that have a complete checkpoint, ascending. */
  listCheckpoints(): number[];
  /** Delete one epoch's checkpoint (a no-op when absent). */
  removeCheckpoint(epoch: number): void;
  /** Keep the newest `keep` checkpoints and every pinned epoch; delete the rest. */
  pruneCheckpoints(keep: number, pinned?: Set<number>): void;
}
