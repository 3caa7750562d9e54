/**
 * Checkpoints: one folder per epoch under <run>/checkpoints/epoch-NNNN holding
 * `tensors.safetensors` and `state.json` (everything else: optimiser hyper-parameters, RNG
 * states, loader positions, plug-in states, log lengths) with the SHA-256 of the tensor file.
 * A checkpoint is written to a temporary folder, fsynced and renamed into place, so a crash
 * leaves either the previous checkpoint or the new one. Loading verifies the hash and the
 * declared tensor names, so a corrupt checkpoint is detected, never loaded.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { serializeSafetensors, parseSafetensors, type Tensor } from '../torch/index.js';
import { writeFileAtomic } from '../util/fs.js';
import { CheckpointError } from '../errors.js';
import type { CheckpointData } from '../search/recorder.js';

export type { CheckpointData };

export const CHECKPOINT_VERSION = 1;

/** The two files of one checkpoint folder. */
export const CHECKPOINT_FILES = { tensors: 'tensors.safetensors', state: 'state.json' } as const;

const dirName = (epoch: number): string => `epoch-${String(epoch).padStart(4, '0')}`;

/** Epochs that have a complete checkpoint folder, ascending. */
export function listCheckpoints(root: string): number[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((n) => /^epoch-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

export function checkpointPath(root: string, epoch: number): string {
  return join(root, dirName(epoch));
}

export function saveCheckpoint<S>(root: string, epoch: number, tensors: Map<string, Tensor>, state: S): string {
  mkdirSync(root, { recursive: true });
  const final = checkpointPath(root, epoch);
  const tmp = join(root, `.tmp-${dirName(epoch)}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  const bytes = serializeSafetensors(tensors, { format: 'pt', producer: 'robust-darts' });
  writeFileAtomic(join(tmp, CHECKPOINT_FILES.tensors), bytes);
  const meta = {
    version: CHECKPOINT_VERSION,
    epoch,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    tensorNames: [...tensors.keys()].sort(),
    state,
  };
  writeFileAtomic(join(tmp, CHECKPOINT_FILES.state), JSON.stringify(meta));
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  return final;
}

/** Load and verify one checkpoint; any inconsistency is a CheckpointError naming the file. */
export function loadCheckpoint<S>(root: string, epoch: number): CheckpointData<S> {
  const dir = checkpointPath(root, epoch);
  const statePath = join(dir, CHECKPOINT_FILES.state);
  const tensorPath = join(dir, CHECKPOINT_FILES.tensors);
  const corrupt = (why: string): never => {
    throw new CheckpointError(`checkpoint ${dir} is corrupt: ${why}`, 'it was not loaded; delete that folder to resume from the previous checkpoint, or start a new run');
  };
  if (!existsSync(statePath) || !existsSync(tensorPath)) corrupt('state.json or tensors.safetensors is missing');
  let meta: { version: number; epoch: number; sha256: string; tensorNames: string[]; state: S };
  try {
    meta = JSON.parse(readFileSync(statePath, 'utf8'));
  } catch (e) {
    return corrupt(`state.json is not valid JSON (${(e as Error).message})`);
  }
  if (meta.version !== CHECKPOINT_VERSION) corrupt(`version ${meta.version}, this build reads version ${CHECKPOINT_VERSION}`);
  if (meta.epoch !== epoch) corrupt(`state.json says epoch ${meta.epoch}, the folder name says ${epoch}`);
  const bytes = readFileSync(tensorPath);
  const hash = createHash('sha256').update(bytes).digest('hex');
  if (hash !== meta.sha256) corrupt(`tensors.safetensors has SHA-256 ${hash.slice(0, 12)}…, state.json expects ${meta.sha256.slice(0, 12)}…`);
  const { tensors } = parseSafetensors(bytes, tensorPath);
  const names = [...tensors.keys()].sort();
  if (names.join('\n') !== [...meta.tensorNames].sort().join('\n')) {
    for (const t of tensors.values()) t.dispose();
    corrupt('the tensor names differ from those state.json lists');
  }
  return { epoch, tensors, state: meta.state };
}

/** The newest checkpoint that verifies; corrupt newer ones are reported through `onSkip`. */
export function loadLatestCheckpoint<S>(root: string, onSkip?: (epoch: number, err: CheckpointError) => void): CheckpointData<S> | null {
  const epochs = listCheckpoints(root).reverse();
  let lastErr: CheckpointError | null = null;
  for (const e of epochs) {
    try {
      return loadCheckpoint<S>(root, e);
    } catch (err) {
      if (!(err instanceof CheckpointError)) throw err;
      lastErr = err;
      onSkip?.(e, err);
    }
  }
  if (lastErr) throw lastErr;
  return null;
}

/** Delete one epoch's checkpoint (a no-op when absent). */
export function removeCheckpoint(root: string, epoch: number): void {
  rmSync(checkpointPath(root, epoch), { recursive: true, force: true });
}

/** Keep the newest `keep` checkpoints and any in `pinned`. */
export function pruneCheckpoints(root: string, keep: number, pinned: Set<number> = new Set()): void {
  const epochs = listCheckpoints(root);
  const drop = epochs.slice(0, Math.max(0, epochs.length - keep)).filter((e) => !pinned.has(e));
  for (const e of drop) removeCheckpoint(root, e);
}
