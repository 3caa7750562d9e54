/**
 * Where each dataset's files live on disk, where they come from, and the error a user
 * sees when they are not there. Readers ask `resolveFiles`, which either returns full
 * paths or throws a DataError naming every expected file, the official source and the
 * flags (--data-dir, --download).
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataError } from '../errors.js';
import { readEnv } from '../util/env.js';
import type { DatasetName, Split } from './dataset.js';

/** One file fetched by `downloadDataset`. */
export interface RemoteFile {
  /** File name, appended to the dataset's base URL and stored under the download folder. */
  file: string;
  md5: string;
  /** A .tar.gz archive extracted in place after verification. */
  extract: boolean;
}

export interface DatasetSource {
  name: Exclude<DatasetName, 'synthetic'>;
  title: string;
  /** Folder name the files sit in inside a data directory (the data dir may also be that folder itself). */
  subdir: string;
  /** Per split, the logical files; each is a list of accepted names (first one is the canonical one). */
  files: Record<Split, string[][]>;
  baseUrl: string;
  /** Where downloaded files are stored relative to the data dir ('' = the data dir itself). */
  downloadSubdir: string;
  remote: RemoteFile[];
  /** One sentence on how to obtain the files by hand. */
  manual: string;
}

export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR100_URL = 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz';
export const SVHN_URLS = ['http://ufldl.stanford.edu/housenumbers/train_32x32.mat', 'http://ufldl.stanford.edu/housenumbers/test_32x32.mat'];

/** Default folder for Fashion-MNIST when neither --data-dir nor RDARTS_DATA_DIR is given. */
export const FASHION_MNIST_SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';

