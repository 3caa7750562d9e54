/**
 * `loadDataset(name, opts)`: one entry point over the readers, with the data folder
 * default, optional download and optional subset.
 */
import { DataError } from '../errors.js';
import { Rng } from '../util/rng.js';
import { readCifar10, readCifar100 } from './cifar.js';
import { DATASET_NAMES, selectImages, validateDataset, type DatasetName, type ImageDataset, type Split } from './dataset.js';
import { downloadDataset, type DownloadOptions } from './download.js';
import { readFashionMnist } from './idx.js';
import { defaultDataDir } from './sources.js';
import { subsetIndices } from './split.js';
import { syntheticDataset } from './synthetic.js';
import { readSvhn } from './svhn.js';

export interface LoadOptions {
  /** Folder holding the dataset (or its parent); default RDARTS_DATA_DIR, else ./data (Fashion-MNIST: /usr/share/datasets/fashion-mnist). */
  dataDir?: string;
  split: Split;
  /** Fetch (and verify) the files into dataDir first when they are missing. */
  download?: boolean;
  /** Keep only this many images: a uniformly random subset, in natural index order. */
  subset?: number;
  /** Seed of the subset draw (default 0). */
  subsetSeed?: number;
  /** Synthetic dataset size and seed (defaults: 2048 train / 512 test images, 3×32×32, 10 classes, seed 0). */
  synthetic?: { n?: number; channels?: number; height?: number; width?: number; numClasses?: number; seed?: number };
  /** Passed on to downloadDataset. */
  downloadOptions?: DownloadOptions;
}

export function isDatasetName(s: string): s is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(s);
}

const READERS: Record<Exclude<DatasetName, 'synthetic'>, (dir: string, split: Split) => ImageDataset> = {
  cifar10: readCifar10,
  cifar100: readCifar100,
  svhn: readSvhn,
  'fashion-mnist': readFashionMnist,
};

/** Reads a dataset from disk (no download). */
export function loadDatasetSync(name: DatasetName, opts: Omit<LoadOptions, 'download' | 'downloadOptions'>): ImageDataset {
  if (!isDatasetName(name)) {
    throw new DataError(`unknown dataset "${String(name)}"`, `use one of ${DATASET_NAMES.join(', ')}`);
  }
  let ds: ImageDataset;
  if (name === 'synthetic') {
    const s = opts.synthetic ?? {};
    ds = syntheticDataset({ ...s, n: s.n ?? (opts.split === 'train' ? 2048 : 512), split: opts.split });
  } else {
    ds = READERS[name](opts.dataDir ?? defaultDataDir(name), opts.split);
  }
  validateDataset(ds);
  return applySubset(ds, opts.subset, opts.subsetSeed);
}

/** Reads a dataset, downloading it first when `download` is set and the files are missing. */
export async function loadDataset(name: DatasetName, opts: LoadOptions): Promise<ImageDataset> {
  if (!opts.download || name === 'synthetic') return loadDatasetSync(name, opts);
  try {
    return loadDatasetSync(name, opts);
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    const dir = opts.dataDir ?? defaultDataDir(name);
    await downloadDataset(name, dir, opts.downloadOptions);
    return loadDatasetSync(name, { ...opts, dataDir: dir });
  }
}

function applySubset(ds: ImageDataset, subset: number | undefined, seed = 0): ImageDataset {
  if (subset === undefined || subset >= ds.n) return ds;
  if (!Number.isInteger(subset) || subset < 1) {
    throw new DataError(`subset must be a positive integer, got ${subset}`, 'pass --subset N with N ≥ 1');
  }
  return selectImages(ds, subsetIndices(ds.n, subset, new Rng(seed)));
}
