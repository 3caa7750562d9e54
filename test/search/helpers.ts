/**
 * Shared helpers for the search tests: tiny configurations, synthetic data, checkpoint values.
 * (Temp folders: test/helpers/tmp.ts. Not a test file itself; node --test runs it as an empty one.)
 */
import { readFileSync } from 'node:fs';
import { syntheticDataset, type ImageDataset } from '../../src/data/index.js';
import { resolveConfig, type DeepPartial, type SearchConfig } from '../../src/search/config.js';
import { loadCheckpoint, listCheckpoints } from '../../src/experiments/checkpoint.js';
import type { Tensor } from '../../src/torch/index.js';

/** 64 synthetic 8×8 RGB images, 4 classes: 32 for w, 32 for α, batches of 8 → 4 steps per epoch. */
export const TINY_SYNTHETIC = { n: 64, channels: 3, size: 8, numClasses: 4 };

/** The smallest search that exercises everything: 3 cells, 2 channels, S3, 3 steps per epoch. */
export function tinyConfig(over: DeepPartial<SearchConfig> = {}): SearchConfig {
  return resolveConfig(
    undefined,
    {
      dataset: 'synthetic',
      synthetic: TINY_SYNTHETIC,
      space: 's3',
      layers: 3,
      channels: 2,
      epochs: 3,
      batchSize: 8,
      stepsPerEpoch: 3,
      evalBatches: 1,
      hessian: { every: 0, lanczosIterations: 8, topK: 2 },
      ...over,
    } as DeepPartial<SearchConfig>,
    'test',
  );
}

/** The training data `loadSearchData` would build for this config (same seed). */
export function tinyData(cfg: SearchConfig): ImageDataset {
  const s = cfg.synthetic;
  return syntheticDataset({ n: s.n, channels: s.channels, height: s.size, width: s.size, numClasses: s.numClasses, seed: cfg.seed, split: 'train' });
}

export function readJsonl(path: string): Array<Record<string, unknown>> {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** All tensors of a checkpoint as plain number arrays (and dtype/shape), tensors disposed. */
export function checkpointValues(root: string, epoch?: number): { epoch: number; values: Map<string, { dtype: string; shape: number[]; data: number[] }>; state: Record<string, unknown> } {
  const e = epoch ?? listCheckpoints(root).at(-1)!;
  const ck = loadCheckpoint<Record<string, unknown>>(root, e);
  const values = new Map<string, { dtype: string; shape: number[]; data: number[] }>();
  for (const [name, t] of ck.tensors) {
    values.set(name, tensorValues(t));
    t.dispose();
  }
  return { epoch: e, values, state: ck.state };
}

export function tensorValues(t: Tensor): { dtype: string; shape: number[]; data: number[] } {
  return { dtype: t.dtype, shape: [...t.shape], data: t.toNumbers() };
}

/** Bitwise comparison of two number arrays (NaN equal to NaN, −0 ≠ +0). */
export function sameBits(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