export const SOURCES: Record<DatasetSource['name'], DatasetSource> = {
  cifar10: {
    name: 'cifar10',
    title: 'CIFAR-10',
    subdir: 'cifar-10-batches-bin',
    files: {
      train: [1, 2, 3, 4, 5].map((i) => [`data_batch_${i}.bin`]),
      test: [['test_batch.bin']],
    },
    baseUrl: 'https://www.cs.toronto.edu/~kriz',
    downloadSubdir: '',
    remote: [{ file: 'cifar-10-binary.tar.gz', md5: 'c32a1d4ab5d03f1284b67883e8d87530', extract: true }],
    manual: `they come from ${CIFAR10_URL} (the binary version, not the Python one); extract it inside the data folder`,
  },
  cifar100: {
    name: 'cifar100',
    title: 'CIFAR-100',
    subdir: 'cifar-100-binary',
    files: { train: [['train.bin']], test: [['test.bin']] },
    baseUrl: 'https://www.cs.toronto.edu/~kriz',
    downloadSubdir: '',
    remote: [{ file: 'cifar-100-binary.tar.gz', md5: '03b5dce01913d631647c71ecec9e9cb8', extract: true }],
    manual: `they come from ${CIFAR100_URL} (the binary version, not the Python one); extract it inside the data folder`,
  },
  svhn: {
    name: 'svhn',
    title: 'SVHN',
    subdir: 'svhn',
    files: { train: [['train_32x32.mat']], test: [['test_32x32.mat']] },
    baseUrl: 'http://ufldl.stanford.edu/housenumbers',
    downloadSubdir: 'svhn',
    remote: [
      { file: 'train_32x32.mat', md5: 'e26dedcc434d2e4c54c9b2d4a06d0373', extract: false },
      { file: 'test_32x32.mat', md5: 'eb5a983be6a315427106f1b69d0a0c6d', extract: false },
    ],
    manual: `they come from ${SVHN_URLS.join(' and ')} (cropped digits, format 2)`,
  },
  'fashion-mnist': {
    name: 'fashion-mnist',
    title: 'Fashion-MNIST',
    subdir: 'fashion-mnist',
    files: {
      train: [
        ['train-images-idx3-ubyte.gz', 'train-images-idx3-ubyte'],
        ['train-labels-idx1-ubyte.gz', 'train-labels-idx1-ubyte'],
      ],
      test: [
        ['t10k-images-idx3-ubyte.gz', 't10k-images-idx3-ubyte'],
        ['t10k-labels-idx1-ubyte.gz', 't10k-labels-idx1-ubyte'],
      ],
    },
    baseUrl: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com',
    downloadSubdir: 'fashion-mnist',
    // Checksums of the original zalando-research release (as listed by torchvision).
    remote: [
      { file: 'train-images-idx3-ubyte.gz', md5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d', extract: false },
      { file: 'train-labels-idx1-ubyte.gz', md5: '25c81989df183df01b3e8a0aad5dffbe', extract: false },
      { file: 't10k-images-idx3-ubyte.gz', md5: 'bef4ecab320f06d8554ea6380940ec79', extract: false },
      { file: 't10k-labels-idx1-ubyte.gz', md5: 'bb300cfdad3c16e7a12a480ee83cd310', extract: false },
    ],
    manual:
      'they come from https://github.com/zalandoresearch/fashion-mnist (gzipped IDX files, also at ' +
      'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/); uncompressed IDX files are accepted too',
  },
};

/**
 * The data folder used when none is given: RDARTS_DATA_DIR, else ./data
 * (Fashion-MNIST: /usr/share/datasets/fashion-mnist).
 */
export function defaultDataDir(name: DatasetName): string {
  const env = readEnv().dataDir;
  if (env) return resolve(env);
  return name === 'fashion-mnist' ? FASHION_MNIST_SYSTEM_DIR : resolve('data');
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** For each logical file, the first accepted name present in `folder`, or undefined. */
function findIn(folder: string, logical: string[][]): (string | undefined)[] {
  return logical.map((alts) => alts.map((a) => join(folder, a)).find(isFile));
}

/**
 * Full paths of a split's files. `dir` may be the dataset's own folder or a parent holding
 * it under `source.subdir`. Throws a DataError listing every expected file when any is missing.
 */
export function resolveFiles(source: DatasetSource, dir: string, split: Split): string[] {
  const root = resolve(dir);
  const logical = source.files[split];
  const candidates = [root, join(root, source.subdir)];
  for (const folder of candidates) {
    const found = findIn(folder, logical);
    if (found.every((f) => f !== undefined)) return found as string[];
  }
  // Report against the folder that holds the most files (or the canonical subfolder).
  let best = join(root, source.subdir);
  let bestCount = -1;
  for (const folder of candidates) {
    const c = findIn(folder, logical).filter((f) => f !== undefined).length;
    if (c > bestCount) {
      best = folder;
      bestCount = c;
    }
  }
  if (bestCount === 0) best = join(root, source.subdir);
  throw missingFilesError(source, root, best, split);
}

export function missingFilesError(source: DatasetSource, root: string, folder: string, split: Split): DataError {
  const found = findIn(folder, source.files[split]);
  const list = source.files[split]
    .map((alts, i) => {
      const p = join(folder, alts[0]!);
      const alt = alts.length > 1 ? ` (or ${alts.slice(1).join(', ')})` : '';
      return `${p}${alt}${found[i] ? '' : ' [missing]'}`;
    })
    .join(', ');
  const folderNote = existsSync(root) ? '' : ` The folder ${root} does not exist.`;
  const msg =
    `${source.title} ${split} split not found: expected ${list}.${folderNote} ` +
    `The data folder may be ${source.subdir}/ itself or its parent. ${capitalise(source.manual)}. ` +
    `Point at them with --data-dir DIR, or pass --download to fetch and verify them into the data folder.`;
  return new DataError(msg, hintFor(source));
}

export function hintFor(source: DatasetSource): string {
  return `pass --data-dir DIR (the folder holding ${source.subdir}/, or that folder itself), or --download to fetch ${source.remote
    .map((r) => `${source.baseUrl}/${r.file}`)
    .join(', ')} with MD5 verification`;
}

/** DataError for a file that exists but is truncated or malformed. */
export function malformedFileError(source: DatasetSource | undefined, file: string, problem: string): DataError {
  const from = source ? ` ${capitalise(source.manual)}.` : '';
  return new DataError(
    `${file}: ${problem}.${from} Delete the file and fetch it again (--download verifies the checksum).`,
    source ? hintFor(source) : 'replace the file with an intact copy',
  );
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
